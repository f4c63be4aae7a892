import { readBundle } from '@killtrace/bundle';
import { describe, expect, it } from 'vitest';
import { Correlator } from './correlator.js';
import { percentiles, WorkloadHistoryBuilder } from './workload-history.js';

describe('percentiles', () => {
  it('uses nearest rank', () => {
    expect(percentiles([])).toEqual({ count: 0, min: null, p50: null, p90: null, p99: null, max: null });
    expect(percentiles([5, 1, 4, 2, 3, 10, 9, 8, 7, 6])).toEqual({ count: 10, min: 1, p50: 5, p90: 9, p99: 10, max: 10 });
  });
});

describe('WorkloadHistoryBuilder', () => {
  it('recommends from the crash loop: every kill during init, a 5 min startupProbe that avoids all 7', async () => {
    const correlator = new Correlator({ clusterName: 'test', profiles: [] });
    await readBundle({ paths: [new URL('../../../examples/host-agent-crashloop', import.meta.url).pathname], onSignal: (s) => correlator.ingest(s) });
    const builder = new WorkloadHistoryBuilder();
    // Any order: history is a set of records.
    for (const r of correlator.records().reverse()) builder.add(r);
    const h = builder.result();
    expect(h.restarts).toBe(7);
    expect(h.probeKillsDuringInit).toBe(7);
    expect(h.killedDuringInit.count).toBe(7);
    expect(h.killedDuringInit.max).toBeCloseTo(45.426, 3);
    expect(h.currentToleranceSeconds).toBe(45);
    expect(h.recommendation.startupProbe).toEqual({ periodSeconds: 5, failureThreshold: 60, budgetSeconds: 300 });
    expect(h.recommendation.whatIf).toMatchObject({ killsObserved: 7, killsAvoided: 7 });
    expect(h.killsOverTime.reduce((n, b) => n + b.kills, 0)).toBe(7);
    expect(h.initHistogram.reduce((n, b) => n + b.killed, 0)).toBe(7);
    expect(h.firstAt).toBe('2026-10-02T06:30:46.169Z');
    expect(h.lastAt).toBe('2026-10-02T06:45:26.169Z');
  });

  it('has nothing to recommend without kills during init or finished init', () => {
    const h = new WorkloadHistoryBuilder().result();
    expect(h.recommendation.startupProbe).toBeNull();
    expect(h.killsOverTime).toEqual([]);
    expect(h.recommendation.whatIf.killsObserved).toBe(0);
  });
});
