import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBundle } from '@killtrace/bundle';
import { ClusterContext, Correlator, DEFAULT_NODE_CLASS_LABELS } from '@killtrace/correlation';
import { partitionOfKey } from '@killtrace/kafka';
import { mergeProfiles } from '@killtrace/profiles';
import { contextFactSchema, contextKey, nodeContextFact, restartRecordId, signalKey, type RestartRecord, type Signal } from '@killtrace/schemas';
import { runAnalysis } from '../../services/cli/src/run-analysis.js';

/**
 * History across partitions (issue 8, decision 0017): cores that each hold a share of a workload's pods, sharing a
 * ClusterContext of per-pod init observations, placements and node labels, give exactly `killtrace analyze`'s
 * records, expected_seconds, recommendation and node classes included.
 */

const EXAMPLE = join(import.meta.dirname, '../../examples/host-agent-crashloop');
const PARTITIONS = 3;

/** The bundle's signals, kubelet lines given their pod's uid as the node agent does (test/e2e/harness.ts bundleSignals). */
async function signals(): Promise<Signal[]> {
  const out: Signal[] = [];
  await readBundle({ paths: [EXAMPLE], onSignal: (s) => void out.push(s) });
  const uids = new Map<string, string>();
  for (const s of out) if (s.kind === 'pod') uids.set(`${s.pod.namespace}/${s.pod.name}`, s.pod.uid);
  return out.map((s) => {
    const uid = s.kind === 'kubelet' && s.pod.uid === undefined ? uids.get(`${s.pod.namespace}/${s.pod.name}`) : undefined;
    return s.kind === 'kubelet' && uid !== undefined ? { ...s, pod: { ...s.pod, uid } } : s;
  });
}

function byId(records: readonly RestartRecord[]): Map<string, RestartRecord> {
  return new Map(records.map((r) => [restartRecordId(r.kubernetes.pod.uid, r.kubernetes.container.name, r.killtrace.restart.count), r]));
}

/** What the cores publish and the cluster watcher publishes, applied as the context topic's reader would. */
function share(context: ClusterContext, cores: readonly Correlator[], nodes: readonly Signal[]): void {
  for (const n of nodes) if (n.kind === 'node') context.apply(`node/${n.node.name}`, nodeContextFact(n.node.name, n.node.labels, DEFAULT_NODE_CLASS_LABELS));
  for (const core of cores) for (const fact of core.contextFacts()) context.apply(contextKey(fact), contextFactSchema.parse(fact));
}

describe('cluster context across partitions', () => {
  it('gives every partition the whole workload history: records equal killtrace analyze', async () => {
    const all = await signals();
    const expected = (await runAnalysis({ dir: EXAMPLE, clusterName: 'test' })).records;
    const context = new ClusterContext();
    const cores = Array.from({ length: PARTITIONS }, () => new Correlator({ clusterName: 'test', profiles: mergeProfiles([]), context }));
    const nodes = all.filter((s) => s.kind === 'node');
    for (const s of all) if (s.kind !== 'node') cores[partitionOfKey(signalKey(s), PARTITIONS)]?.ingest(s);
    // The DaemonSet's pods are on more than one partition: without the context the crash-looping pod's core lacks
    // the other nodes' init history and classes.
    const holders = new Set(all.filter((s) => s.kind === 'pod').map((s) => partitionOfKey(signalKey(s), PARTITIONS)));
    expect(holders.size).toBeGreaterThan(1);
    const alone = byId(cores.flatMap((c) => c.records()));
    expect(alone.size).toBe(expected.length);
    expect([...alone.values()].some((r) => JSON.stringify(r) !== JSON.stringify(byId(expected).get(restartRecordId(r.kubernetes.pod.uid, r.kubernetes.container.name, r.killtrace.restart.count))))).toBe(true);

    share(context, cores, nodes);
    const got = byId(cores.flatMap((c) => c.records()));
    expect(got).toEqual(byId(expected));
    const killed = expected.filter((r) => r.kubernetes.pod.name === 'default-host-x7k2p');
    expect(killed.length).toBeGreaterThan(0);
    for (const r of killed) {
      expect(r.killtrace.recommendation.per_class?.length).toBe(3);
      expect(got.get(restartRecordId(r.kubernetes.pod.uid, r.kubernetes.container.name, r.killtrace.restart.count))?.killtrace.init.expected_seconds).toBe(r.killtrace.init.expected_seconds);
    }
  });

  it('re-emits a record already polled (even final) when another partition\'s observation arrives later', async () => {
    const all = await signals();
    const expected = byId((await runAnalysis({ dir: EXAMPLE, clusterName: 'test' })).records);
    const context = new ClusterContext();
    const cores = Array.from({ length: PARTITIONS }, () => new Correlator({ clusterName: 'test', profiles: mergeProfiles([]), context }));
    for (const s of all) if (s.kind !== 'node') cores[partitionOfKey(signalKey(s), PARTITIONS)]?.ingest(s);
    const first = new Map<string, RestartRecord>();
    for (const core of cores) for (const u of core.poll(Number.MAX_SAFE_INTEGER, 0)) first.set(u.id, u.record);
    expect([...first.values()].every((r) => r.killtrace.status === 'final')).toBe(true);
    expect(cores.some((c) => c.contextPending())).toBe(false);

    share(context, cores, all.filter((s) => s.kind === 'node'));
    expect(cores.every((c) => c.contextPending())).toBe(true);
    const updated = new Map<string, RestartRecord>();
    for (const core of cores) for (const u of core.poll(Number.MAX_SAFE_INTEGER, 0)) updated.set(u.id, u.record);
    expect(updated.size).toBeGreaterThan(0);
    const latest = new Map([...first, ...updated]);
    const strip = (m: Map<string, RestartRecord>) => new Map([...m].map(([id, r]) => [id, { ...r, killtrace: { ...r.killtrace, status: 'final' as const } }]));
    expect(latest).toEqual(strip(expected));
    // Nothing changes on a second poll: the context is applied once.
    for (const core of cores) expect(core.poll(Number.MAX_SAFE_INTEGER, 0)).toEqual([]);
  });

  it('shares Node objects one partition was given (a bundle replayed into the signals topic) with every other', async () => {
    const all = await signals();
    const expected = byId((await runAnalysis({ dir: EXAMPLE, clusterName: 'test' })).records);
    const context = new ClusterContext();
    const cores = Array.from({ length: PARTITIONS }, () => new Correlator({ clusterName: 'test', profiles: mergeProfiles([]), context }));
    for (const s of all) cores[partitionOfKey(signalKey(s), PARTITIONS)]?.ingest(s);
    share(context, cores, []);
    expect(byId(cores.flatMap((c) => c.records()))).toEqual(expected);
  });

  it('ignores re-read identical facts and removes tombstoned ones', () => {
    const context = new ClusterContext();
    const fact = { kind: 'pod' as const, uid: 'u1', namespace: 'ns', name: 'p', node: 'n', workloads: ['ns/ds/c'], init: [{ workload: 'ns/ds/c', restartCount: 0, seconds: 3 }] };
    expect(context.apply('pod/u1', fact)).toBe(true);
    expect(context.apply('pod/u1', { ...fact })).toBe(false);
    expect(context.version).toBe(1);
    expect(context.apply('pod/other', fact)).toBe(false);
    expect(context.apply('pod/u1', null)).toBe(true);
    expect([...context.podFacts()]).toEqual([]);
  });
});
