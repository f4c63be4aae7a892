import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay, retry, RetryStopped, sleep } from './index.js';

describe('back-off', () => {
  it('grows exponentially up to the cap, with jitter in the upper half', () => {
    expect(backoffDelay(1, 100, 1_000, () => 0)).toBe(50);
    expect(backoffDelay(1, 100, 1_000, () => 1)).toBe(100);
    expect(backoffDelay(4, 100, 1_000, () => 1)).toBe(800);
    expect(backoffDelay(10, 100, 1_000, () => 1)).toBe(1_000);
    expect(backoffDelay(10, 100, 1_000, () => 0)).toBe(500);
  });

  it('counts failures in a row and starts over after a success', () => {
    const b = new Backoff(1_000, 60_000, () => 1);
    expect([b.failed(), b.failed(), b.failed(), b.failed()]).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(b.failures).toBe(4);
    for (let n = 0; n < 10; n += 1) b.failed();
    expect(b.failed()).toBe(60_000);
    b.succeeded();
    expect(b.failures).toBe(0);
    expect(b.failed()).toBe(1_000);
  });

  it('sleeps until aborted', async () => {
    const abort = new AbortController();
    const pending = sleep(60_000, abort.signal);
    abort.abort();
    expect(await pending).toBe(false);
    expect(await sleep(1)).toBe(true);
  });
});

describe('retry', () => {
  const policy = { initialMs: 1, maxMs: 4, random: () => 1 };

  it('retries retriable failures with the growing back-off until the operation succeeds', async () => {
    const delays: number[] = [];
    const result = await retry(
      async (attempt) => {
        if (attempt < 4) throw new Error(`down ${attempt}`);
        return attempt;
      },
      { policy, onRetry: (_e, _a, delay) => delays.push(delay) },
    );
    expect(result).toBe(4);
    expect(delays).toEqual([1, 2, 4]);
  });

  it('stops at once on a failure that is not retriable, and after maxAttempts otherwise', async () => {
    const fatal = retry(() => Promise.reject(new Error('bad password')), { policy, retriable: (e) => !(e as Error).message.includes('password') });
    await expect(fatal).rejects.toMatchObject({ name: 'RetryStopped', reason: 'not-retriable', attempts: 1 });
    let calls = 0;
    const exhausted = retry(
      () => {
        calls += 1;
        return Promise.reject(new Error('timeout'));
      },
      { policy: { ...policy, maxAttempts: 3 } },
    );
    await expect(exhausted).rejects.toMatchObject({ reason: 'exhausted', attempts: 3, cause: expect.objectContaining({ message: 'timeout' }) });
    expect(calls).toBe(3);
  });

  it('waits at least what the failure asks for (Retry-After) and ends the wait when aborted', async () => {
    const abort = new AbortController();
    const delays: number[] = [];
    const pending = retry(() => Promise.reject(new Error('429')), {
      policy,
      minDelayMs: () => 60_000,
      signal: abort.signal,
      onRetry: (_e, _a, delay) => {
        delays.push(delay);
        abort.abort();
      },
    });
    await expect(pending).rejects.toBeInstanceOf(RetryStopped);
    await expect(pending).rejects.toMatchObject({ reason: 'aborted' });
    expect(delays).toEqual([60_000]);
  });
});
