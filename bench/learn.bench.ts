/**
 * What learning init steps from the logs costs (issue 13): `runAnalysis` over the same generated bundle with step
 * learning on (the default: every log line is masked into a template) and off, each in a fresh Node process.
 * Target: learning keeps at least 0.7x the throughput without it (the bench logs are free text: every line a new template, the worst case).
 * Also how right it is (test/scenarios/learn-accuracy.ts): the learned step at each kill against the profile's and
 * the simulator's, and the learned init duration against the profile's ready line and the simulator's, over every
 * catalog scenario and both examples (`--smoke`: the two examples only). Target: step at kill >= 90 %.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyserModule } from './analyze.bench.js';
import type { BenchCase, BenchRow } from './lib/bench-case.js';
import { writeBigBundle } from './lib/big-bundle.js';
import { runChild } from './lib/child.js';
import { accuracy, initError, learnCases, measureLearnAccuracy } from '../test/scenarios/learn-accuracy.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MB = 1024 * 1024;

interface LearnResult {
  ms: number;
  records: number;
  learned: number;
  bytes: number;
  peakRssMb: number;
}

const learnBench: BenchCase = {
  name: 'learn',
  description: 'killtrace analyze with learned init steps on vs off on a generated bundle',
  async run({ logMb, keep, runs, smoke }) {
    const dir = mkdtempSync(join(tmpdir(), 'killtrace-bench-learn-'));
    const rows: BenchRow[] = [];
    try {
      const cases = learnCases(join(root, 'examples')).filter((c) => !smoke || c.name.startsWith('examples/'));
      const a = await measureLearnAccuracy(cases);
      const ok = (l: typeof a.steps): string => `${l.filter((s) => s.equal).length}/${l.length}`;
      rows.push({ metric: 'cases compared', value: a.cases.length, unit: smoke ? '(smoke: the two examples)' : '(catalog scenarios and both examples)' });
      rows.push({ metric: 'learned step at kill = profile\'s', value: `${(accuracy(a.steps) * 100).toFixed(1)} %`, unit: ok(a.steps), target: '>= 90 %', ok: accuracy(a.steps) >= 0.9 });
      rows.push({ metric: 'learned step = simulator truth', value: `${(accuracy(a.truthSteps) * 100).toFixed(1)} %`, unit: ok(a.truthSteps), target: '>= 90 %', ok: accuracy(a.truthSteps) >= 0.9 });
      for (const [label, list] of [['profile\'s ready line', a.init], ['simulator ready line', a.truthInit]] as const) {
        const e = initError(list);
        rows.push({ metric: `learned init vs ${label}: mean |error| s`, value: e.mean.toFixed(2), unit: `max ${e.max.toFixed(2)} s, ${(e.withinTolerance * 100).toFixed(0)} % within max(1 s, 10 %) over ${list.length} incarnation(s)` });
      }
      const info = await writeBigBundle(dir, { logMb });
      rows.push({ metric: 'bundle generated', value: `${(info.logBytes / MB).toFixed(0)} MiB logs, ${info.logLines} lines, ${info.terminations} terminations` });
      const analyser = analyserModule();
      if (!analyser) {
        rows.push({ metric: 'analysis', value: 'MISSING: services/cli/src/run-analysis.ts not found', ok: false, target: 'present' });
        return rows;
      }
      const side = async (learn: 'on' | 'off'): Promise<LearnResult> => {
        let best: LearnResult | undefined;
        for (let i = 0; i < Math.max(1, runs); i++) {
          const r = await runChild<LearnResult>([...(analyser.viaTsx ? ['--import', 'tsx'] : []), join(root, 'bench/lib/learn-child.mjs'), analyser.path, dir, learn], root);
          best = best === undefined || r.ms < best.ms ? { ...r, peakRssMb: Math.max(r.peakRssMb, best?.peakRssMb ?? 0) } : { ...best, peakRssMb: Math.max(r.peakRssMb, best.peakRssMb) };
        }
        return best as LearnResult;
      };
      const off = await side('off');
      const on = await side('on');
      const mbps = (r: LearnResult): number => info.logBytes / MB / (r.ms / 1000);
      rows.push({ metric: 'learning off: log MB/s', value: mbps(off).toFixed(1), unit: `${(off.ms / 1000).toFixed(2)} s, peak RSS ${off.peakRssMb.toFixed(0)} MB` });
      rows.push({ metric: 'learning on: log MB/s', value: mbps(on).toFixed(1), unit: `${(on.ms / 1000).toFixed(2)} s, peak RSS ${on.peakRssMb.toFixed(0)} MB, ${on.learned} of ${on.records} records name a learned step` });
      const ratio = mbps(on) / mbps(off);
      rows.push({ metric: 'ratio on / off', value: ratio.toFixed(2), target: '>= 0.7', ok: ratio >= 0.7 });
      return rows;
    } finally {
      if (keep) rows.push({ metric: 'bundle kept at', value: dir });
      else rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default learnBench;
