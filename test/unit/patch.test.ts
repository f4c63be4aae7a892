import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parsePod } from '@killtrace/parsers';
import type { RestartRecord } from '@killtrace/schemas';
import { runAnalysis } from '../../services/cli/src/run-analysis.js';
import { startupProbeKill, writeScenario } from '../scenarios/catalog.js';
import { strategicMerge } from './strategic-merge.js';

/**
 * A fix that applies (issue 13): each record's `killtrace.recommendation.patch` is applied, as the API server would
 * (test/unit/strategic-merge.ts), to the owning workload built from the bundle's pod (its pod template is the pod's
 * spec: the bundles hold pods, not their controllers), and the result must validate: the container keeps everything
 * else, its startupProbe has exactly one handler and the recommended budget, and Killtrace's own pod parser reads it.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The controller object the pod was made from: its template is the pod's metadata labels and spec. */
function workloadOf(podsFile: string, podName: string, kind: string, name: string): { [key: string]: Json } {
  const list = JSON.parse(readFileSync(podsFile, 'utf8')) as { items: Array<{ metadata: { name: string; namespace: string; labels?: Record<string, string> }; spec: Json }> };
  const pod = list.items.find((p) => p.metadata.name === podName);
  if (!pod) throw new Error(`no pod ${podName}`);
  return { apiVersion: 'apps/v1', kind, metadata: { name, namespace: pod.metadata.namespace }, spec: { selector: { matchLabels: pod.metadata.labels ?? {} }, template: { metadata: { labels: pod.metadata.labels ?? {} }, spec: pod.spec } } };
}

const HANDLERS = ['httpGet', 'tcpSocket', 'exec', 'grpc'];

/** What the API server's validation of a probe checks (ValidateProbe: one handler, positive counts). */
function validProbe(probe: Json | undefined): string[] {
  const problems: string[] = [];
  if (typeof probe !== 'object' || probe === null || Array.isArray(probe)) return ['not an object'];
  const handlers = HANDLERS.filter((h) => probe[h] !== undefined);
  if (handlers.length !== 1) problems.push(`${handlers.length} handlers`);
  for (const f of ['periodSeconds', 'failureThreshold', 'timeoutSeconds']) {
    const v = probe[f];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 1)) problems.push(`${f} ${String(v)}`);
  }
  return problems;
}

function applyAndCheck(record: RestartRecord, workload: { [key: string]: Json }, list: 'containers' | 'initContainers' = 'containers'): { [key: string]: Json } {
  const patch = record.killtrace.recommendation.patch;
  expect(patch?.strategic_merge_patch).toBeTruthy();
  const smp = JSON.parse(patch?.strategic_merge_patch ?? 'null') as Json;
  // The kubectl command carries the same patch, for the right object.
  const command = patch?.kubectl ?? '';
  expect(command).toMatch(new RegExp(`^kubectl patch ${String(workload.kind).toLowerCase()} ${String((workload.metadata as { name: string }).name)} -n ${record.kubernetes.namespace} --type strategic -p '`));
  expect(JSON.parse(command.slice(command.indexOf("-p '") + 4, -1))).toEqual(smp);
  // The kustomize file is the same patch with the object's identity.
  const kustomize = parseYaml(patch?.kustomize ?? '') as { [key: string]: Json };
  expect(kustomize).toEqual({ apiVersion: workload.apiVersion, kind: workload.kind, metadata: workload.metadata, ...(smp as object) });
  const patched = strategicMerge(workload, smp) as { [key: string]: Json };
  const before = ((workload.spec as { template: { spec: { [k: string]: Json[] } } }).template.spec[list] ?? []) as Array<{ [k: string]: Json }>;
  const after = ((patched.spec as { template: { spec: { [k: string]: Json[] } } }).template.spec[list] ?? []) as Array<{ [k: string]: Json }>;
  expect(after.map((c) => c.name)).toEqual(before.map((c) => c.name));
  const name = record.kubernetes.container.name;
  const changed = after.find((c) => c.name === name);
  const original = before.find((c) => c.name === name);
  expect(validProbe(changed?.startupProbe)).toEqual([]);
  // Nothing else about the container changed.
  const { startupProbe: _new, ...rest } = changed ?? {};
  const { startupProbe: _old, ...restBefore } = original ?? {};
  expect(rest).toEqual(restBefore);
  // The Helm fragment holds the same probe fields (Helm merges a values map into the chart's defaults too).
  const helm = (parseYaml(patch?.helm_values ?? '') as { startupProbe: { [k: string]: Json } }).startupProbe;
  expect(Object.keys(helm).length).toBeGreaterThan(1);
  expect(changed?.startupProbe).toMatchObject(helm);
  expect(patch?.helm_values).toContain('chart that deploys');
  expect(patch?.helm_values).toContain('is unknown');
  return patched;
}

