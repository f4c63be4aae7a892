/**
 * `killtrace analyze` throughput and memory: a generated bundle (default 512 MiB of container logs, 2048 for the
 * memory target) is read (a) line by line with `fs.createReadStream` + `readline` (the floor any log reader pays)
 * and (b) through `runAnalysis` with 1 and with 2 worker threads (`--workers`), each in a fresh Node process, printed
 * side by side. Targets (issue 14, at 2 GiB): one worker at >= 0.8x the plain read's MB/s, >= 100 log MB per
 * CPU-second (all threads of the process), peak RSS < 300 MB.
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchCase, BenchRow } from './lib/bench-case.js';
import { writeBigBundle } from './lib/big-bundle.js';
import { runChild } from './lib/child.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MB = 1024 * 1024;

interface BaselineResult {
  ms: number;
  lines: number;
  bytes: number;
  peakRssMb: number;
  /** User + system CPU of the whole child process (start-up included). */
  cpuSeconds: number;
}

interface AnalysisResult {
  ms: number;
  records: number;
  causes: Record<string, number>;
  stats: { files: number; lines: number; bytes: number; records: number };
  diagnostics: number;
  /** Threads that read the container logs. */
  workers: number;
  peakRssMb: number;
  /** User + system CPU of the whole child process (start-up included). */
  cpuSeconds: number;
}

/** The analyser to run: the built module when it is at least as new as its source, else the source through tsx. */
export function analyserModule(): { path: string; viaTsx: boolean } | null {
  const src = join(root, 'services/cli/src/run-analysis.ts');
  const dist = join(root, 'services/cli/dist/run-analysis.js');
  const forced = process.env.KILLTRACE_BENCH_ANALYZER;
  if (forced === 'src' && existsSync(src)) return { path: src, viaTsx: true };
  if (existsSync(dist) && (forced === 'dist' || !existsSync(src) || statSync(dist).mtimeMs >= statSync(src).mtimeMs)) return { path: dist, viaTsx: false };
  if (existsSync(src)) return { path: src, viaTsx: true };
  return null;
}

/** Run `n` fresh processes one after another; keep the fastest time and the highest peak RSS. */
async function best<T extends { ms: number; peakRssMb: number }>(n: number, once: () => Promise<T>): Promise<T> {
  let out: T | undefined;
  for (let i = 0; i < Math.max(1, n); i++) {
    const r = await once();
    out = out === undefined ? r : { ...(r.ms < out.ms ? r : out), peakRssMb: Math.max(r.peakRssMb, out.peakRssMb) };
  }
  return out as T;
}

