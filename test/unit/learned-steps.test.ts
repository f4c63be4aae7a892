import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinProfiles, mergeProfiles } from '@killtrace/profiles';
import { restartRecordSchema, type RestartRecord, type StepProfile } from '@killtrace/schemas';
import { templateRegex } from '../../services/cli/src/profile-suggest.js';
import { runAnalysis } from '../../services/cli/src/run-analysis.js';
import { CATALOG, writeScenario } from '../scenarios/catalog.js';
import { KUBELET_CONVENTION_CATALOG } from '../scenarios/catalog-kubelet.js';
import type { Scenario } from '../scenarios/types.js';

/**
 * Learned init steps against step profiles (issue 13): every catalog scenario whose analysis names a step through a
 * profile is analysed again with no profile at all, and the learned step at each kill must be the profile's step:
 * the profile step whose start pattern the learned step's template matches. Prints and asserts the accuracy.
 */

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const key = (r: RestartRecord): string => `${r.kubernetes.pod.uid}/${r.kubernetes.container.name}/${r.killtrace.restart.count}`;

/** The profile step a learned step stands for: the one whose start pattern its template matches. */
function profileStepOf(profiles: readonly StepProfile[], profileName: string, learned: string): string | undefined {
  const profile = profiles.find((p) => p.name === profileName);
  return profile?.steps.find((s) => new RegExp(s.start).test(learned))?.name;
}

const scenarios: Array<[string, () => Scenario]> = [...Object.entries(CATALOG), ...Object.entries(KUBELET_CONVENTION_CATALOG)];

describe('learned init steps', () => {
  it('name the profile step at the kill in at least 90 % of the profiled catalog kills, without any profile', async () => {
    let compared = 0;
    let equal = 0;
    const misses: string[] = [];
    const perScenario: string[] = [];
    for (const [name, make] of scenarios) {
      const scenario = make();
      const dir = mkdtempSync(join(tmpdir(), `killtrace-learn-${name}-`));
      dirs.push(dir);
      writeScenario(dir, scenario);
      const profiles = mergeProfiles(scenario.profiles ?? [], builtinProfiles());
      const withProfile = await runAnalysis({ dir, clusterName: 'test', profiles: scenario.profiles ?? [] });
      const profiled = withProfile.records.filter((r) => r.killtrace.init.step_source === 'profile' && r.killtrace.init.step !== null);
      if (profiled.length === 0) continue;
      const learned = await runAnalysis({ dir, clusterName: 'test', builtinProfiles: false });
      for (const r of learned.records) expect(() => restartRecordSchema.parse(r)).not.toThrow();
      const byKey = new Map(learned.records.map((r) => [key(r), r]));
      let ok = 0;
      for (const r of profiled) {
        compared += 1;
        const l = byKey.get(key(r));
        const step = l?.killtrace.init.step_source === 'learned' && l.killtrace.init.step !== null ? profileStepOf(profiles, r.killtrace.init.profile ?? '', l.killtrace.init.step) : undefined;
        if (step === r.killtrace.init.step) ok += 1;
        else misses.push(`${name} ${key(r)}: profile ${r.killtrace.init.step}, learned ${l?.killtrace.init.step ?? 'none'}`);
      }
      equal += ok;
      perScenario.push(`${name}: ${ok}/${profiled.length}`);
    }
    const accuracy = compared === 0 ? 0 : equal / compared;
    console.log(`learned-step accuracy: ${equal}/${compared} = ${(accuracy * 100).toFixed(1)} % (${perScenario.join('; ')})${misses.length > 0 ? `\nmisses:\n${misses.join('\n')}` : ''}`);
    expect(compared).toBeGreaterThanOrEqual(5);
    expect(accuracy).toBeGreaterThanOrEqual(0.9);
  });

  it('name the step the simulator says was in progress, for every terminated incarnation with a log, in at least 90 %', async () => {
    // Ground truth: the simulator marks the line that starts each step; the learned step (a template) must match it.
    let compared = 0;
    let equal = 0;
    const misses: string[] = [];
    for (const [name, make] of scenarios) {
      const scenario = make();
      const dir = mkdtempSync(join(tmpdir(), `killtrace-truth-${name}-`));
      dirs.push(dir);
      const sim = writeScenario(dir, scenario);
      const result = await runAnalysis({ dir, clusterName: 'test', builtinProfiles: false });
      for (const t of sim.truth) {
        if (t.step === null || !t.evidence.logFile) continue;
        const lines = (scenario.pods.find((p) => p.name === t.pod)?.containers.find((c) => c.name === t.container)?.incarnations ?? []).flatMap((i) => i.log ?? []);
        const start = (lines.find((l) => l.step === t.step)?.text ?? '').replace(/\{\{[^}]*\}\}/g, '');
        const r = result.records.find((x) => x.kubernetes.pod.uid === t.podUid && x.kubernetes.container.name === t.container && x.killtrace.restart.count === t.restartCount);
        const learned = r?.killtrace.init.step_source === 'learned' ? r.killtrace.init.step : null;
        compared += 1;
        if (learned !== null && learned !== undefined && new RegExp(templateRegex(learned)).test(start)) equal += 1;
        else misses.push(`${name} ${t.pod}/${t.container} #${t.restartCount}: truth ${t.step} (${start}), learned ${learned ?? 'none'}`);
      }
    }
    const accuracy = compared === 0 ? 0 : equal / compared;
    console.log(`learned-step accuracy against the simulator's ground truth: ${equal}/${compared} = ${(accuracy * 100).toFixed(1)} %${misses.length > 0 ? `\nmisses:\n${misses.join('\n')}` : ''}`);
    expect(compared).toBeGreaterThanOrEqual(15);
    expect(accuracy).toBeGreaterThanOrEqual(0.9);
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
