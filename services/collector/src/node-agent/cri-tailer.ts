import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@killtrace/logging';
import { comparePodLogPaths, CriLineJoiner, parseCriLine, parsePodLogPath, type JoinedCriLine, type PodLogPath } from '@killtrace/parsers';
import type { AppLogSignal, LogBatchLine } from '@killtrace/schemas';
import type { AppLogBatch, LogBatchPublisher, PublishResult, SignalPublisher } from '../publish/types.js';
import type { FollowerCheckpoint } from './checkpoint-store.js';
import { FileFollower, type FileSource, type FollowerEvent, type LineBatch } from './file-follower.js';
import type { NodeAgentMetrics } from './metrics.js';
import { PodUidIndex } from './pod-index.js';
import { redact, type CompiledRedaction } from './redaction.js';

export const CRI_STAGE = 'collector.node-agent.cri';

/**
 * Longest joined line kept, in characters (cut with a marker beyond): at most 3 bytes per character in UTF-8 keeps
 * one message well under Kafka's default 1 MiB `message.max.bytes`, so no line can block its file forever.
 */
export const MAX_LINE_CHARS = 64 * 1024;
const SLICE_SIGNALS = 500;
const SLICE_CHARS = 256 * 1024;

/** Splits a batch of signals so one produce request stays well under the broker's request and batch limits. */
export function publishSlices<T extends { text: string }>(signals: readonly T[]): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let chars = 0;
  for (const signal of signals) {
    if (current.length > 0 && (current.length >= SLICE_SIGNALS || chars + signal.text.length > SLICE_CHARS)) {
      out.push(current);
      current = [];
      chars = 0;
    }
    current.push(signal);
    chars += signal.text.length;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * Incarnations read, parsed and published at once (while one batch waits for Kafka, others are parsed): as many
 * read chunks as fit in `maxBytesInFlight`, at least one.
 */
export function pumpConcurrency(options: Pick<CriTailerOptions, 'readChunkBytes' | 'maxBytesInFlight'>): number {
  return Math.max(1, Math.floor(options.maxBytesInFlight / options.readChunkBytes));
}

export interface CriTailerOptions {
  root: string;
  rotateWaitMs: number;
  /** Bytes read (and published, then acknowledged) per batch. */
  readChunkBytes: number;
  /** Bytes read from one incarnation per poll before moving to the next (fairness). */
  maxBytesPerPoll: number;
  /** Most bytes read and not yet acknowledged, over all incarnations (see pumpConcurrency). */
  maxBytesInFlight: number;
  redaction: CompiledRedaction;
  /** `logs` message version: 2 (a batch of one incarnation's lines per message) or 1 (one line per message). */
  logMessageVersion: 1 | 2;
  publisher: SignalPublisher & LogBatchPublisher;
  metrics: NodeAgentMetrics;
  logger: Logger;
  now: () => number;
}

type Stream = 'stdout' | 'stderr';

/** One container incarnation: `<root>/<ns>_<pod>_<uid>/<container>/<N>.log` and its rotated files. */
interface Incarnation {
  path: string;
  ref: PodLogPath;
  pod: AppLogSignal['pod'];
  follower: FileFollower;
  joiner: CriLineJoiner;
  /** Per stream, while a P chunk sequence is open: the offset of its first chunk in each file it spans. */
  pending: Record<Stream, Map<FileSource, number> | undefined>;
  seq: number;
}

async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
}

/**
 * Tails every container log under the kubelet's log root. Discovery is a poll of the tree; each incarnation's
 * `N.log` is followed across rotations (FileFollower), P chunks are joined up to their F (across files), the text is
 * redacted, and each read batch is published as `logs` messages of version 2 (several lines of the incarnation, its
 * identity once), several incarnations at a time (pumpConcurrency): a batch's offsets are committed (and may reach the
 * checkpoint) only once the publisher has acknowledged it.
 *
 * Open P chunks at a batch end are not persisted: the checkpoint stays at the first chunk of each open sequence (in
 * every file it spans), so a restart re-reads the sequence from its start (and may repeat complete lines of the other
 * stream written meanwhile: at least once). A sequence never closed by an F is flushed (marked unterminated by the
 * joiner) once the incarnation's file is gone or a newer incarnation exists and the file has been idle for
 * `rotateWaitMs`.
 */
