/**
 * What learning init steps from the logs costs (issue 13): `runAnalysis` over the same generated bundle with step
 * learning on (the default: every log line is masked into a template) and off, each in a fresh Node process.
 * Target: learning keeps at least 0.7x the throughput without it (the bench logs are free text: every line a new template, the worst case).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyserModule } from './analyze.bench.js';
import type { BenchCase, BenchRow } from './lib/bench-case.js';
import { writeBigBundle } from './lib/big-bundle.js';
import { runChild } from './lib/child.js';

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
  async run({ logMb, keep, runs }) {
    const dir = mkdtempSync(join(tmpdir(), 'killtrace-bench-learn-'));
    const rows: BenchRow[] = [];
    try {
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
