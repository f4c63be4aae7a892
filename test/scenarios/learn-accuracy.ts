/**
 * How well learning without a profile matches the profile and the simulator (issue 13): every catalog scenario with
 * a step profile and both example bundles are read twice, once with the profiles and once with none, and the
 * learned step at each kill and the learned init duration of each incarnation that finished init are compared with
 * the profile's, and with the simulator's ground truth where it has one. Shared by the learn bench
 * (bench/learn.bench.ts) and the unit test that pins the floor (test/unit/learned-steps.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBundle } from '@killtrace/bundle';
import { Correlator, type InitDuration } from '@killtrace/correlation';
import { builtinProfiles, mergeProfiles } from '@killtrace/profiles';
import { restartRecordSchema, type RestartRecord, type StepProfile } from '@killtrace/schemas';
import { templateRegex } from '../../services/cli/src/profile-suggest.js';
import { CATALOG, hostAgentCrashloop, shopInventoryMixed, writeScenario } from './catalog.js';
import { KUBELET_CONVENTION_CATALOG } from './catalog-kubelet.js';
import { simulate, type Simulation } from './simulator.js';
import type { ContainerDesc, Scenario } from './types.js';

export interface LearnCase {
  name: string;
  /** A bundle already on disk (the examples), or a scenario to write to a temporary directory. */
  dir?: string;
  scenario?: Scenario;
}

export interface StepComparison {
  name: string;
  key: string;
  expected: string;
  learned: string | null;
  equal: boolean;
}

export interface InitComparison {
  name: string;
  key: string;
  /** The profile's ready line or, for the truth, the line the simulator marks ready (seconds after start). */
  expected: number;
  learned: number;
  errorSeconds: number;
}

export interface LearnAccuracy {
  cases: string[];
  /** Learned step at each kill a profile names, against the profile's step. */
  steps: StepComparison[];
  /** Learned step at each terminated incarnation with a log, against the simulator's ground truth. */
  truthSteps: StepComparison[];
  /** Learned init duration against the profile's, per incarnation both saw finish init. */
  init: InitComparison[];
  /** Learned init duration against the simulator's ready line. */
  truthInit: InitComparison[];
  /** Records of the runs without profiles that the record schema refuses (`case key: issue`); none expected. */
  invalid: string[];
}

/** Every catalog scenario and both committed example bundles (those without a profile count against the truth only). */
export function learnCases(examplesRoot: string): LearnCase[] {
  const scenarios = [...Object.entries(CATALOG), ...Object.entries(KUBELET_CONVENTION_CATALOG)].map(([name, make]) => ({ name, scenario: make() }));
  // The examples are read as committed; their scenarios (test/scenarios/generate-examples.ts) give the truth.
  return [
    ...scenarios,
    { name: 'examples/host-agent-crashloop', dir: join(examplesRoot, 'host-agent-crashloop'), scenario: hostAgentCrashloop() },
    { name: 'examples/shop-inventory-mixed', dir: join(examplesRoot, 'shop-inventory-mixed'), scenario: shopInventoryMixed() },
  ];
}

interface Analysis {
  records: RestartRecord[];
  init: InitDuration[];
}

async function analyse(dir: string, profiles: readonly StepProfile[]): Promise<Analysis> {
  const correlator = new Correlator({ clusterName: 'learn-accuracy', profiles });
  await readBundle({ paths: [dir], onSignal: (signal) => correlator.ingest(signal) });
  return { records: correlator.records(), init: correlator.initDurations() };
}

const recordKey = (r: RestartRecord): string => `${r.kubernetes.pod.uid}/${r.kubernetes.container.name}/${r.killtrace.restart.count}`;
const initKey = (d: InitDuration): string => `${d.podUid}/${d.workload.split('/').pop() ?? ''}/${d.restartCount}`;

/** The profile step a learned step stands for: the one whose start pattern its template matches. */
function profileStepOf(profiles: readonly StepProfile[], profileName: string, learned: string): string | undefined {
  return profiles.find((p) => p.name === profileName)?.steps.find((s) => new RegExp(s.start).test(learned))?.name;
}

function incarnationOf(c: ContainerDesc, n: number): ContainerDesc['incarnations'][number] | undefined {
  let i = n;
  for (const d of c.incarnations) {
    const r = d.repeat ?? 1;
    if (i < r) return d;
    i -= r;
  }
  return c.incarnations[c.incarnations.length - 1];
}

/** The simulator's ready line per kept log file (`uid/container/restart` to seconds after start). */
function truthReady(sim: Simulation): Map<string, number> {
  const out = new Map<string, number>();
  for (const file of sim.logs) {
    if (!file.kept) continue;
    const [podDir = '', container = ''] = file.dir.split('/');
    const [namespace, pod, uid] = podDir.split('_');
    const desc = sim.scenario.pods.find((p) => p.namespace === namespace && p.name === pod)?.containers.find((c) => c.name === container);
    const ready = desc ? incarnationOf(desc, file.restartCount)?.log?.find((l) => l.ready === true) : undefined;
    // Only an incarnation that lived past its ready line finished init.
    if (ready && file.startedAt + ready.at * 1000 <= file.endedAt) out.set(`${uid ?? ''}/${container}/${file.restartCount}`, ready.at);
  }
  return out;
}

