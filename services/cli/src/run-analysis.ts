import { readBundle, type BundleProgress, type BundleReport } from '@killtrace/bundle';
import { Correlator, type CorrelatorStats, type CoverageGap, type UnmatchedOom } from '@killtrace/correlation';
import { mergeProfiles } from '@killtrace/profiles';
import type { Diagnostic, RestartRecord, StepProfile } from '@killtrace/schemas';
import { workerLogReader } from './log-worker-pool.js';

/** What to analyse: a directory recognised by content, and/or files of known types (CONTRACT.md section 2). */
export interface AnalysisOptions {
  /** A bundle directory (or file) whose files are recognised by content (same as one entry of `paths`). */
  dir?: string;
  /** Bundle directories and files (several per-node directories at once), each file recognised by content; `-` is stdin. */
  paths?: string[];
  events?: string[];
  pods?: string[];
  logs?: string[];
  kubelet?: string[];
  /** `journalctl -k` / `dmesg -T` output (kernel OOM kills). */
  kernel?: string[];
  /** `kubectl logs [--previous] --timestamps` output, with whose it is. */
  kubectlLogs?: Array<{ path: string; namespace?: string; pod: string; container: string; previous: boolean }>;
  /** User step profiles (override the built-ins of libs/profiles by name). */
  profiles?: StepProfile[];
  clusterName?: string;
  /** Year for year-less kubelet timestamps when pods and events do not tell. */
  referenceYear?: number;
  /** A pipe that sends nothing for this long is given up (default 60 s). */
  pipeIdleTimeoutMs?: number;
  onProgress?: (progress: BundleProgress) => void;
  /** Use the built-in step profiles (default true); off to see what learning alone finds. */
  builtinProfiles?: boolean;
  /** Learn init steps from the logs where no profile matches (default true). */
  learnSteps?: boolean;
  /** Node labels that make a node class (default: libs/correlation/src/node-class.ts DEFAULT_NODE_CLASS_LABELS). */
  nodeClassLabels?: string[];
  /**
   * Worker threads that read and follow the container logs (log-worker-pool.ts): 1 (the default) reads them in this
   * thread, straight into step trackers; `auto` uses up to the cores available as the logs' size warrants. The records are the same either way.
   */
  workers?: number | 'auto';
}

export interface AnalysisResult {
  /** Restart records, oldest first. */
  records: RestartRecord[];
  diagnostics: Diagnostic[];
  /** Diagnostics counted but not kept. */
  diagnosticsDropped: number;
  stats: { files: number; lines: number; bytes: number; records: number };
  bundle: BundleReport;
  correlation: CorrelatorStats;
  /** Containers with restarts the evidence no longer explains. */
  gaps: CoverageGap[];
  /** Kernel OOM kills no record explains (and kills outside any pod). */
  kernelOoms: { unmatched: UnmatchedOom[]; outsidePods: number };
  /** Threads that read the container logs (1: this one). */
  workers: number;
}

/** Runs the embedded pipeline: read the bundle as a stream, feed the correlation core, collect the records. */
export async function runAnalysis(options: AnalysisOptions): Promise<AnalysisResult> {
  const profiles = options.builtinProfiles === false ? [...(options.profiles ?? [])] : mergeProfiles(options.profiles ?? []);
  const correlator = new Correlator({
    clusterName: options.clusterName ?? 'default',
    profiles,
    learnSteps: options.learnSteps,
    nodeClassLabels: options.nodeClassLabels,
  });
  let workers = 1;
  const bundle = await readBundle({
    paths: [...(options.dir !== undefined ? [options.dir] : []), ...(options.paths ?? [])],
    inputs: { events: options.events, pods: options.pods, logs: options.logs, kubelet: options.kubelet, kernel: options.kernel, kubectlLogs: options.kubectlLogs },
    onSignal: (signal) => correlator.ingest(signal),
    onProgress: options.onProgress,
    referenceYear: options.referenceYear,
    pipeIdleTimeoutMs: options.pipeIdleTimeoutMs,
    containerLogReader: workerLogReader({ workers: options.workers ?? 1, profiles, correlator, onStart: (n) => void (workers = n) }),
  });
  const records = correlator.records();
  const files = bundle.stats.files;
  return {
    records,
    diagnostics: bundle.diagnostics,
    diagnosticsDropped: bundle.diagnosticsDropped,
    stats: {
      files: files.kubernetes + files.kubelet + files.kernel + files.containerLogs,
      lines: bundle.stats.lines,
      bytes: bundle.stats.bytes,
      records: records.length,
    },
    bundle,
    correlation: correlator.stats(),
    gaps: correlator.coverage(records),
    kernelOoms: { unmatched: correlator.unmatchedKernelOoms(), outsidePods: correlator.kernelOomsOutsidePodCount() },
    workers,
  };
}
