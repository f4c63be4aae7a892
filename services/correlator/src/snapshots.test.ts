import { describe, expect, it } from 'vitest';
import type { RecordUpdate } from '@killtrace/correlation';
import type { Signal } from '@killtrace/schemas';
import { PartitionState } from './partition-state.js';
import { partitionSnapshotSchema } from './snapshot-schema.js';
import { SnapshotCadence } from './snapshots.js';

const T0 = Date.parse('2026-10-02T06:30:00Z');
const options = { partition: 0, topics: ['signals'], correlator: { clusterName: 'test' }, stateWindowMs: 3_600_000, allowedLatenessMs: 30_000, evictEveryMs: 60_000 };

/** Pod n: a snapshot, three liveness failures, the decision and the kill (kubelet journal), then a later pod update. */
function signalsOf(n: number): Array<{ signal: Signal; at: number }> {
  const pod = { namespace: 'ns', name: `pod-${n}`, uid: `uid-${n}` };
  const at = T0 + n * 20_000;
  const failure = (t: number): Signal => ({ kind: 'kubelet', at: t, action: 'probe_failed', pod, container: 'app', probeType: 'liveness', output: 'timeout', text: 'Probe failed' });
  return [
    {
      at,
      signal: {
        kind: 'pod',
        observedAt: at,
        pod: { ...pod, labels: {}, owners: [], containers: [], statuses: [{ name: 'app', restartCount: 0, ready: true, state: { kind: 'running', startedAt: at } }], initStatuses: [] },
      },
    },
    { at: at + 1_000, signal: failure(at + 1_000) },
    { at: at + 2_000, signal: failure(at + 2_000) },
    { at: at + 3_000, signal: failure(at + 3_000) },
    { at: at + 3_000, signal: { kind: 'kubelet', at: at + 3_000, action: 'kill_decision', pod, container: 'app', output: 'failed liveness probe', text: 'will be restarted' } },
    { at: at + 3_001, signal: { kind: 'kubelet', at: at + 3_001, action: 'killing', pod, container: 'app', gracePeriodSeconds: 30, text: 'Killing container' } },
  ];
}

const input = Array.from({ length: 12 }, (_, n) => signalsOf(n)).flat();

/** Feeds input[from..to) live at offsets = indexes, flushing every 4 messages; returns every flush's updates. */
function feed(state: PartitionState, from: number, to: number, onFlush?: (at: number) => void): RecordUpdate[][] {
  const flushes: RecordUpdate[][] = [];
  for (let offset = from; offset < to; offset += 1) {
    const item = input[offset];
    if (!item) break;
    const acceptance = state.accept('signals', offset);
    if (acceptance === 'hold') throw new Error('unexpected hold');
    state.ingest('signals', offset, item.at, item.signal, acceptance);
    state.afterBatch('signals', to);
    if (offset % 4 === 3 && state.phase === 'live') {
      const take = state.takeFlush();
      flushes.push(take.updates);
      state.flushCommitted(take);
      onFlush?.(offset + 1);
    }
  }
  return flushes;
}

describe('partition state snapshots', () => {
  it('a partition restored from a snapshot and replayed to the commit emits what the uninterrupted one emits', () => {
    const crashAt = input.length - 20;
    for (let snapshotAt = 4; snapshotAt <= crashAt; snapshotAt += 8) {
      // The uninterrupted partition; a snapshot captured at the flush after `snapshotAt` messages.
      const live = new PartitionState(options);
      live.planned({ ranges: new Map() });
      let capture: ReturnType<PartitionState['capture']> | undefined;
      feed(live, 0, crashAt, (next) => {
        if (next === snapshotAt) capture = live.capture();
      });
      const after = feed(live, crashAt, input.length);
      expect(capture, `snapshot at ${snapshotAt}`).toBeDefined();
      if (!capture) continue;
      // Through JSON and the reader's schema, as read back from the snapshots topic.
      const read = partitionSnapshotSchema.parse(JSON.parse(JSON.stringify({ v: 1, groupId: 'g', partition: 0, takenAt: 0, settings: 's', ...capture })));
      const { v: _v, groupId: _g, partition: _p, takenAt: _t, settings: _s, ...restoredCapture } = read;

      const restored = new PartitionState(options);
      const seeks = restored.planned({ ranges: new Map([['signals', { from: read.topics.signals?.next ?? 0, until: crashAt }]]), snapshot: restoredCapture });
      if (snapshotAt < crashAt) expect(seeks.get('signals')).toBe(snapshotAt);
      // Replay (nothing emitted) from the snapshot's offset to the commit, then live.
      for (let offset = snapshotAt; offset < crashAt; offset += 1) {
        const item = input[offset];
        if (!item) break;
        expect(restored.accept('signals', offset)).toBe('replay');
        restored.ingest('signals', offset, item.at, item.signal, 'replay');
        restored.afterBatch('signals', input.length);
      }
      expect(restored.phase).toBe('live');
      expect(feed(restored, crashAt, input.length), `snapshot at ${snapshotAt}`).toEqual(after);
      expect(after.flat().length).toBeGreaterThan(0);
    }
  });

  it('is settled only when everything ingested is committed', () => {
    const state = new PartitionState(options);
    state.planned({ ranges: new Map() });
    const item = input[0];
    if (!item) throw new Error('no input');
    state.ingest('signals', 0, item.at, item.signal, 'live');
    expect(state.settled()).toBe(false);
    state.afterBatch('signals', 1);
    state.flushCommitted(state.takeFlush());
    expect(state.settled()).toBe(true);
  });
});

describe('snapshot cadence', () => {
  it('is due after the interval with input, after N messages, after a replay, and at the final flush', () => {
    const cadence = new SnapshotCadence(60_000, 100);
    cadence.assigned(0, 0);
    expect(cadence.due(0, 120_000)).toBe(false); // nothing read
    cadence.read(0, 10);
    expect(cadence.due(0, 30_000)).toBe(false);
    expect(cadence.due(0, 30_000, true)).toBe(true);
    expect(cadence.due(0, 60_000)).toBe(true);
    cadence.taken(0, 60_000, cadence.pending(0));
    expect(cadence.due(0, 200_000)).toBe(false);
    cadence.read(0, 100);
    expect(cadence.due(0, 60_001)).toBe(true);
    cadence.taken(0, 60_001, 60);
    expect(cadence.pending(0)).toBe(40);
    cadence.replayed(0, 5);
    expect(cadence.due(0, 60_002)).toBe(true);
    expect(cadence.due(1, 1e9)).toBe(false); // not assigned
    cadence.failed(0, 70_000);
    expect(cadence.due(0, 100_000)).toBe(false); // a failed write waits an interval
    expect(cadence.due(0, 130_000)).toBe(true);
  });
});
