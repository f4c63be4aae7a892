import { constants, createReadStream, createWriteStream, fstatSync, open } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';

/** What copying a pipe to a file found. */
export interface SpoolResult {
  bytes: number;
  /** No byte arrived for `idleMs`: the writer is gone or never came; what arrived before is kept. */
  timedOut: boolean;
  error?: Error;
}

/** The standard input's name in diagnostics. */
export const STDIN_NAME = '<stdin>';

/**
 * Copies a pipe (`-` for standard input, a FIFO, `<(kubectl ...)`) to `target`, so the bundle reader can sniff it
 * and read it again like any file: a pipe can be read only once, and opening a FIFO a second time blocks until a
 * new writer comes. The FIFO is opened non-blocking and read as a socket, so an idle timer can stop the read.
 */
export async function spoolPipe(path: string, target: string, idleMs: number, onBytes: (bytes: number) => void): Promise<SpoolResult> {
  const source = await openPipe(path);
  const out = createWriteStream(target);
  let bytes = 0;
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      source.destroy();
    }, idleMs);
  };
  try {
    arm();
    await new Promise<void>((resolve, reject) => {
      source.on('data', (chunk: Buffer) => {
        arm();
        bytes += chunk.length;
        onBytes(chunk.length);
        if (!out.write(chunk)) {
          source.pause();
          out.once('drain', () => source.resume());
        }
      });
      source.once('end', resolve);
      source.once('close', resolve);
      source.once('error', reject);
    });
    return { bytes, timedOut };
  } catch (error) {
    return { bytes, timedOut, error: error instanceof Error ? error : new Error(String(error)) };
  } finally {
    if (timer) clearTimeout(timer);
    await new Promise<void>((resolve) => out.end(resolve));
  }
}

async function openPipe(path: string): Promise<Readable> {
  if (path === '-') {
    const info = fstatSync(0);
    // A redirected file (`< events.json`) is read as a file; a pipe as a socket (cancellable).
    return info.isFIFO() || info.isSocket() ? new Socket({ fd: 0, readable: true, writable: false }) : createReadStream('', { fd: 0, autoClose: false });
  }
  // A raw descriptor, not a FileHandle: the socket owns and closes it.
  const fd = await new Promise<number>((resolve, reject) => open(path, constants.O_RDONLY | constants.O_NONBLOCK, (error, n) => (error ? reject(error) : resolve(n))));
  return new Socket({ fd, readable: true, writable: false });
}