describe('killtrace.recommendation.patch', () => {
  it('adds the startupProbe to the host agent DaemonSet, repeating the liveness check, with the recommended budget', async () => {
    const dir = join(import.meta.dirname, '../../examples/host-agent-crashloop');
    const result = await runAnalysis({ dir, clusterName: 'test' });
    const record = result.records.find((r) => r.kubernetes.pod.name === 'default-host-x7k2p' && r.killtrace.restart.count === 6);
    if (!record) throw new Error('no record');
    const patched = applyAndCheck(record, workloadOf(join(dir, 'pods.json'), 'default-host-x7k2p', 'DaemonSet', 'default-host'));
    const template = (patched.spec as { template: { metadata: Json; spec: Json } }).template;
    // The patched template read back by Killtrace's own pod parser: the startupProbe it now has allows 5 min.
    const pod = parsePod({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'from-template', namespace: 'onecloud', uid: 'u1', ...(template.metadata as object) }, spec: template.spec }).signal?.pod;
    const host = pod?.containers.find((c) => c.name === 'host');
    expect(host?.startup).toMatchObject({ handler: 'http', target: 'GET :8885/ping', periodSeconds: 5, failureThreshold: 60, timeoutSeconds: 1 });
    expect((host?.startup?.periodSeconds ?? 0) * (host?.startup?.failureThreshold ?? 0)).toBe(300);
    expect(host?.liveness).toEqual(pod?.containers.find((c) => c.name === 'host')?.liveness);
  });

  it('raises the failureThreshold of an existing startupProbe of a StatefulSet, keeping its exec check', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'killtrace-patch-'));
    dirs.push(dir);
    writeScenario(dir, startupProbeKill());
    const result = await runAnalysis({ dir, clusterName: 'test' });
    const record = result.records.find((r) => r.kubernetes.pod.name === 'ledger-0');
    if (!record) throw new Error('no record');
    expect(record.killtrace.recommendation.patch?.kind).toBe('StatefulSet');
    const rec = record.killtrace.recommendation.startup_probe;
    const patched = applyAndCheck(record, workloadOf(join(dir, 'pods.json'), 'ledger-0', 'StatefulSet', 'ledger'));
    const postgres = ((patched.spec as { template: { spec: { containers: Array<{ [k: string]: Json }> } } }).template.spec.containers).find((c) => c.name === 'postgres');
    expect(postgres?.startupProbe).toMatchObject({ exec: { command: ['/bin/sh', '-c', 'pg_isready -h 127.0.0.1 -p 5432'] }, periodSeconds: rec?.period_seconds, failureThreshold: rec?.failure_threshold });
  });

  it('removes nothing and keeps list order when merging (the merge implementation itself)', () => {
    const original: Json = { spec: { containers: [{ name: 'a', image: 'x', env: [{ name: 'A', value: '1' }] }, { name: 'b', image: 'y' }] } };
    expect(strategicMerge(original, { spec: { containers: [{ name: 'b', image: 'z' }, { name: 'c', image: 'w' }] } })).toEqual({ spec: { containers: [{ name: 'a', image: 'x', env: [{ name: 'A', value: '1' }] }, { name: 'b', image: 'z' }, { name: 'c', image: 'w' }] } });
    expect(strategicMerge(original, { spec: { containers: [{ name: 'a', $patch: 'delete' }] } })).toEqual({ spec: { containers: [{ name: 'b', image: 'y' }] } });
    expect(strategicMerge({ a: { b: 1, c: 2 } }, { a: { b: null } })).toEqual({ a: { c: 2 } });
    expect(strategicMerge({ args: ['x', 'y'] }, { args: ['z'] })).toEqual({ args: ['z'] });
  });
});
