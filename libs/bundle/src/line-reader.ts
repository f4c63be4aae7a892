import { StringDecoder } from 'node:string_decoder';
import { truncationMarker } from '@killtrace/parsers';

const REPLACEMENT = '\ufffd';
const ENCODED_REPLACEMENT = Buffer.from(REPLACEMENT, 'utf8');

/** Wraps an exception thrown by the consumer, so it is rethrown rather than reported as a read error. */
class ConsumerError extends Error {
  constructor(override readonly cause: unknown) {
    super('consumer failed');
    this.name = 'ConsumerError';
  }
}

export interface LineReaderOptions {
  /** Longest line kept, in characters; longer ones are cut and end with a marker (default 1 Mi). */
  maxLineChars?: number;
  /** Called with each raw chunk's size in bytes (before any decompression is up to the caller). */
  onChunk?: (bytes: number) => void;
}

/** What reading a file's lines found. */
export interface LineReadResult {
  lines: number;
  /** Decoded bytes seen (after decompression). */
  bytes: number;
  /** Lines cut at `maxLineChars`. */
  truncatedLines: number;
  /** Invalid UTF-8 was decoded with replacement characters. */
  invalidUtf8: boolean;
  /** Byte offset of the first NUL byte: the file is binary and reading stopped there. */
  binaryAt?: number;
  /** The source failed (read error, corrupt gzip); lines before the failure were delivered. */
  error?: Error;
}

/**
 * Streams a byte source as lines (LF-separated; the terminating LF is not included) with bounded memory: a line
 * longer than `maxLineChars` is cut and marked, invalid UTF-8 is replaced (and reported once), a NUL byte stops the
 * file (binary data). `onLine` may return a promise to apply backpressure; a synchronous consumer costs nothing.
 */
export async function readLines(
  source: AsyncIterable<Buffer>,
  onLine: (line: string, lineNo: number) => void | Promise<void>,
  options: LineReaderOptions = {},
): Promise<LineReadResult> {
  const max = options.maxLineChars ?? 1024 * 1024;
  const decoder = new StringDecoder('utf8');
  const result: LineReadResult = { lines: 0, bytes: 0, truncatedLines: 0, invalidUtf8: false };
  let carry = '';
  let carryTotal = 0;
  let lineNo = 0;

  const finishLine = (text: string, total: number): string => {
    if (total <= max) return text;
    result.truncatedLines++;
    return text.slice(0, max) + truncationMarker(total);
  };

  const wrap = (error: unknown): never => {
    throw new ConsumerError(error);
  };

  try {
    for await (const chunk of source) {
      const buf = chunk as Buffer;
      options.onChunk?.(buf.length);
      const nul = buf.indexOf(0);
      if (nul >= 0) {
        result.binaryAt = result.bytes + nul;
        result.bytes += buf.length;
        return result;
      }
      result.bytes += buf.length;
      const s = decoder.write(buf);
      if (!result.invalidUtf8 && s.includes(REPLACEMENT) && !buf.includes(ENCODED_REPLACEMENT)) result.invalidUtf8 = true;
      let start = 0;
      for (;;) {
        const nl = s.indexOf('\n', start);
        if (nl < 0) break;
        let line: string;
        if (carryTotal > 0) {
          const partLength = nl - start;
          const total = carryTotal + partLength;
          const room = max - carry.length;
          line = finishLine(room > 0 ? carry + s.slice(start, start + Math.min(partLength, room)) : carry, total);
          carry = '';
          carryTotal = 0;
        } else {
          line = nl - start > max ? finishLine(s.slice(start, start + max), nl - start) : s.slice(start, nl);
        }
        start = nl + 1;
        lineNo++;
        let r: void | Promise<void> = undefined;
        try {
          r = onLine(line, lineNo);
        } catch (error) {
          wrap(error);
        }
        if (r !== undefined) await r.catch(wrap);
      }
      if (start < s.length) {
        const restLength = s.length - start;
        const room = max - carry.length;
        if (room > 0) carry += restLength <= room ? s.slice(start) : s.slice(start, start + room);
        carryTotal += restLength;
      }
    }
    const tail = decoder.end();
    if (tail.length > 0) {
      if (tail.includes(REPLACEMENT)) result.invalidUtf8 = true;
      const room = max - carry.length;
      if (room > 0) carry += tail.slice(0, room);
      carryTotal += tail.length;
    }
  } catch (error) {
    if (error instanceof ConsumerError) throw error.cause;
    result.error = error instanceof Error ? error : new Error(String(error));
  }
  if (carryTotal > 0) {
    lineNo++;
    const r = onLine(finishLine(carry, carryTotal), lineNo);
    if (r !== undefined) await r;
  }
  result.lines = lineNo;
  return result;
}
