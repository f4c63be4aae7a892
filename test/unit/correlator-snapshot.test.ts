import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readBundle } from '@killtrace/bundle';
import { Correlator, type CorrelatorState, type RecordUpdate } from '@killtrace/correlation';
import { mergeProfiles } from '@killtrace/profiles';
import { signalTime, type Signal } from '@killtrace/schemas';
import { correlatorStateSchema } from '../../services/correlator/src/snapshot-schema.js';
import { CATALOG, writeScenario } from '../scenarios/catalog.js';
import { KUBELET_CONVENTION_CATALOG } from '../scenarios/catalog-kubelet.js';
import type { Scenario } from '../scenarios/types.js';

/**
 * Snapshot round trip of the pure core (decision 0016): for every catalog scenario, a core saved after any prefix of
 * its signals, sent through JSON and the snapshot schema, and restored, emits exactly what the uninterrupted core
 * emits for the rest (every poll's updates, in order, with the same provisional/final status), evicts the same
 * pods, and ends with the same records. The cut points: before the first signal, about a dozen spread over the
 * scenario, and after the last.
 */

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const LATENESS_MS = 30_000;

/** JSON and back, then the reader's zod validation: what a snapshot read from Kafka would give. */
function throughSnapshot(state: CorrelatorState): CorrelatorState {
  return correlatorStateSchema.parse(JSON.parse(JSON.stringify(state)));
}

/** Feeds `signals[from..]` with a poll every 5 signals (watermark = newest event time) and returns every poll's output. */
function drive(core: Correlator, signals: readonly Signal[], from: number, start: number): { polls: RecordUpdate[][]; evicted: number[]; watermark: number } {
  let watermark = start;
  const polls: RecordUpdate[][] = [];
  const evicted: number[] = [];
  for (let i = from; i < signals.length; i += 1) {
    const signal = signals[i] as Signal;
    core.ingest(signal);
    watermark = Math.max(watermark, signalTime(signal) ?? watermark);
    if (i % 5 === 4) polls.push(core.poll(watermark, LATENESS_MS));
  }
  polls.push(core.poll(watermark + 3_600_000, LATENESS_MS));
  evicted.push(core.evictBefore(watermark - 60_000));
  polls.push(core.poll(watermark + 7_200_000, LATENESS_MS));
  return { polls, evicted, watermark };
}

const scenarios: Array<[string, () => Scenario]> = [...Object.entries(CATALOG), ...Object.entries(KUBELET_CONVENTION_CATALOG)];

describe.each(scenarios)('core snapshot round trip: %s', (name, make) => {
  it('a restored core emits exactly what the uninterrupted core emits', async () => {
    const dir = mkdtempSync(join(tmpdir(), `killtrace-snapshot-${name}-`));
    dirs.push(dir);
    const scenario = make();
    writeScenario(dir, scenario);
    const profiles = mergeProfiles(scenario.profiles ?? []);
    const signals: Signal[] = [];
    await readBundle({ paths: [dir], onSignal: (s) => void signals.push(s) });
    expect(signals.length).toBeGreaterThan(0);
    const options = { clusterName: 'test', profiles };

    // About 12 cut points per scenario, evenly spread (each cut re-runs the whole scenario twice).
    const step = Math.max(1, Math.floor(signals.length / 12));
    const cuts = [...new Set([0, ...signals.map((_, i) => i).filter((i) => i % step === 0), signals.length])];
    for (const cut of cuts) {
      // The same prefix, polled the same way, in two cores: one goes on, the other is saved and restored.
      const prefix = (core: Correlator): number => {
        let watermark = Number.NEGATIVE_INFINITY;
        for (let i = 0; i < cut; i += 1) {
          const signal = signals[i] as Signal;
          core.ingest(signal);
          watermark = Math.max(watermark, signalTime(signal) ?? watermark);
          if (i % 5 === 4) core.poll(watermark, LATENESS_MS);
        }
        return watermark;
      };
      const uninterrupted = new Correlator(options);
      const watermark = prefix(uninterrupted);
      const saved = new Correlator(options);
      prefix(saved);
      const restored = Correlator.restore(options, throughSnapshot(saved.saveState()));
      expect(restored.stats(), `${name}, cut ${cut}: stats`).toEqual(uninterrupted.stats());

      const expected = drive(uninterrupted, signals, cut, watermark);
      const actual = drive(restored, signals, cut, watermark);
      expect(actual.polls, `${name}, cut ${cut}: updates of every poll`).toEqual(expected.polls);
      expect(actual.evicted, `${name}, cut ${cut}: evictions`).toEqual(expected.evicted);
      expect(restored.records(), `${name}, cut ${cut}: records`).toEqual(uninterrupted.records());
    }
    // The scenario emitted something, so the comparison above compared records, not two empty lists.
    const whole = new Correlator(options);
    expect(drive(whole, signals, 0, Number.NEGATIVE_INFINITY).polls.flat().length).toBeGreaterThan(0);
  }, 60_000);
});

describe('core snapshot: restore refuses a state that does not hold together', () => {
  it('throws on a tracker whose profile index is out of range', () => {
    const state = new Correlator({ clusterName: 'test' }).saveState();
    state.pods.push({
      key: 'u1',
      namespace: 'ns',
      name: 'p',
      uid: 'u1',
      containers: [{ name: 'c', kubelet: [], logs: [[0, { learn: false, marks: [], lineCount: 0, recent: [], seen: [], profile: 3 }]] }],
      events: [],
      podKubelet: [],
    });
    expect(() => Correlator.restore({ clusterName: 'test' }, state)).toThrow(/profile 3/);
  });
});
