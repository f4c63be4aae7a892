import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundle } from '@killtrace/bundle';
import { ClusterContext, Correlator, DEFAULT_NODE_CLASS_LABELS, type WorkloadProbes } from '@killtrace/correlation';
import { partitionOfKey } from '@killtrace/kafka';
import { mergeProfiles } from '@killtrace/profiles';
import { MAX_CONTEXT_LEARNED_CHARS, contextFactSchema, contextKey, contextMessageSchema, nodeContextFact, restartRecordId, signalKey, type PodContext, type RestartRecord, type Signal } from '@killtrace/schemas';
import { runAnalysis } from '../../services/cli/src/run-analysis.js';
import { writeScenario } from '../scenarios/catalog.js';
import { FLEET_NAMESPACE, KILLED_PODS, gpuFleetTwoKilled, spreadUids } from '../scenarios/catalog-context.js';

/**
 * The context topic's workload-wide parts (decision 0017, amended): pod facts carry the pod's probe kills, its
 * incarnations' template sightings and the linter's init durations, so cores that each hold one of two killed
 * pods of a DaemonSet without a step profile give `killtrace analyze`'s records (what-if per node class, learned
 * step, recommendation) and the same probe margins.
 */

const PARTITIONS = 3;
let dir = '';
let all: Signal[] = [];
let expected = new Map<string, RestartRecord>();
let single: Correlator;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kt-context-kills-'));
  writeScenario(dir, gpuFleetTwoKilled(spreadUids(PARTITIONS, partitionOfKey)));
  const signals: Signal[] = [];
  await readBundle({ paths: [dir], onSignal: (s) => void signals.push(s) });
  const uids = new Map<string, string>();
  for (const s of signals) if (s.kind === 'pod') uids.set(`${s.pod.namespace}/${s.pod.name}`, s.pod.uid);
  // Kubelet lines get their pod's uid, as the node agent gives them (test/e2e/harness.ts bundleSignals).
  all = signals.map((s) => {
    const uid = s.kind === 'kubelet' && s.pod.uid === undefined ? uids.get(`${s.pod.namespace}/${s.pod.name}`) : undefined;
    return s.kind === 'kubelet' && uid !== undefined ? { ...s, pod: { ...s.pod, uid } } : s;
  });
  expected = byId((await runAnalysis({ dir, clusterName: 'test' })).records);
  single = new Correlator({ clusterName: 'test', profiles: mergeProfiles([]) });
  for (const s of all) single.ingest(s);
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

function byId(records: readonly RestartRecord[]): Map<string, RestartRecord> {
  return new Map(records.map((r) => [restartRecordId(r.kubernetes.pod.uid, r.kubernetes.container.name, r.killtrace.restart.count), r]));
}

function partitioned(context: ClusterContext): Correlator[] {
  const cores = Array.from({ length: PARTITIONS }, () => new Correlator({ clusterName: 'test', profiles: mergeProfiles([]), context }));
  for (const s of all) if (s.kind !== 'node') cores[partitionOfKey(signalKey(s), PARTITIONS)]?.ingest(s);
  for (const s of all) if (s.kind === 'node') context.apply(`node/${s.node.name}`, nodeContextFact(s.node.name, s.node.labels, DEFAULT_NODE_CLASS_LABELS));
  return cores;
}

/** Publishes every core's facts as the context channel would (through the schema); returns how many changed. */
function share(context: ClusterContext, cores: readonly Correlator[]): number {
  let changed = 0;
  for (const core of cores) for (const fact of core.contextFacts()) if (context.apply(contextKey(fact), contextFactSchema.parse(JSON.parse(JSON.stringify(fact))))) changed += 1;
  return changed;
}

function killedPartitions(): Set<number> {
  return new Set(all.filter((s) => s.kind === 'pod' && (KILLED_PODS as readonly string[]).includes(s.pod.name)).map((s) => partitionOfKey(signalKey(s), PARTITIONS)));
}

function probesOf(list: readonly WorkloadProbes[]): Array<[string, Array<[string, number[]]>]> {
  return list.map((w) => [w.workload, [...w.initByClass].map(([c, s]): [string, number[]] => [c, [...s].sort((a, b) => a - b)]).sort((a, b) => a[0].localeCompare(b[0]))]);
}

