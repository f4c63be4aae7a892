import type { Diagnostic, Signal } from '@killtrace/schemas';
import type { LogTask, LogTaskHooks, LogTaskOutcome, LogTaskSettings } from './log-task.js';

/** Files named explicitly (CLI flags); each is read as the given type, whatever its content looks like. */
export interface BundleInputs {
  /** `kubectl get events -o json` (List, events.k8s.io/v1, or a `--watch` stream). */
  events?: string[];
  /** `kubectl get pods -o json` (List) or a single Pod. */
  pods?: string[];
  /** Directories in the kubelet's `/var/log/pods` layout (or single CRI log files inside one). */
  logs?: string[];
  /** `journalctl -u kubelet` output (short, short-iso, short-precise, cat, json). */
  kubelet?: string[];
  /** `journalctl -k` (short, short-iso, short-precise, json) or `dmesg -T` output: the kernel's OOM kills. */
  kernel?: string[];
  /**
   * `kubectl logs [--previous] --timestamps` output of one container (`--logs-of`); the pod status in the pods
   * input tells its pod uid and incarnation.
   */
  kubectlLogs?: Array<{ path: string; namespace?: string; pod: string; container: string; previous: boolean }>;
}

/** Progress of a bundle read, throttled. */
export interface BundleProgress {
  /** On-disk bytes read so far (compressed size for `.gz`). */
  bytesRead: number;
  /** On-disk size of every file that will be read. */
  bytesTotal: number;
  /** The file being read. */
  file: string;
  phase: 'kubernetes' | 'kubelet' | 'kernel' | 'container-logs' | 'done';
}

/**
 * The clock for year-less kubelet timestamps. `time` (epoch ms) is preferred: each year-less timestamp goes to the
 * year that puts it nearest to it; without it `year` is the year of the journal's first line.
 */
export interface ReferenceClock {
  year: number;
  time?: number;
  /** `option`: given by the caller; `pods-events`: the newest pod/event timestamp read in phase 1;
   *  `file-mtime`: the kubelet journal file's modification time (no pods or events); `none`: nothing to go by. */
  basis: 'option' | 'pods-events' | 'file-mtime' | 'none';
}

export interface ReadBundleOptions {
  /** Directories and files recognised by content (the `killtrace analyze DIR` form). */
  paths?: string[];
  /** Files of a known type (`--events`, `--pods`, `--logs`, `--kubelet`). */
  inputs?: BundleInputs;
  /**
   * Receives every signal in read order: pods and events, then kubelet, then container logs (incarnation by
   * incarnation, lines in file order). Return a promise to apply backpressure; returning nothing is fastest.
   * App log signals share one frozen `pod` object per incarnation: do not mutate signals.
   */
  onSignal: (signal: Signal) => void | Promise<void>;
  /** Receives every diagnostic as it is found (the report keeps the first `maxDiagnostics`). */
  onDiagnostic?: (diagnostic: Diagnostic) => void;
  /** Throttled progress (every `progressIntervalMs`, and once at the end). */
  onProgress?: (progress: BundleProgress) => void;
  /** Called once pods and events are read, before the kubelet journal, with the clock used for year-less lines. */
  onReference?: (reference: ReferenceClock) => void;
  progressIntervalMs?: number;
  /** Year for year-less kubelet timestamps; default: from the newest pod/event timestamp (see ReferenceClock). */
  referenceYear?: number;
  /** Epoch ms near the journal's end; default: the newest pod/event timestamp. */
  referenceTime?: number;
  /** Longest line (and joined CRI line) kept, in characters (default 1 Mi); longer ones are cut with a marker. */
  maxLineChars?: number;
  /**
   * A pipe (`-`, a FIFO, `<(kubectl ...)`) that sends nothing for this long is given up, with a warning (default
   * 60 s: a slow `kubectl get` against a large cluster still fits).
   */
  pipeIdleTimeoutMs?: number;
  /** Largest single JSON value (default 256 Mi characters). */
  maxJsonValueChars?: number;
  /** Diagnostics kept in the report (default 1000; all are counted and passed to `onDiagnostic`). */
  maxDiagnostics?: number;
  /**
   * Reads the container logs elsewhere (worker threads): given every incarnation's task, it reads each with
   * `readLogTask` (log-task.ts), consumes their app log signals itself (they never reach `onSignal`) and hands each
   * outcome to `done`, in any order, before it resolves. Without it the logs are read here, one task after another.
   */
  containerLogReader?: ContainerLogReader;
}

/** See `ReadBundleOptions.containerLogReader`. */
export type ContainerLogReader = (tasks: readonly LogTask[], settings: LogTaskSettings, hooks: LogTaskHooks, done: (outcome: LogTaskOutcome) => void) => Promise<void>;

/** Counters for one bundle read. */
export interface BundleStats {
  files: { kubernetes: number; kubelet: number; kernel: number; containerLogs: number; skipped: number };
  /** Lines read (JSON files count their line breaks). */
  lines: number;
  /** Decoded bytes read (after decompression). */
  bytes: number;
  signals: { pod: number; event: number; kubelet: number; app_log: number; kernel_oom: number; node: number; total: number };
  diagnostics: { error: number; warning: number; info: number };
  /** Kubelet journal lines that were not about restarts (counted, not diagnosed). */
  kubeletLinesIgnored: number;
  durationMs: number;
}

/** A fact about the input that changed how it was read (shown in the text output's "Notes about the input"). */
export interface InputNote {
  code: 'year' | 'event_time_outlier' | 'event_dropped' | 'pod_time_dropped' | 'cri_time_outlier' | 'cri_out_of_order' | 'journal_skew' | 'journal_timezone';
  /** How many timestamps, lines or pairs it concerns. */
  count: number;
  text: string;
}

export interface BundleReport {
  stats: BundleStats;
  reference: ReferenceClock;
  /** How timestamps were bounded, placed in a year or shifted, with counts. */
  notes: InputNote[];
  /** The first `maxDiagnostics` diagnostics. */
  diagnostics: Diagnostic[];
  /** Diagnostics not kept in `diagnostics` (still counted and passed to `onDiagnostic`). */
  diagnosticsDropped: number;
}
