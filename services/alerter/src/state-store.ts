import { mkdirSync, openSync, closeSync, fsyncSync } from 'node:fs';
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { AlerterState, Notification } from '@killtrace/alerting';
import { z } from 'zod';
import { AlerterError, EXIT_RUNTIME } from './errors.js';

/**
 * The alerter's durable state (decision 0008): the grouping state machine and the queue of notifications not yet
 * delivered, in one JSON file replaced atomically (write a temporary file, fsync, rename, fsync the directory).
 * A record's offset is committed only after a save that includes what it produced.
 */

const killDetailSchema = z.object({
  recordId: z.string(),
  status: z.enum(['provisional', 'final']),
  killedAt: z.string(),
  cluster: z.string(),
  namespace: z.string(),
  pod: z.string(),
  node: z.string().nullable(),
  container: z.string(),
  workload: z.string(),
  workloadKind: z.string(),
  cause: z.string(),
  probeType: z.enum(['liveness', 'startup']).nullable(),
  probeInduced: z.boolean(),
  duringInit: z.boolean(),
  step: z.string().nullable(),
  stepElapsedSeconds: z.number().nullable(),
  budgetSeconds: z.number().nullable(),
  explanation: z.string(),
  recommendation: z.string(),
  startupProbe: z.object({ periodSeconds: z.number(), failureThreshold: z.number() }).nullable(),
});

const groupSchema = z.object({
  key: z.string(),
  rule: z.string(),
  labels: z.record(z.string(), z.string()),
  status: z.enum(['pending', 'firing']),
  window: z.array(z.object({ id: z.string(), at: z.number() })),
  ids: z.array(z.string()),
  count: z.number(),
  firstKillAt: z.number(),
  lastKillAt: z.number(),
  lastSeenAt: z.number(),
  firedAt: z.number().nullable(),
  lastNotifiedAt: z.number().nullable(),
  seq: z.number(),
  latest: killDetailSchema,
});

const snapshotSchema = z.object({
  rule: z.string(),
  alertname: z.string(),
  severity: z.string(),
  description: z.string().nullable(),
  runbookUrl: z.string().nullable(),
  groupKey: z.string(),
  labels: z.record(z.string(), z.string()),
  status: z.enum(['firing', 'resolved']),
  count: z.number(),
  firstKillAt: z.string(),
  lastKillAt: z.string(),
  startsAt: z.string(),
  endsAt: z.string(),
  latest: killDetailSchema,
});

const notificationSchema = z.object({
  id: z.string(),
  receiver: z.string(),
  kind: z.enum(['firing', 'update', 'repeat', 'resolved']),
  dedupKey: z.string(),
  seq: z.number(),
  alert: snapshotSchema,
});

const queuedSchema = z.object({ notification: notificationSchema, enqueuedAt: z.number(), attempts: z.number() });
export type QueuedNotification = z.infer<typeof queuedSchema>;

const stateFileSchema = z.object({
  v: z.literal(1),
  engine: z.object({ v: z.literal(1), groups: z.record(z.string(), groupSchema), seen: z.record(z.string(), z.object({ at: z.number(), rules: z.array(z.string()) })) }),
  queue: z.array(queuedSchema),
});
export type StateFile = z.infer<typeof stateFileSchema>;

// The engine's and the file's types must stay the same shape.
const _engineCheck = (s: AlerterState): StateFile['engine'] => s;
const _engineBack = (s: StateFile['engine']): AlerterState => s;
const _notificationCheck = (n: Notification): QueuedNotification['notification'] => n;
void [_engineCheck, _engineBack, _notificationCheck];

export class StateStore {
  readonly path: string;
  private version = 0;
  private saved = 0;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly dir: string,
    private readonly snapshot: () => StateFile,
  ) {
    this.path = join(dir, 'state.json');
  }

  /** Reads the state file, or null when there is none yet (first start). */
  async load(): Promise<StateFile | null> {
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (cause) {
      throw new AlerterError('KT_ERR_ALERTER_STATE_UNWRITABLE', `cannot create alerter.stateDir ${this.dir}: ${(cause as Error).message}`, EXIT_RUNTIME, { cause });
    }
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new AlerterError('KT_ERR_ALERTER_STATE_UNREADABLE', `cannot read ${this.path}: ${(error as Error).message}`, EXIT_RUNTIME, { cause: error });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new AlerterError('KT_ERR_ALERTER_STATE_UNREADABLE', `${this.path} is not JSON: ${(error as Error).message}`, EXIT_RUNTIME);
    }
    const parsed = stateFileSchema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      throw new AlerterError('KT_ERR_ALERTER_STATE_UNREADABLE', `${this.path} is not an alerter state file: ${issues.join('; ')}`, EXIT_RUNTIME);
    }
    return parsed.data;
  }

  /** Marks the in-memory state changed; `flush()` then writes it. */
  touch(): void {
    this.version += 1;
  }

  /** Resolves once a save covering every change made before the call is on disk. */
  async flush(): Promise<void> {
    const wanted = this.version;
    while (this.saved < wanted) {
      if (this.writing === undefined) {
        const version = this.version;
        this.writing = this.write(this.snapshot()).then(
          () => {
            this.saved = Math.max(this.saved, version);
            this.writing = undefined;
          },
          (error: unknown) => {
            this.writing = undefined;
            throw error;
          },
        );
      }
      await this.writing;
    }
  }

  private async write(state: StateFile): Promise<void> {
    const tmp = `${this.path}.tmp`;
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(state));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.path);
    // The rename is durable only once the directory entry is.
    const dirFd = openSync(this.dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
}
