import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBundle } from '@killtrace/bundle';
import { Correlator } from '@killtrace/correlation';
import { runAnalysis } from '../../services/cli/src/run-analysis.js';
import { accuracy, describeAccuracy, initError, learnCases, measureLearnAccuracy } from '../scenarios/learn-accuracy.js';

/**
 * Learned init steps against step profiles and the simulator (issue 13): every catalog scenario and both examples are
 * analysed with their profiles and with none (test/scenarios/learn-accuracy.ts, also printed by `npm run bench --
 * --only learn`); the learned step at each kill must be the profile's step (the profile step whose start pattern
 * the learned template matches) and the learned init duration the profile's ready line's. Prints and asserts both.
 */

describe('learned init steps', () => {
  it('match the profiles and the simulator over the catalog and both examples: step at kill >= 90 %, init within max(1 s, 10 %)', async () => {
    const a = await measureLearnAccuracy(learnCases(join(import.meta.dirname, '../../examples')));
    console.log(describeAccuracy(a).join('\n'));
    expect(a.cases).toEqual(expect.arrayContaining(['host-agent-crashloop', 'oom-crash-loop', 'examples/host-agent-crashloop', 'examples/shop-inventory-mixed']));
    expect(a.invalid).toEqual([]);
    expect(a.steps.length).toBeGreaterThanOrEqual(9);
    expect(accuracy(a.steps)).toBeGreaterThanOrEqual(0.9);
    expect(a.truthSteps.length).toBeGreaterThanOrEqual(20);
    expect(accuracy(a.truthSteps)).toBeGreaterThanOrEqual(0.9);
    // The learned end of init is the last init line, not the next line after a quiet gap (a heartbeat) or the kill.
    expect(a.init.length).toBeGreaterThanOrEqual(4);
    expect(initError(a.init).withinTolerance).toBe(1);
    expect(a.truthInit.length).toBeGreaterThanOrEqual(8);
    expect(initError(a.truthInit).withinTolerance).toBe(1);
  });

  it('end the CPU host agent\'s init at its last init line, not at its first heartbeat 30 s later', async () => {
    const correlator = new Correlator({ clusterName: 'test', profiles: [] });
    await readBundle({ paths: [join(import.meta.dirname, '../../examples/host-agent-crashloop')], onSignal: (signal) => correlator.ingest(signal) });
    const cpu = correlator.initDurations().filter((d) => d.nodeClass === 'instance-type=m6a.8xlarge');
    expect(cpu).toHaveLength(1);
    expect(cpu[0]?.source).toBe('learned');
    // `Start host service on :8885` at 12.7 s (the profile's ready line); `sync host status ... (seq 1)` came at 42.7 s.
    expect(cpu[0]?.seconds).toBeCloseTo(12.7, 1);
  });

  it('name a learned step, with its usual duration, in the GPU host agent example without its profile', async () => {
    const result = await runAnalysis({ dir: join(import.meta.dirname, '../../examples/host-agent-crashloop'), clusterName: 'test', builtinProfiles: false });
    const withLogs = result.records.filter((r) => r.kubernetes.pod.name === 'default-host-x7k2p' && r.killtrace.restart.count >= 5);
    expect(withLogs).toHaveLength(2);
    for (const r of withLogs) {
      expect(r.killtrace.init.step_source).toBe('learned');
      expect(r.killtrace.init.step).toBe('bind <*> <*> to vfio-pci');
      expect(r.killtrace.init.profile).toBeNull();
      // gpu-node-2 bound its one GPU in 14.8 s: the only incarnation that reached ready through that step.
      expect(r.killtrace.init.step_median_seconds).toBeCloseTo(14.9, 1);
      expect(r.message).toContain('step `bind <*> <*> to vfio-pci` had run');
      expect(r.message).toContain('it usually takes');
    }
  });

  it('name learned steps in the shop example, including a step the incarnations that reached ready never logged', async () => {
    const result = await runAnalysis({ dir: join(import.meta.dirname, '../../examples/shop-inventory-mixed'), clusterName: 'test', builtinProfiles: false });
    const step = (pod: string, count: number): [string | null | undefined, string | null] | undefined => {
      const r = result.records.find((x) => x.kubernetes.pod.name === pod && x.killtrace.restart.count === count);
      return r ? [r.killtrace.init.step_source, r.killtrace.init.step] : undefined;
    };
    // The OOM-killed incarnation was warming its cache; the incarnations that reached ready skipped that (lazy mode).
    expect(step('inventory-7d5f8b9c6-r5m2j', 0)).toEqual(['learned', 'warming product cache']);
    // The crash loop exits while connecting to its database (the incarnations whose logs were kept).
    expect(step('orders-6d5c4b3a2-n4f7d', 3)).toEqual(['learned', 'connecting to database']);
    expect(step('orders-6d5c4b3a2-n4f7d', 4)).toEqual(['learned', 'connecting to database']);
  });

  it('let a matching profile win over learning', async () => {
    const result = await runAnalysis({ dir: join(import.meta.dirname, '../../examples/host-agent-crashloop'), clusterName: 'test' });
    const r = result.records.find((x) => x.kubernetes.pod.name === 'default-host-x7k2p' && x.killtrace.restart.count === 6);
    expect(r?.killtrace.init.step_source).toBe('profile');
    expect(r?.killtrace.init.step).toBe('gpu-vfio-bind');
  });
});
