/** One complete line read from a file, with the byte range it came from (`end` is just past its LF). */
export interface OffsetLine {
  text: string;
  start: number;
  end: number;
}

/**
 * Splits bytes read from a file position into complete LF-terminated lines, tracking byte offsets so a checkpoint
 * can name exactly where the next unread line starts. Bytes after the last LF are carried until the next chunk;
 * a carried line longer than `maxLineBytes` is emitted cut (its bytes are consumed), so memory stays bounded.
 * Pure: no I/O.
 */
export class LineSplitter {
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private carryStart = 0;

  constructor(private readonly maxLineBytes = 1024 * 1024) {}

  /** Forgets any carried bytes (after a rewind or truncation). */
  reset(): void {
    this.carry = [];
    this.carryBytes = 0;
  }

  /** Offset of the first byte not yet part of an emitted line. */
  get pendingStart(): number | undefined {
    return this.carryBytes > 0 ? this.carryStart : undefined;
  }

  /** Feeds `chunk`, read at file offset `position`; returns the lines it completed. */
  push(chunk: Buffer, position: number): OffsetLine[] {
    const out: OffsetLine[] = [];
    let start = 0;
    if (this.carryBytes === 0) this.carryStart = position;
    else {
      // The line carried from the previous chunk ends at this chunk's first LF: joined alone, so the rest of the
      // chunk still takes the one-decode path below (a chunk boundary almost always cuts a line).
      const nl = chunk.indexOf(10);
      if (nl >= 0) {
        const bytes = Buffer.concat([...this.carry, chunk.subarray(0, nl)]);
        out.push({ text: bytes.toString('utf8'), start: this.carryStart, end: position + nl + 1 });
        this.reset();
        start = nl + 1;
      }
    }
    const last = this.carryBytes === 0 ? chunk.lastIndexOf(10) : -1;
    if (last >= start) {
      // One UTF-8 decode for the rest of the chunk instead of one per line. When every byte became one UTF-16 unit
      // (ASCII, or lone invalid bytes each decoded to U+FFFD), character offsets are byte offsets and each line is a
      // slice of that string, exactly what decoding the line alone gives; otherwise the per-line loop below runs.
      const text = chunk.toString('utf8', start, last + 1);
      if (text.length === last + 1 - start) {
        const base = position + start;
        let from = 0;
        for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
          out.push({ text: text.slice(from, nl), start: base + from, end: base + nl + 1 });
          from = nl + 1;
        }
        start = last + 1;
      }
    }
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      let bytes = chunk.subarray(start, nl);
      let lineStart = position + start;
      if (this.carryBytes > 0) {
        bytes = Buffer.concat([...this.carry, bytes]);
        lineStart = this.carryStart;
        this.reset();
      }
      out.push({ text: bytes.toString('utf8'), start: lineStart, end: position + nl + 1 });
      start = nl + 1;
    }
    if (start < chunk.length) {
      if (this.carryBytes === 0) this.carryStart = position + start;
      this.carry.push(Buffer.from(chunk.subarray(start)));
      this.carryBytes += chunk.length - start;
      if (this.carryBytes > this.maxLineBytes) {
        const bytes = Buffer.concat(this.carry);
        out.push({ text: bytes.subarray(0, this.maxLineBytes).toString('utf8'), start: this.carryStart, end: position + chunk.length });
        this.reset();
      }
    }
    return out;
  }
}
