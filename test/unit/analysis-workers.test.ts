import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { readBundle, type BundleProgress, type BundleReport } from '@killtrace/bundle';
import { Correlator } from '@killtrace/correlation';
import { mergeProfiles } from '@killtrace/profiles';
import { runAnalysis, type AnalysisResult } from '../../services/cli/src/run-analysis.js';
import { workerMessageSchema } from '../../services/cli/src/worker-messages.js';
import { workerLogReader } from '../../services/cli/src/log-worker-pool.js';
import { CATALOG, writeScenario } from '../scenarios/catalog.js';
import { KUBELET_CONVENTION_CATALOG } from '../scenarios/catalog-kubelet.js';

/**
 * `killtrace analyze --workers N` (services/cli/src/log-worker-pool.ts) reads container logs in worker threads and
 * merges their step trackers: the output must be byte for byte what one thread gives, and what ingesting every
 * signal into the core one by one gives (the streaming correlator's way). The workers run the built script
 * (services/cli/dist/analysis-worker.js, `npx tsc --build`), as the installed command does.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

type Printed = Pick<AnalysisResult, 'records' | 'bundle' | 'correlation' | 'gaps' | 'kernelOoms'>;

/** Everything `killtrace analyze --output json` prints and its summary reports, as text; durations left out. */
function printed(result: Printed): string {
  const { durationMs: _duration, ...stats } = result.bundle.stats;
  return JSON.stringify({ records: result.records, bundle: { ...result.bundle, stats }, correlation: result.correlation, gaps: result.gaps, kernelOoms: result.kernelOoms });
}

/** The reference: the bundle's signals ingested one by one into the core, as the streaming correlator does. */
async function signalBySignal(dir: string): Promise<Printed> {
  const correlator = new Correlator({ clusterName: 'test', profiles: mergeProfiles([]) });
  const bundle: BundleReport = await readBundle({ paths: [dir], onSignal: (signal) => correlator.ingest(signal) });
  const records = correlator.records();
  return { records, bundle, correlation: correlator.stats(), gaps: correlator.coverage(records), kernelOoms: { unmatched: correlator.unmatchedKernelOoms(), outsidePods: correlator.kernelOomsOutsidePodCount() } };
}

async function sameWithWorkers(dir: string): Promise<void> {
  const expected = printed(await signalBySignal(dir));
  const one = await runAnalysis({ dir, clusterName: 'test' });
  expect(one.workers).toBe(1);
  expect(printed(one), '1 worker').toBe(expected);
  for (const workers of [2, 4]) {
    const many = await runAnalysis({ dir, clusterName: 'test', workers });
    const incarnations = one.correlation.incarnationsWithLogs;
    expect(many.workers, `${workers} workers over ${incarnations} incarnations`).toBe(Math.max(1, Math.min(workers, incarnations)));
    expect(printed(many), `${workers} workers`).toBe(expected);
  }
}

describe('analysis workers give the single-threaded records', () => {
  it.each(['host-agent-crashloop', 'shop-inventory-mixed'])('example %s with 1, 2 and 4 workers', async (example) => {
    await sameWithWorkers(join(root, 'examples', example));
  });

  it.each([...Object.entries(CATALOG), ...Object.entries(KUBELET_CONVENTION_CATALOG)])('catalog scenario %s with 1, 2 and 4 workers', async (name, scenario) => {
    const dir = mkdtempSync(join(tmpdir(), `killtrace-workers-${name}-`));
    dirs.push(dir);
    writeScenario(dir, scenario());
    await sameWithWorkers(dir);
  });

  it('names the file and line of bad log lines read by a worker, and reports progress to the end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'killtrace-workers-bad-'));
    dirs.push(dir);
    for (let p = 0; p < 3; p++) {
      const logDir = join(dir, 'pods', `shop_web-${p}_0000000${p}-aaaa-bbbb-cccc-dddddddddddd`, 'app');
      mkdirSync(logDir, { recursive: true });
      // A malformed line, P chunks joined across stdout/stderr and across rotation, a line dated before the one above.
      writeFileSync(join(logDir, `0.log.20261002-063005`), `2026-10-02T06:30:00.000000000Z stdout F starting\nnot a cri line ${p}\n2026-10-02T06:30:00.500000000Z stdout P loading `);
      writeFileSync(join(logDir, '0.log'), `2026-10-02T06:30:00.600000000Z stderr F warn\n2026-10-02T06:30:00.700000000Z stdout F data set ${p}\n2026-10-02T06:29:59.000000000Z stdout F clock went back\n2026-10-02T06:30:01.000000000Z stdout F listening\n2026-10-02T06:30:02.000000000Z stdout P cut off`);
    }
    const progress: BundleProgress[] = [];
    const reference = await signalBySignal(dir);
    const one = await runAnalysis({ dir, clusterName: 'test' });
    const two = await runAnalysis({ dir, clusterName: 'test', workers: 2, onProgress: (p) => progress.push(p) });
    expect(two.workers).toBe(2);
    expect(printed(one)).toBe(printed(reference));
    expect(printed(two)).toBe(printed(reference));
    expect(reference.bundle.notes.map((n) => [n.code, n.count])).toContainEqual(['cri_out_of_order', 6]);
    expect(reference.correlation.signals.app_log).toBe(18);
    const bad = two.diagnostics.filter((d) => d.code === 'KT_INPUT_BAD_CRI_LINE');
    expect(bad.map((d) => [d.file?.slice(dir.length), d.line])).toEqual([0, 1, 2].map((p) => [`/pods/shop_web-${p}_0000000${p}-aaaa-bbbb-cccc-dddddddddddd/app/0.log.20261002-063005`, 2]));
    const last = progress[progress.length - 1];
    expect(last?.phase).toBe('done');
    expect(last?.bytesRead).toBe(last?.bytesTotal);
  });

  it('a task a worker refuses fails the analysis with KT_ERR_CLI_ANALYSIS_WORKER naming the file', async () => {
    const correlator = new Correlator({ clusterName: 'test' });
    const read = workerLogReader({ workers: 2, profiles: [], correlator });
    const file = { path: '/bundle/pods/a_b_c/app/0.log', readPath: '/bundle/pods/a_b_c/app/0.log', gzip: false, size: 10, kubectl: false };
    // A restart count below zero cannot come from a file name: the worker's validation refuses it.
    const task = (index: number, restartCount: number) => ({ index, incarnation: { namespace: 'a', pod: 'b', uid: 'c', container: 'app', restartCount }, groups: [[file]] });
    const outcome = read([task(0, -1), task(1, -1)], { maxLineChars: 1024 }, { onRawBytes: () => undefined, onFile: () => undefined }, () => undefined);
    await expect(outcome).rejects.toMatchObject({ code: 'KT_ERR_CLI_ANALYSIS_WORKER', message: expect.stringContaining('(reading /bundle/pods/a_b_c/app/0.log)') });
  });

  it('a worker answers a message it cannot use with a validated failure, not silence', async () => {
    const worker = new Worker(new URL('../../services/cli/dist/analysis-worker.js', import.meta.url), { workerData: { profiles: [] } });
    try {
      const reply = new Promise<unknown>((resolve) => worker.once('message', resolve));
      worker.postMessage({ type: 'task', task: { index: -1 } });
      const message = workerMessageSchema.parse(await reply);
      expect(message.type).toBe('failed');
      expect(message.type === 'failed' ? message.message : '').toMatch(/index|expected/i);
    } finally {
      await worker.terminate();
    }
  });
});
