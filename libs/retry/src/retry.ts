import { Backoff, sleep } from './backoff.js';

/** How one kind of operation is retried: the back-off (`initialMs` doubling to `maxMs`, with jitter) and a bound. */
export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
  /** Attempts in all, the first included; unbounded when absent. */
  maxAttempts?: number;
  random?: () => number;
}

export interface RetryOptions {
  policy: RetryPolicy;
  /** Whether a failure may be retried (a fatal one is rethrown at once); every failure may by default. */
  retriable?: (error: unknown, attempt: number) => boolean;
  /** Called before each wait, with the delay chosen (for a log line or a metric). */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** A wait at least this long after this failure (a server's Retry-After), on top of the policy's. */
  minDelayMs?: (error: unknown) => number | undefined;
  /** Aborting ends the wait: `retry` rejects with RetryStopped (reason `aborted`). */
  signal?: AbortSignal;
}

/** Why `retry` gave up: the last failure was not retriable, the attempts ran out, or the signal aborted. */
export class RetryStopped extends Error {
  override readonly name = 'RetryStopped';

  constructor(
    readonly reason: 'not-retriable' | 'exhausted' | 'aborted',
    readonly attempts: number,
    cause: unknown,
  ) {
    super(`gave up after ${attempts} attempt(s) (${reason}): ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * Runs `operation` until it succeeds, waiting the policy's back-off between failures. Rejects with RetryStopped
 * (its `cause` the last failure) when a failure is not retriable, the attempts are used up, or `signal` aborts.
 */
export async function retry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { policy } = options;
  const backoff = new Backoff(policy.initialMs, policy.maxMs, policy.random);
  for (let attempt = 1; ; attempt += 1) {
    if (options.signal?.aborted === true) throw new RetryStopped('aborted', attempt - 1, options.signal.reason);
    try {
      return await operation(attempt);
    } catch (error) {
      if (options.retriable !== undefined && !options.retriable(error, attempt)) throw new RetryStopped('not-retriable', attempt, error);
      if (policy.maxAttempts !== undefined && attempt >= policy.maxAttempts) throw new RetryStopped('exhausted', attempt, error);
      const delay = Math.max(backoff.failed(), options.minDelayMs?.(error) ?? 0);
      options.onRetry?.(error, attempt, delay);
      if (!(await sleep(delay, options.signal))) throw new RetryStopped('aborted', attempt, error);
    }
  }
}
