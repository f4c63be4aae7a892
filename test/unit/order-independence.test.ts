import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readBundle } from '@killtrace/bundle';
import { ClusterContext, Correlator } from '@killtrace/correlation';
import { mergeProfiles } from '@killtrace/profiles';
import { contextFactSchema, contextKey, restartRecordId, signalKey, type RestartRecord, type Signal } from '@killtrace/schemas';
import { runAnalysis } from '../../services/cli/src/run-analysis.js';
import { PartitionState } from '../../services/correlator/src/partition-state.js';
import { CATALOG, writeScenario } from '../scenarios/catalog.js';
import { gpuFleetTwoKilled, spreadUids } from '../scenarios/catalog-context.js';
import { KUBELET_CONVENTION_CATALOG } from '../scenarios/catalog-kubelet.js';
import type { Scenario } from '../scenarios/types.js';
import { rng } from '../scenarios/format.js';

/**
 * Order independence, as a property: for every catalog scenario, random interleavings of its signals, split at random
 * across partitions (by pod key, as the collectors partition) and fed in random batches with random flushes, give
 * exactly the records of `killtrace analyze` of the bundle (one partition), or of one uninterrupted core per
 * partition sharing the cluster context (several: decision 0017; the context reaches the stream's partitions at random
 * moments, so records written before it are rewritten). Seeded, so a failure names its seed.
 */

const SEEDS = 12;
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});


function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function partitionOf(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return hash % partitions;
}

const byId = (records: readonly RestartRecord[]): Map<string, RestartRecord> =>
  new Map(records.map((r) => [restartRecordId(r.kubernetes.pod.uid, r.kubernetes.container.name, r.killtrace.restart.count), withoutStatus(r)]));

function withoutStatus(record: RestartRecord): RestartRecord {
  const { status: _status, ...killtrace } = record.killtrace;
  return { ...record, killtrace } as RestartRecord;
}

/** The stream: a PartitionState per partition, random batches of a random interleaving, a flush after some batches. */
function stream(signals: readonly Signal[], partitions: number, profiles: ReturnType<typeof mergeProfiles>, random: () => number): Map<string, RestartRecord> {
  const states = new Map<number, PartitionState>();
  // The cluster context every partition reads (decision 0017), published at random moments as the context channel does.
  const context = new ClusterContext();
  const share = (state: PartitionState): number => {
    let changed = 0;
    for (const fact of state.correlator.contextFacts()) if (context.apply(contextKey(fact), contextFactSchema.parse(fact))) changed += 1;
    return changed;
  };
  const offsets = new Map<number, number>();
  const out = new Map<string, RestartRecord>();
  const flush = (state: PartitionState): void => {
    for (const { id, record } of state.takeFlush().updates) out.set(id, withoutStatus(record));
  };
  const order = shuffled(signals, random);
  for (let i = 0; i < order.length; ) {
    const size = 1 + Math.floor(random() * 40);
    for (const signal of order.slice(i, i + size)) {
      const p = partitionOf(signalKey(signal), partitions);
      let state = states.get(p);
      if (!state) {
        state = new PartitionState({ partition: p, topics: ['signals'], correlator: { clusterName: 'test', profiles, context }, stateWindowMs: 365 * 86_400_000, allowedLatenessMs: 30_000, evictEveryMs: 60_000 });
        state.planned({ ranges: new Map() });
        states.set(p, state);
      }
      const offset = offsets.get(p) ?? 0;
      offsets.set(p, offset + 1);
      state.ingest('signals', offset, Number.NaN, signal, 'live');
    }
    i += size;
    for (const state of states.values()) {
      state.afterBatch('signals', offsets.get(state.partition) ?? 0);
      if (random() < 0.3) share(state);
      if (random() < 0.5) flush(state);
    }
  }
  // As the context channel does, round after round: a fact can change what another partition publishes (kills
  // whose initializing depends on the learned sequence other pods' sightings give).
  for (let round = 0; round < 5; round += 1) {
    let changed = 0;
    for (const state of states.values()) changed += share(state);
    for (const state of states.values()) if (state.needsFlush()) flush(state);
    if (changed === 0) break;
  }
  return out;
}

const scenarios: Array<[string, () => Scenario]> = [
  ...Object.entries(CATALOG),
  ...Object.entries(KUBELET_CONVENTION_CATALOG),
  // Two killed pods of one profile-less DaemonSet: the what-if and learned steps come through the context's kills and sightings.
  ['gpu-fleet-two-killed', () => gpuFleetTwoKilled(spreadUids(3, partitionOf))],
];

describe.each(scenarios)('order independence: %s', (name, make) => {
  it(`gives the records of killtrace analyze for ${SEEDS} random interleavings, partitionings and batchings`, async () => {
    const dir = mkdtempSync(join(tmpdir(), `killtrace-order-${name}-`));
    dirs.push(dir);
    const scenario = make();
    writeScenario(dir, scenario);
    const profiles = mergeProfiles(scenario.profiles ?? []);
    const analyzed = byId((await runAnalysis({ dir, clusterName: 'test', profiles: scenario.profiles ?? [] })).records);
    expect(analyzed.size).toBeGreaterThan(0);
    const signals: Signal[] = [];
    await readBundle({ paths: [dir], onSignal: (s) => void signals.push(s) });

    for (let seed = 1; seed <= SEEDS; seed += 1) {
      const random = rng(seed);
      const partitions = seed % 3 === 0 ? 1 + Math.floor(random() * 4) : 1;
      let expected = analyzed;
      if (partitions > 1) {
        // Kubelet lines without a uid are keyed namespace/name and may land apart from their pod; the workload
        // history and node classes do not depend on partitioning (the cores share the cluster context).
        const context = new ClusterContext();
        const cores = new Map<number, Correlator>();
        for (const signal of signals) {
          const p = partitionOf(signalKey(signal), partitions);
          let core = cores.get(p);
          if (!core) cores.set(p, (core = new Correlator({ clusterName: 'test', profiles, context })));
          core.ingest(signal);
        }
        for (let round = 0; round < 5; round += 1) {
          let changed = 0;
          for (const core of cores.values()) core.records();
          for (const core of cores.values()) for (const fact of core.contextFacts()) if (context.apply(contextKey(fact), contextFactSchema.parse(fact))) changed += 1;
          if (changed === 0) break;
        }
        expected = byId([...cores.values()].flatMap((c) => c.records()));
      }
      const streamed = stream(signals, partitions, profiles, random);
      expect([...streamed.keys()].sort(), `${name}, seed ${seed}, ${partitions} partition(s): record ids`).toEqual([...expected.keys()].sort());
      for (const [id, record] of expected) expect(streamed.get(id), `${name}, seed ${seed}, ${partitions} partition(s): ${id}`).toEqual(record);
    }
  });
});