export class CriTailer {
  readonly podIndex = new PodUidIndex();
  private readonly incarnations = new Map<string, Incarnation>();
  private checkpoints: Map<string, FollowerCheckpoint>;
  private checkpointSavedAt: number;
  private discovered = false;

  constructor(
    private readonly options: CriTailerOptions,
    checkpoint: { files: readonly FollowerCheckpoint[]; savedAt: number },
  ) {
    this.checkpoints = new Map(checkpoint.files.map((f) => [f.path, f]));
    this.checkpointSavedAt = checkpoint.savedAt;
  }

  /** True after the first discovery pass. */
  get ready(): boolean {
    return this.discovered;
  }

  /** Finds pods and incarnations; starts following new `N.log` files (from their checkpoint when there is one). */
  async discover(): Promise<void> {
    const { root } = this.options;
    const pods: { namespace: string; name: string; uid: string }[] = [];
    const live = new Map<string, PodLogPath>();
    for (const podDir of await listDir(root)) {
      const podRef = parsePodLogPath(`${podDir}/c/0.log`);
      if (podRef === undefined) continue;
      const containers = await listDir(join(root, podDir));
      if (containers.length === 0) continue;
      pods.push({ namespace: podRef.namespace, name: podRef.pod, uid: podRef.uid });
      for (const container of containers) {
        for (const file of await listDir(join(root, podDir, container))) {
          const path = join(root, podDir, container, file);
          const ref = parsePodLogPath(path);
          if (ref !== undefined && ref.rotatedSuffix === undefined && !ref.gzip) live.set(path, ref);
        }
      }
    }
    this.podIndex.update(pods, this.options.now());
    for (const [path, ref] of live) {
      if (this.incarnations.has(path)) continue;
      await this.follow(path, ref);
    }
    if (!this.discovered) {
      for (const path of this.checkpoints.keys()) {
        if (!live.has(path)) this.options.logger.info({ path }, 'checkpointed log file no longer exists; forgetting it');
      }
      this.checkpoints = new Map();
      this.discovered = true;
    }
    this.options.metrics.filesFollowed.set(this.fileCount());
  }

  /**
   * Reads, publishes and commits what is new in every incarnation, pumpConcurrency() at a time; stops early when
   * `stopping()` turns true. `progress` runs after each incarnation (the caller writes a checkpoint when one is due,
   * so a long catch-up over many files is checkpointed as it goes).
   */
  async pump(stopping: () => boolean, progress?: () => Promise<void>): Promise<void> {
    const queue = [...this.incarnations.values()];
    const worker = async (): Promise<void> => {
      // One read buffer per worker, reused for every chunk: the splitter decodes a chunk before the next read and
      // copies what it carries, so nothing keeps it.
      const buffer = Buffer.allocUnsafe(this.options.readChunkBytes);
      for (let inc = queue.shift(); inc !== undefined && !stopping(); inc = queue.shift()) {
        try {
          await this.pumpOne(inc, stopping, buffer);
        } catch (error) {
          this.options.logger.warn({ err: error, path: inc.path }, 'reading a container log failed; retrying from its checkpoint');
          this.rewind(inc);
        }
        await progress?.();
      }
    };
    await Promise.all(Array.from({ length: Math.min(pumpConcurrency(this.options), queue.length) }, worker));
    this.options.metrics.filesFollowed.set(this.fileCount());
  }

  checkpoint(): FollowerCheckpoint[] {
    const files = [...this.incarnations.values()].map((inc) => inc.follower.checkpoint());
    // Checkpoint entries not yet matched by discovery are kept, so an early checkpoint write loses nothing.
    return [...files, ...[...this.checkpoints.values()].filter((cp) => !this.incarnations.has(cp.path))];
  }

  async close(): Promise<void> {
    for (const inc of this.incarnations.values()) await inc.follower.close();
    this.incarnations.clear();
  }

  private fileCount(): number {
    let n = 0;
    for (const inc of this.incarnations.values()) n += inc.follower.sources.length;
    return n;
  }

