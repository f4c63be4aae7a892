import { createHash } from 'node:crypto';
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import type { FollowerCheckpoint, SourceCheckpoint } from './checkpoint-store.js';
import { LineSplitter, type OffsetLine } from './line-splitter.js';

/** Bytes hashed to recognise a file after a rename or gzip. */
export const FINGERPRINT_BYTES = 1024;

/** One physical file a follower reads (the live one, or one rotated away and still being finished). */
export interface FileSource {
  readonly id: number;
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
  readonly gzip: boolean;
  /** Next byte to read. */
  readOffset: number;
  /** End of the last acknowledged line. */
  committed: number;
  /** Start of a line the consumer still needs (an open P chunk, a multi-line entry): the checkpoint stays there. */
  hold: number | undefined;
  /** When it was rotated away (undefined for the live file). */
  retiredAt: number | undefined;
  lastGrowthAt: number;
  fp: string | undefined;
  fpLen: number;
  fh: FileHandle | undefined;
  /** Decompressed content of a `.gz` file (rotated files are bounded by the kubelet's containerLogMaxSize). */
  data: Buffer | undefined;
  readonly splitter: LineSplitter;
}

/** Complete lines read from one source; `end` is the offset after the last line (undefined when none completed). */
export interface LineBatch {
  source: FileSource;
  lines: OffsetLine[];
  bytes: number;
  end: number | undefined;
}

export type FollowerEventType = 'opened' | 'resumed' | 'rotated' | 'truncated' | 'dropped' | 'lost';
export interface FollowerEvent {
  type: FollowerEventType;
  path: string;
  detail?: string;
}

export interface FileFollowerOptions {
  /** How long a rotated file is still read after its last growth before it is closed. */
  rotateWaitMs: number;
  maxLineBytes?: number;
  /** Rotated siblings of the followed path, oldest first (used on start to find checkpointed files again). */
  listRotated?: () => Promise<string[]>;
  onEvent?: (event: FollowerEvent) => void;
  now?: () => number;
}

interface Stat {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

async function statOrUndefined(path: string): Promise<Stat | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

const isGzipPath = (path: string): boolean => path.endsWith('.gz');

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

let nextId = 1;

/** The offset a checkpoint may record for a source: acknowledged, and not past a line still needed. */
export function safeOffset(source: FileSource): number {
  return source.hold === undefined ? source.committed : Math.min(source.committed, source.hold);
}

/**
 * Follows one path across rotations by file identity (dev + inode). The open handle of a rotated file is kept and
 * read to its end before the new file (rotation renames, then a new file appears: no line is lost, even when the
 * rotated file is gzipped and deleted meanwhile, since the handle still reads it); it stays open for `rotateWaitMs`
 * after its last growth for lines the runtime wrote before reopening. A file that shrinks below the read offset was
 * truncated and is read again from 0. On start, checkpointed files are found again by identity, or by a fingerprint
 * of their first bytes when they were gzipped while the agent was down (the `.gz` is read decompressed from the
 * saved offset), and rotated files newer than the checkpointed one are read from 0.
 *
 * The consumer reads batches, publishes them, then `commit`s: only committed positions reach `checkpoint()`.
 */
export class FileFollower {
  readonly sources: FileSource[] = [];
  private missingSince: number | undefined;
  private readonly now: () => number;