const analyzeBench: BenchCase = {
  name: 'analyze',
  description: 'killtrace analyze on a generated bundle vs a plain readline pass over the same logs',
  async run({ logMb, keep, runs, report }) {
    const dir = mkdtempSync(join(tmpdir(), 'killtrace-bench-'));
    const rows: BenchRow[] = [];
    try {
      const info = await writeBigBundle(dir, { logMb });
      rows.push({ metric: 'bundle generated', value: `${(info.logBytes / MB).toFixed(0)} MiB logs, ${info.logLines} lines, ${info.logFiles.length} files (${info.rotatedFiles} rotated), ${info.terminations} terminations`, unit: `${info.seconds.toFixed(1)} s` });
      const listFile = join(dir, '..', `${dir.split('/').pop() ?? 'bench'}-files.json`);
      writeFileSync(listFile, JSON.stringify(info.logFiles));

      const base = await best(runs, () => runChild<BaselineResult>([join(root, 'bench/lib/baseline-child.mjs'), listFile], root));
      rmSync(listFile, { force: true });
      const baseMbps = base.bytes / MB / (base.ms / 1000);
      rows.push({ metric: 'plain readline: log MB/s', value: baseMbps.toFixed(1), unit: `${(base.ms / 1000).toFixed(2)} s, ${base.lines} lines, peak RSS ${base.peakRssMb.toFixed(0)} MB` });

      const analyser = analyserModule();
      if (!analyser) {
        rows.push({ metric: 'analysis', value: 'MISSING: services/cli/src/run-analysis.ts (runAnalysis) not found', ok: false, target: 'present' });
        return rows;
      }
      const perCore = (bytes: number, cpuSeconds: number): number => bytes / MB / cpuSeconds;
      const RATIO_TARGET = 0.8;
      const columns = ['plain readline'];
      const cells: Record<string, string[]> = { mbps: [baseMbps.toFixed(1)], ratio: ['1.00'], perCore: [perCore(base.bytes, base.cpuSeconds).toFixed(1)], rss: [base.peakRssMb.toFixed(0)], seconds: [(base.ms / 1000).toFixed(2)], records: ['-'] };
      for (const workers of [1, 2]) {
        const args = [...(analyser.viaTsx ? ['--import', 'tsx'] : []), join(root, 'bench/lib/analyze-child.mjs'), analyser.path, dir, String(workers)];
        const res = await best(runs, () => runChild<AnalysisResult>(args, root));
        const mbps = info.logBytes / MB / (res.ms / 1000);
        const ratio = mbps / baseMbps;
        const cpu = perCore(info.logBytes, res.cpuSeconds);
        const label = `${workers} worker${workers === 1 ? '' : 's'}`;
        columns.push(`analyze, ${label}`);
        cells.mbps?.push(mbps.toFixed(1));
        cells.ratio?.push(ratio.toFixed(2));
        cells.perCore?.push(cpu.toFixed(1));
        cells.rss?.push(res.peakRssMb.toFixed(0));
        cells.seconds?.push((res.ms / 1000).toFixed(2));
        cells.records?.push(String(res.records));
        rows.push({ metric: `analysis, ${label} (${analyser.viaTsx ? 'src via tsx' : 'dist'}; ${res.workers} thread(s) read logs): log MB/s`, value: mbps.toFixed(1), unit: `${(res.ms / 1000).toFixed(2)} s, ${res.stats.lines} lines read (all inputs)` });
        rows.push({ metric: `ratio analysis / plain read, ${label}`, value: ratio.toFixed(2), ...(workers === 1 ? { target: `>= ${RATIO_TARGET}`, ok: ratio >= RATIO_TARGET } : {}) });
        rows.push({ metric: `analysis, ${label}: log MB per CPU-second`, value: cpu.toFixed(1), target: '>= 100', ok: cpu >= 100 });
        rows.push({ metric: `analysis, ${label}: peak RSS (VmHWM)`, value: res.peakRssMb.toFixed(0), unit: 'MB', ...(workers === 1 ? { target: '< 300', ok: res.peakRssMb < 300 } : {}) });
        if (workers === 1) {
          rows.push({ metric: 'records found', value: res.records, unit: `${Object.entries(res.causes).map(([c, n]) => `${c} ${n}`).join(', ')}; ${res.diagnostics} diagnostics; ${info.terminations} terminations simulated` });
        }
      }
      rows.push({ metric: 'plain readline: log MB per CPU-second', value: cells.perCore?.[0] ?? '' });
      report({
        title: `analyze: ${(info.logBytes / MB).toFixed(0)} MiB of container logs in ${info.logFiles.length} files (${info.logLines} lines)`,
        columns,
        rows: [
          { metric: 'log MB/s (wall clock)', cells: cells.mbps ?? [] },
          { metric: `ratio to the plain read (target >= ${RATIO_TARGET} at 1 worker)`, cells: cells.ratio ?? [] },
          { metric: 'log MB per CPU-second (target >= 100)', cells: cells.perCore ?? [] },
          { metric: 'peak RSS, MB (target < 300)', cells: cells.rss ?? [] },
          { metric: 'seconds', cells: cells.seconds ?? [] },
          { metric: 'records', cells: cells.records ?? [] },
        ],
        notes: [`each column a fresh process, fastest of ${runs} run(s); CPU-seconds and peak RSS (VmHWM) cover every thread of the process; ${availableParallelism()} core(s) available`],
      });
      return rows;
    } finally {
      if (keep) rows.push({ metric: 'bundle kept at', value: dir });
      else rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default analyzeBench;
