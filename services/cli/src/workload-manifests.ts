import { open, readFile } from 'node:fs/promises';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { WorkloadProbes } from '@killtrace/correlation';
import { parsePodSpecContainers } from '@killtrace/parsers';
import { CliError } from './errors.js';

/**
 * Workload manifests as `killtrace lint` input: Deployment, DaemonSet, StatefulSet, ReplicaSet, Job and CronJob
 * objects (YAML or JSON, one or many documents, as `helm template` or `kustomize build` print them, or a List) give
 * their pod templates' probes to the static lint rules. Nothing has run yet, so no init duration is known: only the
 * rules about the probes themselves apply (libs/correlation/src/probe-lint.ts).
 */

/** Where each kind keeps its pod spec. */
const POD_SPEC_PATH: Readonly<Record<string, readonly string[]>> = {
  Deployment: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

const SNIFF_BYTES = 64 * 1024;
/** Manifests are small; a larger file is bundle evidence. */
const MAX_MANIFEST_BYTES = 32 * 1024 * 1024;
// A workload kind anywhere near the start. Pods' ownerReferences name such kinds too, so a hit is only a hint:
// the parse decides (parseWorkloadManifests).
const WORKLOAD_KIND = /(?:^\s*(?:-\s+)?kind:\s*["']?|"kind"\s*:\s*")(?:Deployment|DaemonSet|StatefulSet|ReplicaSet|Job|CronJob)\b/m;

/** The cheap first test: could this text be a workload manifest (rather than logs or an event stream)? */
export function mayBeWorkloadManifest(head: string): boolean {
  return WORKLOAD_KIND.test(head);
}

/**
 * The workload containers of a file when it is a workload manifest, undefined when it is something else (bundle
 * evidence: pods.json, an event stream, logs), told apart by content.
 */
export async function readIfWorkloadManifest(path: string): Promise<WorkloadProbes[] | undefined> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size > MAX_MANIFEST_BYTES) return undefined;
    const buffer = Buffer.alloc(Math.min(size, SNIFF_BYTES));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (!mayBeWorkloadManifest(buffer.subarray(0, bytesRead).toString('utf8'))) return undefined;
  } finally {
    await handle.close();
  }
  return parseWorkloadManifests(await readFile(path, 'utf8'), path);
}

type JsonObject = Record<string, unknown>;
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function invalid(message: string): CliError {
  return new CliError('KT_ERR_CLI_MANIFEST_INVALID', message);
}

function workloadsOf(object: JsonObject, where: string): WorkloadProbes[] {
  const kind = typeof object.kind === 'string' ? object.kind : undefined;
  const path = kind === undefined ? undefined : POD_SPEC_PATH[kind];
  if (path === undefined) return [];
  const metadata = isObject(object.metadata) ? object.metadata : {};
  const name = typeof metadata.name === 'string' && metadata.name.length > 0 ? metadata.name : undefined;
  if (name === undefined) throw invalid(`${where}: ${kind ?? ''} has no metadata.name`);
  const namespace = typeof metadata.namespace === 'string' && metadata.namespace.length > 0 ? metadata.namespace : 'default';
  let podSpec: unknown = object;
  for (const key of path) podSpec = isObject(podSpec) ? podSpec[key] : undefined;
  const what = `${kind ?? ''} ${namespace}/${name}`;
  if (!isObject(podSpec) || !Array.isArray(podSpec.containers) || podSpec.containers.length === 0) {
    throw invalid(`${where}: ${what} has no ${path.join('.')}.containers`);
  }
  const { containers, diagnostics } = parsePodSpecContainers(podSpec, what);
  const [problem] = diagnostics;
  if (problem !== undefined) throw invalid(`${where}: ${problem.message}`);
  return containers
    .filter((c) => c.liveness !== undefined || c.startup !== undefined)
    .map((spec) => ({
      workload: `${namespace}/${kind ?? ''}/${name}/${spec.name}`,
      namespace,
      owner: `${kind ?? ''} ${name}`,
      container: spec.name,
      ...(spec.image === undefined ? {} : { image: spec.image }),
      spec,
      initByClass: new Map<string, number[]>(),
    }));
}

/** A top-level object, or a List's items: what a manifest file holds. */
function topLevelObjects(value: unknown): unknown[] {
  if (isObject(value) && typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items)) return value.items as unknown[];
  return [value];
}

const isWorkload = (v: unknown): boolean => isObject(v) && typeof v.kind === 'string' && POD_SPEC_PATH[v.kind] !== undefined;

/**
 * The workload containers with probes in a manifest text, or undefined when no top-level object is a workload
 * (bundle evidence). Once it is a manifest, anything unreadable throws KT_ERR_CLI_MANIFEST_INVALID naming the file,
 * the document (1-based, with its first line), the List item and the object.
 */
export function parseWorkloadManifests(text: string, file: string): WorkloadProbes[] | undefined {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // Concatenated JSON (a watch stream) or broken JSON: bundle evidence, read by the bundle reader.
      return undefined;
    }
    const items = topLevelObjects(value);
    if (!items.some(isWorkload)) return undefined;
    return items.flatMap((item, i) => workloadsOf(isObject(item) ? item : {}, items.length === 1 && item === value ? file : `${file}: item ${i + 1}`));
  }
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  const values = docs.map((doc) => (doc.errors.length === 0 ? (doc.toJS({ maxAliasCount: 100 }) as unknown) : undefined));
  if (!values.some((v) => topLevelObjects(v).some(isWorkload))) return undefined;
  const out: WorkloadProbes[] = [];
  for (const [index, doc] of docs.entries()) {
    const start = doc.contents?.range[0] ?? doc.range[0];
    const where = `${file}: document ${index + 1} (line ${lines.linePos(start).line})`;
    const [error] = doc.errors;
    if (error !== undefined) throw invalid(`${file}: document ${index + 1} (line ${lines.linePos(error.pos[0]).line}) is not valid YAML or JSON: ${error.message.split('\n')[0] ?? ''}`);
    const value = values[index];
    if (value === null || value === undefined) continue;
    if (!isObject(value) || typeof value.kind !== 'string' || typeof value.apiVersion !== 'string') {
      throw invalid(`${where} is not a Kubernetes object (it needs apiVersion and kind)`);
    }
    const items = topLevelObjects(value);
    for (const [i, item] of items.entries()) {
      const at = item === value ? where : `${where}, item ${i + 1}`;
      if (!isObject(item)) throw invalid(`${at}: not a Kubernetes object`);
      out.push(...workloadsOf(item, at));
    }
  }
  return out;
}

/** Reads workload manifests from standard input (`helm template ... | killtrace lint -`); anything else is an error. */
export async function readStdinManifests(stdin: NodeJS.ReadableStream = process.stdin): Promise<WorkloadProbes[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  const workloads = parseWorkloadManifests(Buffer.concat(chunks).toString('utf8'), 'standard input');
  if (workloads === undefined) throw invalid('standard input: no Deployment, DaemonSet, StatefulSet, ReplicaSet, Job or CronJob in it (bundles are read from files and directories)');
  return workloads;
}