  constructor(
    readonly path: string,
    private readonly options: FileFollowerOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Opens the sources: from a checkpoint, or (`readRotated`) every rotated sibling from 0, then the live file. */
  async init(checkpoint: FollowerCheckpoint | undefined, savedAt: number, readRotated: boolean): Promise<void> {
    const rotated = this.options.listRotated ? await this.options.listRotated() : [];
    if (checkpoint === undefined || checkpoint.sources.length === 0) {
      if (readRotated) for (const path of rotated) await this.addSource(path, 0, true);
      await this.poll();
      return;
    }
    const candidates = [...rotated, this.path];
    const stats = await Promise.all(candidates.map(statOrUndefined));
    const gzCache = new Map<string, Buffer>();
    const matched = new Map<number, SourceCheckpoint>();
    for (const cp of checkpoint.sources) {
      let index = stats.findIndex((s, i) => s !== undefined && !matched.has(i) && s.dev === cp.dev && s.ino === cp.ino);
      // Inode numbers are reused: a file with the same identity but other first bytes is another file.
      if (index >= 0 && cp.fp !== undefined && (cp.fpLen ?? 0) > 0) {
        const head = await this.head(candidates[index] as string, cp.fpLen ?? 0, gzCache);
        if (head === undefined || head.length !== cp.fpLen || sha256(head) !== cp.fp) index = -1;
      }
      if (index < 0 && cp.fp !== undefined && (cp.fpLen ?? 0) > 0) {
        for (let i = 0; i < candidates.length && index < 0; i++) {
          const path = candidates[i] as string;
          if (matched.has(i) || stats[i] === undefined) continue;
          const head = await this.head(path, cp.fpLen ?? 0, gzCache);
          if (head !== undefined && head.length === cp.fpLen && sha256(head) === cp.fp) index = i;
        }
      }
      if (index >= 0) matched.set(index, cp);
      else this.options.onEvent?.({ type: 'lost', path: cp.path, detail: `checkpointed file (inode ${cp.ino}, offset ${cp.offset}) is gone` });
    }
    let first: number;
    if (matched.size > 0) first = Math.min(...matched.keys());
    else {
      // Nothing found again: read what was rotated after the checkpoint was written.
      first = stats.findIndex((s, i) => i < candidates.length - 1 && s !== undefined && s.mtimeMs >= savedAt);
      if (first < 0) first = candidates.length - 1;
    }
    for (let i = first; i < candidates.length; i++) {
      if (stats[i] === undefined) continue;
      const cp = matched.get(i);
      const live = i === candidates.length - 1;
      await this.addSource(candidates[i] as string, cp?.offset ?? 0, !live, gzCache.get(candidates[i] as string), cp);
    }
    await this.poll();
  }

  /** Detects rotation (the path names another file), truncation and deletion; opens the live file. */
  async poll(): Promise<void> {
    const now = this.now();
    const live = await statOrUndefined(this.path);
    const current = this.sources.find((s) => s.retiredAt === undefined);
    if (live === undefined) {
      this.missingSince ??= now;
    } else {
      this.missingSince = undefined;
      if (current === undefined || current.dev !== live.dev || current.ino !== live.ino) {
        const known = this.sources.find((s) => !s.gzip && s.dev === live.dev && s.ino === live.ino);
        if (current !== undefined && known === undefined) {
          current.retiredAt = now;
          this.options.onEvent?.({ type: 'rotated', path: this.path });
        }
        if (known === undefined) await this.addSource(this.path, 0, false);
      }
    }
    for (const s of this.sources) {
      if (s.fh === undefined) continue;
      const { size } = await s.fh.stat();
      if (size < s.readOffset) {
        this.options.onEvent?.({ type: 'truncated', path: s.path, detail: `size ${size} < offset ${s.readOffset}` });
        s.readOffset = 0;
        s.committed = 0;
        s.hold = undefined;
        s.fp = undefined;
        s.fpLen = 0;
        s.splitter.reset();
      }
    }
    for (const s of [...this.sources]) {
      if (s.retiredAt === undefined || now - Math.max(s.retiredAt, s.lastGrowthAt) < this.options.rotateWaitMs) continue;
      if (!(await this.drainedSource(s)) || s.hold !== undefined) continue;
      await this.closeSource(s);
      this.options.onEvent?.({ type: 'dropped', path: s.path });
    }
  }

  /**
   * Reads up to `maxBytes` from the oldest source with unread bytes; undefined when every source is at its end.
   * `buffer`, when given, is read into instead of a new one (the caller may reuse it once this returns: the lines are
   * decoded and a partial line is copied).
   */
  async read(maxBytes: number, buffer?: Buffer): Promise<LineBatch | undefined> {
    for (const s of this.sources) {
      let chunk: Buffer;
      if (s.data !== undefined) {
        if (s.readOffset >= s.data.length) continue;
        chunk = s.data.subarray(s.readOffset, s.readOffset + maxBytes);
      } else if (s.fh !== undefined) {
        let want = Math.min(maxBytes, buffer?.length ?? 0);
        if (want < maxBytes) {
          // No reusable buffer: fstat first, so an idle file (the common case at every poll) costs no allocation.
          const { size } = await s.fh.stat();
          if (size <= s.readOffset) continue;
          want = Math.min(maxBytes, size - s.readOffset);
        }
        const buf = buffer !== undefined && buffer.length >= want ? buffer : Buffer.allocUnsafe(want);
        const { bytesRead } = await s.fh.read(buf, 0, want, s.readOffset);
        if (bytesRead === 0) continue;
        chunk = buf.subarray(0, bytesRead);
      } else continue;
      const lines = s.splitter.push(chunk, s.readOffset);
      s.readOffset += chunk.length;
      s.lastGrowthAt = this.now();
      if (s.fpLen < FINGERPRINT_BYTES && s.readOffset > s.fpLen) await this.fingerprint(s);
      return { source: s, lines, bytes: chunk.length, end: lines.length > 0 ? (lines[lines.length - 1] as OffsetLine).end : undefined };
    }
    return undefined;
  }

  /** Marks a batch as acknowledged; `holds` are the starts of lines the consumer still needs, per source. */
  commit(batch: Pick<LineBatch, 'source' | 'end'> | undefined, holds: ReadonlyMap<FileSource, number>): void {
    if (batch?.end !== undefined && batch.end > batch.source.committed) batch.source.committed = batch.end;
    for (const s of this.sources) s.hold = holds.get(s);
  }

  /** Forgets everything read but not committed: the next reads start again at the checkpointable offsets. */
  rewind(): void {
    for (const s of this.sources) {
      const offset = safeOffset(s);
      s.readOffset = offset;
      s.committed = offset;
      s.hold = undefined;
      s.splitter.reset();
    }
  }

  checkpoint(): FollowerCheckpoint {
    return {
      path: this.path,
      sources: this.sources.map((s) => {
        const cp: SourceCheckpoint = { path: s.path, dev: s.dev, ino: s.ino, offset: safeOffset(s) };
        if (s.fp !== undefined) {
          cp.fp = s.fp;
          cp.fpLen = s.fpLen;
        }
        if (s.gzip) cp.gzip = true;
        return cp;
      }),
    };
  }

  /** The followed path has been gone for `rotateWaitMs` (pod or incarnation deleted). */
  gone(): boolean {
    return this.missingSince !== undefined && this.now() - this.missingSince >= this.options.rotateWaitMs;
  }

  /** Every source read to its end (a trailing line without LF is never completed) and committed. */
  async drained(): Promise<boolean> {
    for (const s of this.sources) if (!(await this.drainedSource(s))) return false;
    return true;
  }

  /** Time of the last byte read from any source. */
  lastGrowthAt(): number {
    return Math.max(0, ...this.sources.map((s) => s.lastGrowthAt));
  }

  async close(): Promise<void> {
    for (const s of [...this.sources]) await this.closeSource(s);
  }

  private async drainedSource(s: FileSource): Promise<boolean> {
    const size = s.data !== undefined ? s.data.length : s.fh !== undefined ? (await s.fh.stat()).size : s.readOffset;
    return size <= s.readOffset && s.committed >= (s.splitter.pendingStart ?? s.readOffset);
  }

  private async closeSource(s: FileSource): Promise<void> {
    const i = this.sources.indexOf(s);
    if (i >= 0) this.sources.splice(i, 1);
    await s.fh?.close().catch(() => undefined);
  }

  private async head(path: string, length: number, gzCache: Map<string, Buffer>): Promise<Buffer | undefined> {
    try {
      if (isGzipPath(path)) {
        let data = gzCache.get(path);
        if (data === undefined) {
          data = gunzipSync(await readFile(path));
          gzCache.set(path, data);
        }
        return data.subarray(0, length);
      }
      const fh = await open(path, 'r');
      try {
        const buf = Buffer.alloc(length);
        const { bytesRead } = await fh.read(buf, 0, length, 0);
        return buf.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    } catch {
      return undefined;
    }
  }

  private async fingerprint(s: FileSource): Promise<void> {
    const length = Math.min(FINGERPRINT_BYTES, s.readOffset);
    let head: Buffer;
    if (s.data !== undefined) head = s.data.subarray(0, length);
    else if (s.fh !== undefined) {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await s.fh.read(buf, 0, length, 0);
      head = buf.subarray(0, bytesRead);
    } else return;
    s.fp = sha256(head);
    s.fpLen = head.length;
  }

  private async addSource(path: string, offset: number, retired: boolean, gzData?: Buffer, cp?: SourceCheckpoint): Promise<void> {
    const now = this.now();
    let fh: FileHandle | undefined;
    let data: Buffer | undefined;
    let st: Stat;
    try {
      if (isGzipPath(path)) {
        st = await stat(path);
        data = gzData ?? gunzipSync(await readFile(path));
      } else {
        fh = await open(path, 'r');
        st = await fh.stat();
      }
    } catch (error) {
      await fh?.close().catch(() => undefined);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      this.options.onEvent?.({ type: 'lost', path, detail: (error as Error).message });
      return;
    }
    const size = data !== undefined ? data.length : st.size;
    let start = offset;
    if (start > size) {
      this.options.onEvent?.({ type: 'truncated', path, detail: `size ${size} < checkpointed offset ${start}` });
      start = 0;
    }
    const source: FileSource = {
      id: nextId++,
      path,
      dev: st.dev,
      ino: st.ino,
      gzip: data !== undefined,
      readOffset: start,
      committed: start,
      hold: undefined,
      retiredAt: retired ? now : undefined,
      lastGrowthAt: now,
      fp: start > 0 && cp?.fp !== undefined ? cp.fp : undefined,
      fpLen: start > 0 && cp?.fp !== undefined ? (cp.fpLen ?? 0) : 0,
      fh,
      data,
      splitter: new LineSplitter(this.options.maxLineBytes),
    };
    if (source.fpLen < FINGERPRINT_BYTES && size > source.fpLen) {
      const saved = source.readOffset;
      source.readOffset = size;
      await this.fingerprint(source);
      source.readOffset = saved;
    }
    this.sources.push(source);
    this.options.onEvent?.({ type: offset > 0 ? 'resumed' : 'opened', path, ...(offset > 0 ? { detail: `offset ${start}` } : {}) });
  }
}
