import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { readLogTask, type ContainerLogReader, type LogTask, type LogTaskOutcome } from '@killtrace/bundle';
import type { Correlator, StepTrackerState } from '@killtrace/correlation';
import type { StepProfile } from '@killtrace/schemas';
import { CliError } from './errors.js';
import { workerMessageSchema, type TaskMessage, type WorkerData } from './worker-messages.js';

/** More workers than this rarely pay: the main thread's joins and the disk become the limit. */
export const MAX_WORKERS = 8;
/**
 * A worker's young generation: its garbage is short-lived (lines, chunks), and the default (several times this) cost
 * ~11 MB of RSS per worker for no measurable CPU gain (32 MiB bench bundle, 2 workers: 186 -> 165 MB peak).
 */
const WORKER_YOUNG_GENERATION_MB = 8;
/** With `auto`, one worker per this much container log: a worker costs 20-40 MB and 0.1-0.3 s to start, and on a 32 MiB bundle two were no faster than one. */
const AUTO_BYTES_PER_WORKER = 128 * 1024 * 1024;

/** `--workers` default: the cores available, at most MAX_WORKERS. */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(MAX_WORKERS, availableParallelism()));
}

/** The built worker script: next to this module in dist/, or (running from src/, as tests do) in ../dist/. */
function workerScript(): URL {
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? new URL('../dist/analysis-worker.js', here) : new URL('./analysis-worker.js', here);
  if (!existsSync(fileURLToPath(url))) throw new Error(`analysis worker ${fileURLToPath(url)} is missing: build first (npx tsc --build)`);
  return url;
}

interface Finished {
  outcome: LogTaskOutcome;
  tracker: StepTrackerState;
  latestAt?: number;
}

/**
 * A container log reader (libs/bundle ContainerLogReader) that follows incarnations in `workers` worker threads
 * (analysis-worker.ts) and hands their trackers to `correlator` in read order, so the records are the same as
 * ingesting every signal in this thread. `workers: 1` reads here; `auto` uses up to `defaultWorkers()` as the logs' size warrants;
 * never more workers than incarnations. `onStart` learns how many threads read.
 */
export function workerLogReader(options: { workers: number | 'auto'; profiles: readonly StepProfile[]; correlator: Correlator; onStart?: (workers: number) => void }): ContainerLogReader {
  const { correlator } = options;
  return async (tasks, settings, hooks, done) => {
    const bytes = tasks.reduce((sum, t) => sum + t.groups.flat().reduce((s, f) => s + f.size, 0), 0);
    const wanted = options.workers === 'auto' ? Math.min(defaultWorkers(), Math.ceil(bytes / AUTO_BYTES_PER_WORKER)) : options.workers;
    const count = Math.max(1, Math.min(wanted, tasks.length));
    options.onStart?.(count);
    if (count === 1) {
      // In this thread, straight into a tracker: the same evidence as Correlator.ingest signal by signal, without
      // its per-line dispatch.
      for (const task of tasks) {
        const tracker = correlator.newLogTracker(task.incarnation);
        let latestAt: number | undefined;
        const outcome = await readLogTask(
          task,
          settings,
          {
            onLine: (at, text) => {
              tracker.add(at, text);
              if (latestAt === undefined || at > latestAt) latestAt = at;
            },
          },
          hooks,
        );
        correlator.ingestTrackedLogs(task.incarnation, tracker, outcome.signals, latestAt);
        done(outcome);
      }
      return;
    }
    const script = workerScript();
    const data: WorkerData = { profiles: [...options.profiles] };
    // Largest first, so the last task to finish is a small one; results are applied in read order regardless.
    const queue = [...tasks].sort((a, b) => size(b) - size(a) || a.index - b.index);
    const finished = new Map<number, Finished>();
    let next = 0;
    const apply = (): void => {
      for (let f = finished.get(next); f !== undefined; f = finished.get(next)) {
        finished.delete(next);
        const task = tasks[next] as LogTask;
        correlator.ingestTrackedLogs(task.incarnation, f.tracker, f.outcome.signals, f.latestAt);
        done(f.outcome);
        next++;
      }
    };
    const workers: Worker[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        let running = 0;
        let failed = false;
        const fail = (error: Error): void => {
          if (failed) return;
          failed = true;
          reject(error);
        };
        const start = (): void => {
          const worker = new Worker(script, { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
          workers.push(worker);
          let current: LogTask | undefined;
          let currentFile: string | undefined;
          const feed = (): void => {
            current = queue.shift();
            if (current === undefined) {
              running--;
              if (running === 0 && !failed) resolve();
              return;
            }
            const message: TaskMessage = { type: 'task', task: current, settings, tracking: correlator.logTracking(current.incarnation) };
            worker.postMessage(message);
          };
          worker.on('message', (raw: unknown) => {
            if (failed) return;
            const parsed = workerMessageSchema.safeParse(raw);
            if (!parsed.success) return fail(workerError(`unexpected message from an analysis worker: ${parsed.error.issues[0]?.message ?? 'invalid'}`, currentFile));
            const message = parsed.data;
            if (message.type === 'progress') {
              currentFile = message.file;
              hooks.onFile(message.file);
              hooks.onRawBytes(message.bytes);
            } else if (message.type === 'failed') {
              fail(workerError(message.message, message.file ?? currentFile ?? current?.groups[0]?.[0]?.path, message.line));
            } else {
              if (current === undefined || message.outcome.index !== current.index) return fail(workerError(`an analysis worker answered for incarnation ${message.outcome.index}, not the one it was given`, currentFile));
              finished.set(message.outcome.index, { outcome: message.outcome, tracker: message.tracker, ...(message.latestAt !== undefined ? { latestAt: message.latestAt } : {}) });
              try {
                apply();
              } catch (error) {
                return fail(error instanceof Error ? error : new Error(String(error)));
              }
              feed();
            }
          });
          worker.on('error', (error) => fail(workerError(error.message, currentFile ?? current?.groups[0]?.[0]?.path)));
          worker.on('exit', (code) => {
            if (current !== undefined) fail(workerError(`an analysis worker stopped (exit code ${code})`, currentFile ?? current.groups[0]?.[0]?.path));
          });
          running++;
          feed();
        };
        for (let i = 0; i < count; i++) start();
      });
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
    if (next !== tasks.length) throw workerError(`analysis workers finished ${next} of ${tasks.length} incarnations`);
  };
}

function size(task: LogTask): number {
  let total = 0;
  for (const group of task.groups) for (const f of group) total += f.size;
  return total;
}

/** A worker's failure, naming the file and line it was reading like the single-threaded reader's errors. */
function workerError(message: string, file?: string, line?: number): CliError {
  const where = file === undefined ? '' : line === undefined ? ` (reading ${file})` : ` (reading ${file}, line ${line})`;
  return new CliError('KT_ERR_CLI_ANALYSIS_WORKER', `analysis worker failed${where}: ${message}`);
}
