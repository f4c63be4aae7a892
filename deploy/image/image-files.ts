/**
 * What one service's image needs from the built workspace: the service's package and every @killtrace/* package it
 * depends on (transitively), each as its package.json plus the entries of its `files` field (dist, bin, web,
 * builtin). The shared Dockerfile copies exactly these; test/unit/dockerfile.test.ts checks them against the tree.
 *
 *   tsx deploy/image/image-files.ts SERVICE DEST     copy SERVICE's files below DEST (same relative paths)
 *   tsx deploy/image/image-files.ts SERVICE          print them, one path a line
 */
import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const manifestSchema = z.object({
  name: z.string(),
  files: z.array(z.string()).default([]),
  dependencies: z.record(z.string(), z.string()).default({}),
});

/** A workspace package: its directory relative to the repository root and its manifest. */
export interface Workspace {
  dir: string;
  name: string;
  files: string[];
  dependencies: string[];
}

/** Every workspace of the repository (libs/*, services/*), by package name. */
export function workspaces(root: string): Map<string, Workspace> {
  const found = new Map<string, Workspace>();
  for (const group of ['libs', 'services']) {
    for (const entry of readdirSync(join(root, group), { withFileTypes: true })) {
      const manifestPath = join(root, group, entry.name, 'package.json');
      if (!entry.isDirectory() || !existsSync(manifestPath)) continue;
      const manifest = manifestSchema.parse(JSON.parse(readFileSync(manifestPath, 'utf8')));
      found.set(manifest.name, { dir: `${group}/${entry.name}`, name: manifest.name, files: manifest.files, dependencies: Object.keys(manifest.dependencies) });
    }
  }
  return found;
}

/** The workspaces a service's image holds: the service first, then its workspace dependencies, each once. */
export function imageWorkspaces(root: string, service: string): Workspace[] {
  const all = workspaces(root);
  const start = [...all.values()].find((w) => w.dir === `services/${service}`);
  if (start === undefined) throw new Error(`no service '${service}' (one of: ${[...all.values()].filter((w) => w.dir.startsWith('services/')).map((w) => w.dir.slice('services/'.length)).join(', ')})`);
  const seen = new Map<string, Workspace>();
  const visit = (w: Workspace): void => {
    if (seen.has(w.name)) return;
    seen.set(w.name, w);
    for (const dependency of w.dependencies) {
      const next = all.get(dependency);
      if (next !== undefined) visit(next);
    }
  };
  visit(start);
  return [...seen.values()];
}

/** The paths (files or directories, relative to the root) a service's image copies from the built workspace. */
export function imagePaths(root: string, service: string): string[] {
  return imageWorkspaces(root, service).flatMap((w) => [`${w.dir}/package.json`, ...w.files.map((f) => `${w.dir}/${f.replace(/^\.\//, '').replace(/\/$/, '')}`)]);
}

function main(argv: readonly string[]): number {
  const [service, dest] = argv;
  if (service === undefined) {
    process.stderr.write('usage: image-files.ts SERVICE [DEST]\n');
    return 2;
  }
  const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
  let paths: string[];
  try {
    paths = imagePaths(root, service);
  } catch (error) {
    process.stderr.write(`image-files: ${(error as Error).message}\n`);
    return 2;
  }
  const missing = paths.filter((p) => !existsSync(join(root, p)));
  if (missing.length > 0) {
    process.stderr.write(`image-files: missing (was the workspace built?): ${missing.join(', ')}\n`);
    return 1;
  }
  if (dest === undefined) {
    process.stdout.write(`${paths.join('\n')}\n`);
    return 0;
  }
  for (const p of paths) cpSync(join(root, p), join(dest, p), { recursive: true });
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