describe('kills and learned steps across partitions', () => {
  it('analyses the scenario with learned steps and a what-if over both killed pods (the single-process truth)', () => {
    const killed = [...expected.values()].filter((r) => (KILLED_PODS as readonly string[]).includes(r.kubernetes.pod.name) && r.killtrace.probe_induced);
    expect(new Set(killed.map((r) => r.kubernetes.pod.name)).size).toBe(2);
    expect(killed.every((r) => r.kubernetes.namespace === FLEET_NAMESPACE)).toBe(true);
    expect(killed.filter((r) => r.killtrace.init.step_source === 'learned').length).toBeGreaterThan(0);
    for (const r of killed) expect(r.killtrace.recommendation.what_if?.kills_observed).toBe(killed.length);
    expect(killedPartitions().size).toBe(2);
  });

  it('round-trips a pod fact with kills and sightings through the schema; a fact without them still decodes', () => {
    const context = new ClusterContext();
    const cores = partitioned(context);
    for (const core of cores) core.records();
    const facts = cores.flatMap((c) => c.contextFacts()).filter((f): f is PodContext => f.kind === 'pod');
    const killedFacts = facts.filter((f) => (KILLED_PODS as readonly string[]).includes(f.name));
    expect(killedFacts).toHaveLength(2);
    for (const f of killedFacts) {
      expect(f.kills?.length).toBeGreaterThan(0);
      expect(f.learned?.length).toBeGreaterThan(0);
      expect(f.probeInit?.[0]?.workload).toBe(`${FLEET_NAMESPACE}/default-host/host`);
    }
    for (const f of facts) {
      const message = { v: 1, producer: { component: 'correlator', instance: 'unit' }, fact: f };
      const text = JSON.stringify(message);
      expect(contextMessageSchema.parse(JSON.parse(text))).toEqual(message);
      // Well under Kafka's 1 MB message limit.
      expect(text.length).toBeLessThan(1_000_000 / 2);
    }
    // A fact as correlators before this change wrote it: no kills, learned or probeInit.
    const old = { v: 1, producer: { component: 'correlator', instance: 'old' }, fact: { kind: 'pod', uid: 'u1', namespace: 'ns', name: 'p', node: 'n', workloads: ['ns/ds/c'], init: [] } };
    expect(contextMessageSchema.parse(old).fact).toEqual(old.fact);
    expect(contextFactSchema.safeParse({ ...old.fact, kills: [{ workload: 'ns/ds/c', container: 'c', restartCount: -1, initializing: true }] }).success).toBe(false);
  });

  it('gives killtrace analyze\'s records and probe margins on every partition once the facts are shared', () => {
    const context = new ClusterContext();
    const cores = partitioned(context);
    // Alone, a killed pod's core counts only its own kills.
    const alone = byId(cores.flatMap((c) => c.records()));
    const killedIds = [...expected.values()].filter((r) => (KILLED_PODS as readonly string[]).includes(r.kubernetes.pod.name) && r.killtrace.probe_induced).map((r) => restartRecordId(r.kubernetes.pod.uid, r.kubernetes.container.name, r.killtrace.restart.count));
    expect(killedIds.some((id) => alone.get(id)?.killtrace.recommendation.what_if?.kills_observed !== expected.get(id)?.killtrace.recommendation.what_if?.kills_observed)).toBe(true);
    // Kills depend on the learned sequence (initializing), which depends on the shared sightings: a few rounds.
    let rounds = 0;
    while (rounds < 5) {
      for (const core of cores) core.records();
      rounds += 1;
      if (share(context, cores) === 0) break;
    }
    expect(rounds).toBeLessThan(5);
    const got = byId(cores.flatMap((c) => c.records()));
    expect(got).toEqual(expected);
    for (const id of killedIds) {
      const r = got.get(id);
      const want = expected.get(id);
      expect(r?.killtrace.recommendation.what_if).toEqual(want?.killtrace.recommendation.what_if);
      expect(r?.killtrace.recommendation.per_class).toEqual(want?.killtrace.recommendation.per_class);
      expect(r?.killtrace.init.step).toBe(want?.killtrace.init.step);
      expect(r?.killtrace.init.step_median_seconds).toBe(want?.killtrace.init.step_median_seconds);
    }
    // The gauge's input: each partition holding a pod of the workload gives one process's entry.
    const want = probesOf(single.workloadProbes());
    expect(want.length).toBeGreaterThan(0);
    for (const core of cores) {
      const mine = probesOf(core.workloadProbes());
      if (mine.length > 0) expect(mine).toEqual(want);
    }
  });

  it('re-emits records already polled (final) under the same id when another partition\'s kills and sightings arrive', () => {
    const context = new ClusterContext();
    const cores = partitioned(context);
    const latest = new Map<string, RestartRecord>();
    const poll = (): number => {
      let n = 0;
      for (const core of cores) for (const u of core.poll(Number.MAX_SAFE_INTEGER, 0)) {
        latest.set(u.id, u.record);
        n += 1;
      }
      return n;
    };
    expect(poll()).toBe(expected.size);
    let rewritten = 0;
    for (let round = 0; round < 5; round += 1) {
      if (share(context, cores) === 0) break;
      rewritten += poll();
    }
    expect(rewritten).toBeGreaterThan(0);
    const strip = (m: Map<string, RestartRecord>) => new Map([...m].map(([id, r]) => [id, { ...r, killtrace: { ...r.killtrace, status: 'final' as const } }]));
    expect(strip(latest)).toEqual(strip(expected));
    for (const core of cores) expect(core.poll(Number.MAX_SAFE_INTEGER, 0)).toEqual([]);
  });

  it('caps a crash-looping pod\'s learned part: its lowest restart counts, within MAX_CONTEXT_LEARNED_CHARS', () => {
    const core = new Correlator({ clusterName: 'test' });
    const pod = { namespace: 'ns', name: 'noisy-0', uid: 'noisy-uid' };
    // 40 incarnations of 96 distinct long lines each: about 1 MB of masked keys in all.
    for (let k = 0; k < 40; k += 1) {
      for (let i = 0; i < 96; i += 1) {
        const word = `step${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}`;
        core.ingest({ kind: 'app_log', at: 1_000_000 * (k + 1) + i * 10, pod, container: 'c', restartCount: k, stream: 'stdout', text: `${word} ${'lorem ipsum dolor sit amet '.repeat(9)}${word}` });
      }
    }
    const fact = core.contextFacts().find((f): f is PodContext => f.kind === 'pod');
    const learned = fact?.learned ?? [];
    expect(learned.length).toBeGreaterThan(0);
    expect(learned.length).toBeLessThan(32);
    expect(learned.map((l) => l.restartCount)).toEqual(learned.map((_, i) => i));
    const keyChars = learned.reduce((n, l) => n + l.sightings.reduce((m, [key]) => m + key.length, 0), 0);
    expect(keyChars).toBeLessThanOrEqual(MAX_CONTEXT_LEARNED_CHARS);
    expect(JSON.stringify(fact).length).toBeLessThan(500_000);
  });
});
