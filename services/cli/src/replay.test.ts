import { describe, expect, it } from 'vitest';
import type { Signal } from '@killtrace/schemas';
import { parseSpeed } from './replay-command.js';
import { orderForReplay, replaySchedule } from './replay.js';

describe('replay timing', () => {
  it('keeps the bundle\'s gaps at speed 1, divides them at speed N, and waits for nothing at max', () => {
    const times = [1_000, 1_000, 4_000, 64_000];
    expect(replaySchedule(times, 1)).toEqual([0, 0, 3_000, 63_000]);
    expect(replaySchedule(times, 10)).toEqual([0, 0, 300, 6_300]);
    expect(replaySchedule(times, 0)).toEqual([0, 0, 0, 0]);
    // An idle stretch shrinks to the longest allowed pause; shorter gaps are kept.
    expect(replaySchedule(times, 1, 5_000)).toEqual([0, 0, 3_000, 8_000]);
  });

  it('parses --speed: a positive factor or max', () => {
    expect(parseSpeed('1')).toBe(1);
    expect(parseSpeed('60')).toBe(60);
    expect(parseSpeed('max')).toBe(0);
    expect(() => parseSpeed('0')).toThrow(/positive factor/);
    expect(() => parseSpeed('fast')).toThrow(/KT_ERR|positive factor/);
  });
});

describe('replay order', () => {
  const pod = { kind: 'pod', observedAt: 5_000, pod: { namespace: 'ns', name: 'web-1', uid: 'uid-1', statuses: [] } } as unknown as Signal;
  const kubelet = { kind: 'kubelet', at: 2_000, pod: { namespace: 'ns', name: 'web-1' } } as unknown as Signal;
  const other = { kind: 'kubelet', at: 2_000, pod: { namespace: 'ns', name: 'gone' } } as unknown as Signal;

  it('sorts by event time (stable) and gives kubelet lines the uid of their pod, as the node agent does', () => {
    const ordered = orderForReplay([pod, kubelet, other]);
    expect(ordered.map((o) => o.time)).toEqual([2_000, 2_000, 5_000]);
    expect(ordered[0]?.signal).toMatchObject({ kind: 'kubelet', pod: { name: 'web-1', uid: 'uid-1' } });
    expect(ordered[1]?.signal).toBe(other);
    expect(ordered[2]?.signal).toBe(pod);
  });
});