  private async follow(path: string, ref: PodLogPath): Promise<void> {
    const dir = join(path, '..');
    const follower = new FileFollower(path, {
      rotateWaitMs: this.options.rotateWaitMs,
      now: this.options.now,
      onEvent: (event) => this.onEvent(event),
      listRotated: async () => {
        const rotated = new Map<string, { path: string; ref: PodLogPath }>();
        for (const file of await listDir(dir)) {
          const r = parsePodLogPath(join(dir, file));
          if (r === undefined || r.restartCount !== ref.restartCount || r.rotatedSuffix === undefined) continue;
          const existing = rotated.get(r.rotatedSuffix);
          // While the kubelet gzips, both `N.log.<date>` and `.gz` exist: the plain file is the one to read.
          if (existing === undefined || existing.ref.gzip) rotated.set(r.rotatedSuffix, { path: join(dir, file), ref: r });
        }
        return [...rotated.values()].sort((a, b) => comparePodLogPaths(a.ref, b.ref)).map((r) => r.path);
      },
    });
    await follower.init(this.checkpoints.get(path), this.checkpointSavedAt, true);
    this.incarnations.set(path, {
      path,
      ref,
      pod: { namespace: ref.namespace, name: ref.pod, uid: ref.uid },
      follower,
      joiner: new CriLineJoiner({ file: path, maxLineChars: MAX_LINE_CHARS }),
      pending: { stdout: undefined, stderr: undefined },
      seq: 0,
    });
  }

  private onEvent(event: FollowerEvent): void {
    const { metrics, logger } = this.options;
    if (event.type === 'rotated') metrics.rotations.inc();
    else if (event.type === 'truncated') metrics.truncations.inc();
    else if (event.type === 'lost') metrics.lostFiles.inc();
    const level = event.type === 'lost' || event.type === 'truncated' ? 'warn' : 'debug';
    logger[level]({ path: event.path, detail: event.detail }, `log file ${event.type}`);
  }

  private async pumpOne(inc: Incarnation, stopping: () => boolean, buffer: Buffer): Promise<void> {
    const { follower } = inc;
    await follower.poll();
    let budget = this.options.maxBytesPerPoll;
    while (budget > 0 && !stopping()) {
      const sent = await this.readAndPublish(inc, Math.min(this.options.readChunkBytes, budget), buffer);
      if (sent === undefined) break;
      budget -= sent.bytes;
      if (!(await sent.acknowledged)) {
        this.rewind(inc);
        return;
      }
      follower.commit(sent.read, this.holds(inc));
    }
    const open = inc.pending.stdout !== undefined || inc.pending.stderr !== undefined;
    const idle = this.options.now() - follower.lastGrowthAt() >= this.options.rotateWaitMs;
    if (open && idle && (follower.gone() || this.hasNewerIncarnation(inc))) {
      // The container ended mid-line: its last P chunks will never get their F.
      const logs = this.logBatch(inc, follower.sources[0]?.path ?? inc.path, inc.joiner.end().map((j) => this.toLine(j)));
      if (!(await this.publish(logs, []))) {
        this.rewind(inc);
        return;
      }
      inc.pending = { stdout: undefined, stderr: undefined };
      follower.commit(undefined, this.holds(inc));
    }
    if (follower.gone() && !open && (await follower.drained())) {
      await follower.close();
      this.incarnations.delete(inc.path);
      this.options.logger.debug({ path: inc.path }, 'stopped following a deleted log file');
    }
  }

  /**
   * Reads one chunk and starts publishing it. Returns once the chunk is encoded for Kafka, with only what the commit
   * needs: while the acknowledgement is awaited, neither the lines nor the chunk's text stay reachable (they die
   * young, which keeps the garbage collector's work and the heap small).
   */
  private async readAndPublish(inc: Incarnation, maxBytes: number, buffer: Buffer): Promise<{ bytes: number; read: Pick<LineBatch, 'source' | 'end'>; acknowledged: Promise<boolean> } | undefined> {
    const batch = await inc.follower.read(maxBytes, buffer);
    if (batch === undefined) return undefined;
    const { logs, malformed } = this.toBatch(inc, batch);
    return { bytes: batch.bytes, read: { source: batch.source, end: batch.end }, acknowledged: this.publish(logs, malformed) };
  }

  private hasNewerIncarnation(inc: Incarnation): boolean {
    for (const other of this.incarnations.values()) {
      if (other.ref.uid === inc.ref.uid && other.ref.container === inc.ref.container && other.ref.restartCount > inc.ref.restartCount) return true;
    }
    return false;
  }

  private holds(inc: Incarnation): Map<FileSource, number> {
    const holds = new Map<FileSource, number>();
    for (const stream of ['stdout', 'stderr'] as const) {
      for (const [source, offset] of inc.pending[stream] ?? []) holds.set(source, Math.min(offset, holds.get(source) ?? Infinity));
    }
    return holds;
  }

