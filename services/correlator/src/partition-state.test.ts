import { describe, expect, it } from 'vitest';
import type { Signal } from '@killtrace/schemas';
import { PartitionState } from './partition-state.js';
import { decodeCommitMetadata, encodeCommitMetadata, partitionWatermark } from './watermark.js';

const S = 'signals';
const L = 'logs';
const T0 = Date.parse('2026-10-02T06:30:00Z');

function state(): PartitionState {
  return new PartitionState({
    partition: 0,
    topics: [S, L],
    correlator: { clusterName: 'test' },
    stateWindowMs: 3_600_000,
    allowedLatenessMs: 30_000,
    evictEveryMs: 60_000,
  });
}

const line = (n: number): Signal => ({
  kind: 'app_log',
  at: T0 + n * 1000,
  pod: { namespace: 'ns', name: 'p', uid: 'u1' },
  container: 'c',
  restartCount: 0,
  stream: 'stdout',
  text: `line ${n}`,
});

describe('partition watermark', () => {
  it('is held back by a topic with a backlog, and is the newest time once both are caught up', () => {
    expect(partitionWatermark([{ maxEventTime: 100, lag: 5 }, { maxEventTime: 300, lag: 0 }])).toBe(100);
    expect(partitionWatermark([{ maxEventTime: 100, lag: 5 }, { maxEventTime: 50, lag: 2 }])).toBe(50);
    expect(partitionWatermark([{ maxEventTime: 100, lag: 0 }, { maxEventTime: 300, lag: 0 }])).toBe(300);
    expect(partitionWatermark([{ maxEventTime: 100, lag: 0 }, { maxEventTime: Number.NEGATIVE_INFINITY, lag: 0 }])).toBe(100);
  });

  it('round-trips through commit metadata and ignores foreign metadata', () => {
    expect(decodeCommitMetadata(encodeCommitMetadata(T0))).toBe(T0);
    expect(decodeCommitMetadata(encodeCommitMetadata(Number.NEGATIVE_INFINITY))).toBeUndefined();
    expect(decodeCommitMetadata('hello')).toBeUndefined();
    expect(decodeCommitMetadata(null)).toBeUndefined();
  });
});

describe('PartitionState', () => {
  it('goes live at once when nothing was committed, and commits what a flush covered', () => {
    const s = state();
    expect(s.planned({ ranges: new Map() }).size).toBe(0);
    expect(s.phase).toBe('live');
    expect(s.accept(L, 0)).toBe('live');
    s.ingest(L, 0, T0, line(0), 'live');
    s.afterBatch(L, 1);
    expect(s.needsFlush()).toBe(true);
    const take = s.takeFlush();
    expect(take.offsets.get(L)).toBe(1);
    s.flushCommitted(take);
    expect(s.needsFlush()).toBe(false);
  });

  it('replays up to the committed offsets without emitting, holding the topic that finishes first', () => {
    const s = state();
    const seeks = s.planned({ ranges: new Map([[S, { from: 0, until: 2 }], [L, { from: 0, until: 3 }]]), watermark: T0 + 2000 });
    expect([...seeks]).toEqual([[S, 0], [L, 0]]);
    expect(s.phase).toBe('replaying');
    for (const n of [0, 1]) {
      expect(s.accept(S, n)).toBe('replay');
      s.ingest(S, n, T0 + n * 1000, undefined, 'replay');
    }
    // signals reached its committed offset before logs: its next message waits
    expect(s.accept(S, 2)).toBe('hold');
    expect(s.held.has(S)).toBe(true);
    for (const n of [0, 1, 2]) {
      expect(s.accept(L, n)).toBe('replay');
      s.ingest(L, n, T0 + n * 1000, line(n), 'replay');
    }
    expect(s.phase).toBe('live');
    // What replay rebuilt was written before the restart: the first flush writes nothing.
    expect(s.takeFlush().updates).toEqual([]);
    expect(s.accept(S, 2)).toBe('live');
  });
});
