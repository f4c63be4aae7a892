import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';

/**
 * Renders Killtrace's install manifests with the real tools (Helm and kustomize, built by scripts/tools.sh into
 * ~/.cache/killtrace/tools), for the policy and equivalence tests and for applying them to a real API server.
 */

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CHART_DIR = join(ROOT, 'deploy/helm/killtrace');
export const OVERLAYS_DIR = join(ROOT, 'deploy/kubernetes/overlays');
/** The namespace every rendering targets (the overlays set it; Helm gets it with -n). */
export const NAMESPACE = 'killtrace';

/** One rendered Kubernetes object: only what every object has is checked; the rest stays as parsed. */
export const kubeObjectSchema = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: z.looseObject({ name: z.string().min(1), namespace: z.string().optional(), labels: z.record(z.string(), z.string()).optional() }),
});
export type KubeObject = z.infer<typeof kubeObjectSchema>;

export type ToolName = 'helm' | 'kustomize' | 'compose-check';

function cachedTool(name: ToolName): string | undefined {
  try {
    return execFileSync('bash', [join(ROOT, 'scripts/tools.sh'), 'path', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/**
 * The cached binary of a tool, built first when missing (`scripts/tools.sh ensure`, minutes once per version, so
 * `npm test` on a fresh clone works); throws with the build's own error when it cannot be built.
 */
export function toolPath(name: ToolName): string {
  const cached = cachedTool(name);
  if (cached !== undefined) return cached;
  try {
    execFileSync('bash', [join(ROOT, 'scripts/tools.sh'), 'ensure', name], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], timeout: 900_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`${name} is not available and could not be built (bash scripts/tools.sh ensure ${name}): ${stderr.trim().split('\n').slice(-5).join('\n') || (error as Error).message}`);
  }
  const built = cachedTool(name);
  if (built === undefined) throw new Error(`${name}: scripts/tools.sh ensure ${name} succeeded but left no binary`);
  return built;
}

function run(tool: ToolName, args: readonly string[]): string {
  try {
    return execFileSync(toolPath(tool), args, { encoding: 'utf8', cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`${tool} ${args.join(' ')} failed: ${stderr.trim() || (error as Error).message}`);
  }
}

/** Parses a multi-document YAML stream into validated objects (empty documents, as Helm leaves them, dropped). */
export function parseManifests(text: string, source: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const [index, doc] of parseAllDocuments(text).entries()) {
    if (doc.errors.length > 0) throw new Error(`${source}: document ${index + 1} is not valid YAML: ${doc.errors[0]?.message ?? ''}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const parsed = kubeObjectSchema.safeParse(value);
    if (!parsed.success) throw new Error(`${source}: document ${index + 1} is not a Kubernetes object: ${parsed.error.message}`);
    objects.push(parsed.data);
  }
  return objects;
}

export interface HelmOptions {
  /** Files of values, as `-f`, applied before `values`. */
  valueFiles?: readonly string[];
  releaseName?: string;
  namespace?: string;
}

/** `helm template` of the chart with the given values (merged over values.yaml), parsed. */
export function renderHelm(values: Record<string, unknown> = {}, options: HelmOptions = {}): KubeObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'killtrace-helm-'));
  try {
    const file = join(dir, 'values.json');
    writeFileSync(file, JSON.stringify(values));
    const args = ['template', options.releaseName ?? 'killtrace', CHART_DIR, '--namespace', options.namespace ?? NAMESPACE];
    for (const f of options.valueFiles ?? []) args.push('-f', f);
    args.push('-f', file);
    return parseManifests(run('helm', args), `helm template ${CHART_DIR}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The chart's NOTES.txt as `helm install` would print it. Helm renders NOTES only against a cluster, so a copy of
 * the chart wraps the same text in a ConfigMap template for `helm template` (same engine, values and functions).
 */
export function renderHelmNotes(values: Record<string, unknown> = {}, options: HelmOptions = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'killtrace-notes-'));
  try {
    const chart = join(dir, 'killtrace');
    cpSync(CHART_DIR, chart, { recursive: true });
    const notes = readFileSync(join(chart, 'templates/NOTES.txt'), 'utf8');
    writeFileSync(
      join(chart, 'templates/zz-notes.yaml'),
      `{{- define "zz.notes" }}${notes}{{ end }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: zz-notes\ndata:\n  notes: {{ include "zz.notes" . | quote }}\n`,
    );
    const file = join(dir, 'values.json');
    writeFileSync(file, JSON.stringify(values));
    const args = ['template', options.releaseName ?? 'killtrace', chart, '--namespace', options.namespace ?? NAMESPACE, '--show-only', 'templates/zz-notes.yaml'];
    for (const f of options.valueFiles ?? []) args.push('-f', f);
    args.push('-f', file);
    const [configMap] = parseManifests(run('helm', args), 'NOTES.txt');
    const text = (configMap as unknown as { data?: { notes?: unknown } } | undefined)?.data?.notes;
    if (typeof text !== 'string') throw new Error('NOTES.txt rendered to nothing');
    return text;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `helm lint --strict` of the chart with a values file (or the defaults); returns Helm's report, throws on failure. */
export function lintHelm(valueFile?: string): string {
  return run('helm', ['lint', '--strict', CHART_DIR, ...(valueFile === undefined ? [] : ['-f', valueFile])]);
}

/** The chart's values file for an overlay's settings (deploy/helm/killtrace/ci/<overlay>-values.yaml). */
export function overlayValuesFile(overlay: string): string {
  return join(CHART_DIR, 'ci', `${overlay}-values.yaml`);
}

/** `kustomize build` of deploy/kubernetes/overlays/<overlay>, parsed. */
export function renderKustomize(overlay: string): KubeObject[] {
  return renderKustomizeDir(join(OVERLAYS_DIR, overlay));
}

/** `kustomize build` of any kustomization directory (e.g. a user's copy of an overlay), parsed. */
export function renderKustomizeDir(dir: string): KubeObject[] {
  return parseManifests(run('kustomize', ['build', dir]), `kustomize build ${dir}`);
}

/** `kind/namespace/name`, the identity of an object in a rendering. */
export function objectKey(o: KubeObject): string {
  return `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}