  private rewind(inc: Incarnation): void {
    inc.follower.rewind();
    inc.joiner = new CriLineJoiner({ file: inc.path, maxLineChars: MAX_LINE_CHARS });
    inc.pending = { stdout: undefined, stderr: undefined };
  }

  private toBatch(inc: Incarnation, batch: LineBatch): { logs: AppLogBatch; malformed: string[] } {
    const { metrics } = this.options;
    const lines: LogBatchLine[] = [];
    const malformed: string[] = [];
    metrics.linesRead.inc({ input: 'cri' }, batch.lines.length);
    metrics.bytesRead.inc({ input: 'cri' }, batch.bytes);
    for (const line of batch.lines) {
      const cri = parseCriLine(line.text);
      if (cri === undefined) {
        if (line.text.length > 0) malformed.push(line.text);
        continue;
      }
      if (cri.partial) {
        let spans = inc.pending[cri.stream];
        if (spans === undefined) inc.pending[cri.stream] = spans = new Map();
        if (!spans.has(batch.source)) spans.set(batch.source, line.start);
      } else {
        inc.pending[cri.stream] = undefined;
      }
      const joined = inc.joiner.pushParsed(cri, ++inc.seq);
      if (joined !== undefined) lines.push(this.toLine(joined));
    }
    return { logs: this.logBatch(inc, batch.source.path, lines), malformed };
  }

  private logBatch(inc: Incarnation, file: string, lines: LogBatchLine[]): AppLogBatch {
    return { pod: inc.pod, container: inc.ref.container, restartCount: inc.ref.restartCount, source: { file }, lines };
  }

  private toLine(joined: JoinedCriLine): LogBatchLine {
    const { text, count } = redact(joined.text, this.options.redaction);
    if (count > 0) this.options.metrics.redactions.inc(count);
    return { at: joined.at, stream: joined.stream, text };
  }

  /**
   * Starts publishing (version 2: the lines are encoded before this returns) and resolves once acknowledged; false
   * when it failed (the batch will be read again).
   */
  private publish(logs: AppLogBatch, malformed: string[]): Promise<boolean> {
    const { publisher } = this.options;
    const lines = logs.lines.length;
    const path = logs.source?.file;
    let sending: Promise<PublishResult> | undefined;
    try {
      if (lines > 0 && this.options.logMessageVersion === 2) sending = publisher.publishLogBatches([logs], { stage: CRI_STAGE });
      else if (lines > 0) sending = this.publishSignals(logs);
    } catch (error) {
      sending = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return this.acknowledged(sending, malformed.map((text) => redact(text, this.options.redaction).text), lines, path);
  }

  private async acknowledged(sending: Promise<PublishResult> | undefined, malformed: string[], lines: number, path: string | undefined): Promise<boolean> {
    const { publisher, metrics, logger } = this.options;
    try {
      if (sending !== undefined) {
        const result = await sending;
        metrics.signalsPublished.inc({ input: 'cri' }, result.published);
        if (result.deadLettered > 0) metrics.deadLetters.inc({ input: 'cri' }, result.deadLettered);
      }
      for (const original of malformed) {
        await publisher.deadLetter({ stage: CRI_STAGE, reason: 'not a CRI log line', original });
        metrics.malformedLines.inc({ input: 'cri' });
        metrics.deadLetters.inc({ input: 'cri' });
      }
      return true;
    } catch (error) {
      metrics.publishFailures.inc({ input: 'cri' });
      logger.warn({ err: error, lines, path }, 'publishing app log lines failed; they will be read again');
      return false;
    }
  }

  /** `logs` message version 1: one message per line, in slices. */
  private async publishSignals(logs: AppLogBatch): Promise<PublishResult> {
    const signals: AppLogSignal[] = logs.lines.map((line) => ({ kind: 'app_log', ...line, pod: logs.pod, container: logs.container, restartCount: logs.restartCount, ...(logs.source === undefined ? {} : { source: logs.source }) }));
    const total: PublishResult = { published: 0, deadLettered: 0 };
    for (const slice of publishSlices(signals)) {
      const result = await this.options.publisher.publish(slice, { stage: CRI_STAGE });
      total.published += result.published;
      total.deadLettered += result.deadLettered;
    }
    return total;
  }
}
