import { describe, expect, it } from 'vitest';
import type { EventSignal, PodSignal } from '@killtrace/schemas';
import { ChangeFilter } from './change-filter.js';

const pod = (resourceVersion: string, restartCount: number, observedAt = 1): PodSignal => ({
  kind: 'pod',
  observedAt,
  resourceVersion,
  pod: {
    namespace: 'shop',
    name: 'inventory-1',
    uid: 'uid-1',
    labels: { app: 'inventory' },
    owners: [],
    containers: [],
    statuses: [{ name: 'app', restartCount, ready: true, state: { kind: 'running' } }],
    initStatuses: [],
  },
});

const event = (resourceVersion: string, count: number): EventSignal => ({
  kind: 'event',
  uid: 'ev-1',
  resourceVersion,
  involved: { kind: 'Pod', name: 'inventory-1', uid: 'uid-1' },
  reason: 'BackOff',
  message: '',
  type: 'Warning',
  count,
  lastAt: 1,
});

describe('ChangeFilter', () => {
  it('publishes a pod once per meaningful change, ignoring observation time and version bumps', () => {
    const filter = new ChangeFilter();
    expect(filter.podChanged(pod('1', 0))).toBe(true);
    filter.commitPod(pod('1', 0));
    expect(filter.podChanged(pod('1', 0, 99))).toBe(false);
    expect(filter.podChanged(pod('2', 0, 99))).toBe(false);
    expect(filter.podChanged(pod('3', 1))).toBe(true);
    filter.forgetPod('uid-1');
    expect(filter.podChanged(pod('3', 1))).toBe(true);
  });

  it('publishes an event when new or when its count rises', () => {
    const filter = new ChangeFilter();
    expect(filter.eventChanged(event('1', 1))).toBe(true);
    filter.commitEvent(event('1', 1));
    expect(filter.eventChanged(event('2', 1))).toBe(false);
    expect(filter.eventChanged(event('3', 2))).toBe(true);
    filter.commitEvent(event('3', 2));
    expect(filter.eventChanged(event('3', 2))).toBe(false);
    expect(filter.size()).toEqual({ pods: 0, events: 1 });
  });
});
