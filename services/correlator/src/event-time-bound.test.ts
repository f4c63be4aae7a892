import { describe, expect, it } from 'vitest';
import { checkEventTime } from './event-time-bound.js';
import { PartitionState } from './partition-state.js';
import { decodeCommitClock, decodeCommitMetadata, encodeCommitMetadata } from './watermark.js';

const NOW = Date.parse('2026-12-01T10:00:00Z');

describe('event-time bound', () => {
  it('accepts event times up to the allowed skew ahead of the clock, and any time in the past', () => {
    expect(checkEventTime(NOW + 300_000, NOW, 300_000)).toEqual({ ok: true });
    expect(checkEventTime(NOW - 90 * 86_400_000, NOW, 300_000)).toEqual({ ok: true });
    expect(checkEventTime(Number.NaN, NOW, 0)).toEqual({ ok: true });
  });

  it('refuses a signal dated beyond the skew, saying by how much and which setting allows it', () => {
    const verdict = checkEventTime(Date.parse('2099-01-01T00:00:00Z'), NOW, 300_000);
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    expect(verdict.aheadMs).toBe(Date.parse('2099-01-01T00:00:00Z') - NOW);
    expect(verdict.reason).toContain('event time 2099-01-01T00:00:00.000Z is');
    expect(verdict.reason).toContain("ahead of the correlator's clock (2026-12-01T10:00:00.000Z), more than correlator.maxEventTimeAheadMs (300000 ms)");
  });

  it('keeps the commit clock in the commit metadata, and replays against it', () => {
    const metadata = encodeCommitMetadata(NOW - 5_000, NOW);
    expect(decodeCommitMetadata(metadata)).toBe(NOW - 5_000);
    expect(decodeCommitClock(metadata)).toBe(NOW);
    expect(decodeCommitClock(encodeCommitMetadata(NOW))).toBeUndefined();
    expect(decodeCommitClock('{"v":1,"wm":1}')).toBeUndefined();

    const state = new PartitionState({ partition: 0, topics: ['s', 'l'], correlator: { clusterName: 't' }, stateWindowMs: 1, allowedLatenessMs: 0, evictEveryMs: 1 });
    state.planned({ ranges: new Map([['s', { from: 0, until: 5, clock: NOW }], ['l', { from: 0, until: 5 }]]) });
    const later = NOW + 3_600_000;
    expect(state.boundClock('s', 'replay', later)).toBe(NOW);
    // An older commit without a clock: the clock now.
    expect(state.boundClock('l', 'replay', later)).toBe(later);
    expect(state.boundClock('s', 'live', later)).toBe(later);
  });
});

describe('idle partitions', () => {
  const line = (at: number): Parameters<PartitionState['ingest']>[3] => ({
    kind: 'app_log',
    at,
    pod: { namespace: 'ns', name: 'p', uid: 'u1' },
    container: 'c',
    restartCount: 0,
    stream: 'stdout',
    text: 'x',
  });

  it('follow the clock once nothing was read for the idle timeout and nothing waits', () => {
    const state = new PartitionState({ partition: 0, topics: ['s', 'l'], correlator: { clusterName: 't' }, stateWindowMs: 86_400_000, allowedLatenessMs: 0, evictEveryMs: 60_000 });
    expect(state.planned({ ranges: new Map() }).size).toBe(0);
    const t = Date.parse('2026-10-02T06:30:00Z');
    state.ingest('l', 0, t, line(t), 'live');
    state.afterBatch('l', 1);
    state.noteInput(NOW);
    expect(state.watermark).toBe(t);
    expect(state.idleAdvance(NOW + 29_999, 30_000)).toBe(false);
    expect(state.watermark).toBe(t);
    expect(state.idleAdvance(NOW + 45_000, 30_000)).toBe(true);
    expect(state.watermark).toBe(t + 45_000);
    // Input again: the idle period ends; the watermark never goes back.
    state.ingest('l', 1, t + 1_000, line(t + 1_000), 'live');
    state.afterBatch('l', 2);
    state.noteInput(NOW + 46_000);
    expect(state.watermark).toBe(t + 45_000);
    expect(state.idleAdvance(NOW + 50_000, 30_000)).toBe(false);
    // A backlog is not idleness: the consumer is behind, not the cluster quiet.
    state.afterBatch('l', 10);
    expect(state.idleAdvance(NOW + 500_000, 30_000)).toBe(false);
  });
});
