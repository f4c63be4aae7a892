import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip, gunzipSync } from 'node:zlib';

/** True when the first bytes are the gzip magic number. */
export function isGzipMagic(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Reads up to `bytes` bytes from the start of a file. */
export async function readHead(path: string, bytes = 64 * 1024): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * The decompressed start of a gzip file's head (best effort: a partial stream yields what it can), for sniffing.
 */
export function gunzipHead(head: Buffer, maxBytes = 64 * 1024): Buffer {
  try {
    return gunzipSync(head, { finishFlush: 2 /* Z_SYNC_FLUSH: accept a truncated stream */, maxOutputLength: Math.max(maxBytes, 1024 * 1024) }).subarray(0, maxBytes);
  } catch {
    return Buffer.alloc(0);
  }
}

/**
 * Opens a file as a stream of Buffers, gunzipping when asked; `onRawBytes` sees the on-disk bytes (for progress).
 * 64 KiB chunks: a chunk decodes to one string, and a string over 128 KiB lives in V8's large-object space, where the
 * chunk a surviving line still points into at a scavenge is promoted and kept until a full collection (256 KiB
 * chunks cost 35 MB more peak RSS at 512 MiB of logs, for no CPU gain: bench/analyze.bench.ts).
 */
export function openSource(path: string, gzip: boolean, onRawBytes: (bytes: number) => void, highWaterMark = 64 * 1024): AsyncIterable<Buffer> {
  const raw = createReadStream(path, { highWaterMark });
  if (!gzip) {
    return {
      async *[Symbol.asyncIterator]() {
        for await (const chunk of raw) {
          onRawBytes((chunk as Buffer).length);
          yield chunk as Buffer;
        }
      },
    };
  }
  const gunzip = createGunzip({ chunkSize: highWaterMark });
  raw.on('data', (chunk) => onRawBytes((chunk as Buffer).length));
  raw.on('error', (error) => gunzip.destroy(error));
  raw.pipe(gunzip);
  return gunzip as AsyncIterable<Buffer>;
}
