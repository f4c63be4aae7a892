import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { imagePaths, imageWorkspaces, workspaces } from '../../deploy/image/image-files.js';
import { ROOT } from '../deploy/render.js';

/**
 * The one Dockerfile against the workspace layout, without an engine (none here): its stages, the service each
 * runtime stage starts, and what deploy/image/image-files.ts copies into an image.
 */

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

interface Stage {
  from: string;
  name: string | undefined;
  body: string[];
}
const stages: Stage[] = [];
for (const line of instructions) {
  const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$/i.exec(line);
  if (from) stages.push({ from: from[1] ?? '', name: from[2], body: [] });
  else stages.at(-1)?.body.push(line);
}
const stage = (name: string): Stage | undefined => stages.find((s) => s.name === name);

const binSchema = z.object({ bin: z.record(z.string(), z.string()) });
const services = readdirSync(join(ROOT, 'services')).filter((d) => existsSync(join(ROOT, 'services', d, 'package.json')));

describe('the shared Dockerfile', () => {
  it('takes SERVICE before the first FROM and ends in the runtime stage it names', () => {
    expect(instructions[0]).toMatch(/^ARG SERVICE(=|$)/);
    expect(stages.at(-1)?.from).toBe('runtime-${SERVICE}');
    expect(stages.map((s) => s.name).slice(0, 3)).toEqual(['build', 'deps', 'runtime-base']);
    expect(stage('deps')?.body).toContain('RUN npm ci --omit=dev --workspace "services/$SERVICE" --ignore-scripts --no-audit --no-fund');
    expect(stages.at(-1)?.body).toEqual(['COPY --from=deps /app/node_modules ./node_modules', 'COPY --from=deps /app/package.json ./package.json', 'COPY --from=build /image/ ./', 'USER node']);
  });

  it('builds every image on Node 24', () => {
    for (const s of stages.filter((s) => !s.from.startsWith('runtime-'))) expect(s.from, s.name).toMatch(/^node:24-/);
  });

  it('has one runtime stage per service, starting the bin its package.json declares', () => {
    const runtimeStages = stages.filter((s) => s.name?.startsWith('runtime-') === true && s.name !== 'runtime-base');
    expect(runtimeStages.map((s) => s.name?.slice('runtime-'.length)).sort()).toEqual([...services].sort());
    for (const s of runtimeStages) {
      expect(s.from, s.name).toBe('runtime-base');
      const service = s.name?.slice('runtime-'.length) ?? '';
      const { bin } = binSchema.parse(JSON.parse(readFileSync(join(ROOT, 'services', service, 'package.json'), 'utf8')));
      const entry = s.body.filter((l) => l.startsWith('ENTRYPOINT '));
      expect(entry, service).toHaveLength(1);
      const [node, script] = z.array(z.string()).parse(JSON.parse(entry[0]?.slice('ENTRYPOINT '.length) ?? '[]'));
      expect(node).toBe('node');
      expect(Object.values(bin).map((b) => `services/${service}/${b.replace(/^\.\//, '')}`)).toContain(script);
      expect(existsSync(join(ROOT, script ?? '')), script).toBe(true);
    }
  });

  it('runs the file list script it names, from a path the build context holds', () => {
    const build = stage('build')?.body.join('\n') ?? '';
    expect(build).toContain('npx tsx deploy/image/image-files.ts "$SERVICE" /image');
    expect(existsSync(join(ROOT, 'deploy/image/image-files.ts'))).toBe(true);
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(ignored).not.toContain('deploy');
  });
});

describe('what an image holds (deploy/image/image-files.ts)', () => {
  it('every package a service imports, with its package.json and files', () => {
    const all = workspaces(ROOT);
    for (const service of services) {
      const held = new Set(imageWorkspaces(ROOT, service).map((w) => w.name));
      // The @killtrace/* packages the service's compiled code imports must be in its image.
      for (const workspace of imageWorkspaces(ROOT, service)) {
        const src = join(ROOT, workspace.dir, 'src');
        const imported = new Set<string>();
        for (const file of readdirSync(src, { recursive: true, encoding: 'utf8' })) {
          if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
          for (const m of readFileSync(join(src, file), 'utf8').matchAll(/from '(@killtrace\/[a-z-]+)'/g)) imported.add(m[1] ?? '');
        }
        for (const name of imported) expect(held.has(name), `${service}: ${workspace.dir} imports ${name}`).toBe(true);
        for (const name of imported) expect(workspace.dependencies, `${workspace.dir}/package.json lacks ${name}`).toContain(name);
      }
      for (const path of imagePaths(ROOT, service)) {
        // dist/ is compiled in the build stage: the workspace's tsconfig must write it there.
        if (path.endsWith('/dist')) {
          const dir = path.slice(0, -'/dist'.length);
          expect(readFileSync(join(ROOT, dir, 'tsconfig.json'), 'utf8'), path).toMatch(/"outDir": "dist"/);
        } else {
          expect(existsSync(join(ROOT, path)), `${service}: ${path}`).toBe(true);
        }
      }
      expect(all.size).toBeGreaterThan(held.size);
    }
  });

  it('the services’ images hold their data files: the API its web page, the CLI and correlator the built-in profiles', () => {
    expect(imagePaths(ROOT, 'api')).toContain('services/api/web');
    for (const service of ['cli', 'correlator']) expect(imagePaths(ROOT, service)).toContain('libs/profiles/builtin');
    expect(imagePaths(ROOT, 'collector')).not.toContain('libs/elastic/dist');
  });
});