/** Runs the comparison over `cases` (temporary bundles are removed afterwards). */
export async function measureLearnAccuracy(cases: readonly LearnCase[]): Promise<LearnAccuracy> {
  const result: LearnAccuracy = { cases: [], steps: [], truthSteps: [], init: [], truthInit: [], invalid: [] };
  for (const c of cases) {
    const temp = c.dir === undefined ? mkdtempSync(join(tmpdir(), 'killtrace-learn-accuracy-')) : undefined;
    try {
      const dir = c.dir ?? (temp as string);
      const sim = c.scenario ? (temp !== undefined ? writeScenario(temp, c.scenario) : simulate(c.scenario)) : undefined;
      const profiles = mergeProfiles(c.scenario?.profiles ?? [], builtinProfiles());
      const withProfile = await analyse(dir, profiles);
      const profiledSteps = withProfile.records.filter((r) => r.killtrace.init.step_source === 'profile' && r.killtrace.init.step !== null);
      const profiledInit = withProfile.init.filter((d) => d.source === 'profile');
      const learned = await analyse(dir, []);
      const before = result.steps.length + result.truthSteps.length + result.init.length + result.truthInit.length;
      for (const r of learned.records) {
        const parsed = restartRecordSchema.safeParse(r);
        if (!parsed.success) result.invalid.push(`${c.name} ${recordKey(r)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
      }
      const byKey = new Map(learned.records.map((r) => [recordKey(r), r]));
      for (const r of profiledSteps) {
        const l = byKey.get(recordKey(r));
        const name = l?.killtrace.init.step_source === 'learned' ? l.killtrace.init.step : null;
        const step = name !== null && name !== undefined ? profileStepOf(profiles, r.killtrace.init.profile ?? '', name) : undefined;
        result.steps.push({ name: c.name, key: recordKey(r), expected: r.killtrace.init.step ?? '', learned: name ?? null, equal: step === r.killtrace.init.step });
      }
      const learnedInit = new Map(learned.init.filter((d) => d.source === 'learned').map((d) => [initKey(d), d.seconds]));
      for (const d of profiledInit) {
        const seconds = learnedInit.get(initKey(d));
        if (seconds !== undefined) result.init.push({ name: c.name, key: initKey(d), expected: d.seconds, learned: seconds, errorSeconds: Math.abs(seconds - d.seconds) });
      }
      for (const t of sim?.truth ?? []) {
        if (t.step === null || !t.evidence.logFile) continue;
        const lines = (c.scenario?.pods.find((p) => p.name === t.pod)?.containers.find((x) => x.name === t.container)?.incarnations ?? []).flatMap((i) => i.log ?? []);
        const start = (lines.find((l) => l.step === t.step)?.text ?? '').replace(/\{\{[^}]*\}\}/g, '');
        const r = byKey.get(`${t.podUid}/${t.container}/${t.restartCount}`);
        const name = r?.killtrace.init.step_source === 'learned' ? r.killtrace.init.step : null;
        result.truthSteps.push({ name: c.name, key: `${t.podUid}/${t.container}/${t.restartCount}`, expected: t.step, learned: name, equal: name !== null && new RegExp(templateRegex(name)).test(start) });
      }
      for (const [key, expected] of sim ? truthReady(sim) : []) {
        const seconds = learnedInit.get(key);
        if (seconds !== undefined) result.truthInit.push({ name: c.name, key, expected, learned: seconds, errorSeconds: Math.abs(seconds - expected) });
      }
      if (result.steps.length + result.truthSteps.length + result.init.length + result.truthInit.length > before) result.cases.push(c.name);
    } finally {
      if (temp !== undefined) rmSync(temp, { recursive: true, force: true });
    }
  }
  return result;
}

/** Share of equal comparisons (0 when none). */
export function accuracy(list: readonly StepComparison[]): number {
  return list.length === 0 ? 0 : list.filter((s) => s.equal).length / list.length;
}

/** Mean and largest absolute error (seconds), and the share within max(1 s, 10 %) of the expected duration. */
export function initError(list: readonly InitComparison[]): { mean: number; max: number; withinTolerance: number } {
  if (list.length === 0) return { mean: 0, max: 0, withinTolerance: 0 };
  const mean = list.reduce((a, b) => a + b.errorSeconds, 0) / list.length;
  const max = list.reduce((a, b) => Math.max(a, b.errorSeconds), 0);
  const within = list.filter((c) => c.errorSeconds <= Math.max(1, 0.1 * c.expected)).length / list.length;
  return { mean, max, withinTolerance: within };
}

/** One line per figure, for the bench table and the test's log. */
export function describeAccuracy(a: LearnAccuracy): string[] {
  const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
  const count = (l: readonly StepComparison[]): string => `${l.filter((s) => s.equal).length}/${l.length}`;
  const e = initError(a.init);
  const t = initError(a.truthInit);
  const lines = [
    `learned step at kill = profile's: ${count(a.steps)} = ${pct(accuracy(a.steps))}`,
    `learned step = simulator's truth: ${count(a.truthSteps)} = ${pct(accuracy(a.truthSteps))}`,
    `learned init vs profile's (${a.init.length} incarnations): mean error ${e.mean.toFixed(2)} s, max ${e.max.toFixed(2)} s, ${pct(e.withinTolerance)} within max(1 s, 10 %)`,
    `learned init vs simulator's ready line (${a.truthInit.length} incarnations): mean error ${t.mean.toFixed(2)} s, max ${t.max.toFixed(2)} s, ${pct(t.withinTolerance)} within max(1 s, 10 %)`,
  ];
  for (const s of [...a.steps, ...a.truthSteps].filter((x) => !x.equal)) lines.push(`  miss ${s.name} ${s.key}: expected ${s.expected}, learned ${s.learned ?? 'none'}`);
  for (const i of [...a.init, ...a.truthInit].filter((x) => x.errorSeconds > Math.max(1, 0.1 * x.expected))) lines.push(`  init off ${i.name} ${i.key}: expected ${i.expected.toFixed(1)} s, learned ${i.learned.toFixed(1)} s`);
  return lines;
}
