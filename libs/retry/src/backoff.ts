/** Exponential back-off with jitter, capped: attempt 1 waits about `initialMs`, then doubles up to `maxMs`. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  // Jitter in the upper half: retries of many instances spread out, and no wait is much shorter than planned.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Sleeps `ms`, waking early (resolving false) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve(false);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The failures in a row of one thing that is retried (a child process, a connection), and the delay before the next
 * attempt: `backoffDelay` of the count, reset by the first success.
 */
export class Backoff {
  private failuresInRow = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** Records a failure; returns how long to wait before the next attempt. */
  failed(): number {
    this.failuresInRow += 1;
    return backoffDelay(this.failuresInRow, this.initialMs, this.maxMs, this.random);
  }

  /** Records a success: the next failure waits `initialMs` again. */
  succeeded(): void {
    this.failuresInRow = 0;
  }

  get failures(): number {
    return this.failuresInRow;
  }
}
