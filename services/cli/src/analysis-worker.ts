/**
 * An analysis worker thread (log-worker-pool.ts starts it): reads incarnations' container logs with the same code
 * as the main thread (libs/bundle/src/log-task.ts), follows each with a step tracker and sends back the tracker's
 * state and the read's outcome. Pods are independent until the workload history joins them, which the main thread
 * does once every incarnation is back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readLogTask } from '@killtrace/bundle';
import { compileProfile, StepTracker } from '@killtrace/correlation';
import { taskMessageSchema, workerDataSchema, type WorkerMessage } from './worker-messages.js';

const port = parentPort;
if (port === null) throw new Error('analysis-worker.ts runs as a worker thread (log-worker-pool.ts)');
const data = workerDataSchema.parse(workerData);
const profiles = data.profiles.map(compileProfile);
/** Progress is sent in steps of this many bytes (and at the end of each task), not per chunk. */
const PROGRESS_STEP = 4 * 1024 * 1024;

const send = (message: WorkerMessage): void => port.postMessage(message);

port.on('message', (raw: unknown) => {
  void run(raw);
});

async function run(raw: unknown): Promise<void> {
  let file: string | undefined;
  let line: number | undefined;
  try {
    const { task, settings, tracking } = taskMessageSchema.parse(raw);
    const profile = tracking.profile === undefined ? undefined : profiles[tracking.profile];
    if (tracking.profile !== undefined && profile === undefined) throw new Error(`no step profile number ${tracking.profile} (${profiles.length} given)`);
    const tracker = new StepTracker(profile, tracking.learn);
    let latestAt: number | undefined;
    let unsent = 0;
    const outcome = await readLogTask(
      task,
      settings,
      {
        onLine: (at, text, lineNo) => {
          line = lineNo;
          tracker.add(at, text);
          if (latestAt === undefined || at > latestAt) latestAt = at;
        },
      },
      {
        onFile: (path) => {
          file = path;
          line = undefined;
        },
        onRawBytes: (bytes) => {
          unsent += bytes;
          if (unsent >= PROGRESS_STEP) {
            send({ type: 'progress', bytes: unsent, file: file ?? '' });
            unsent = 0;
          }
        },
      },
    );
    if (unsent > 0) send({ type: 'progress', bytes: unsent, file: file ?? '' });
    send({ type: 'done', outcome, tracker: tracker.toState(), ...(latestAt !== undefined ? { latestAt } : {}) });
  } catch (error) {
    send({ type: 'failed', message: error instanceof Error ? error.message : String(error), ...(file !== undefined ? { file } : {}), ...(line !== undefined ? { line } : {}) });
  }
}
