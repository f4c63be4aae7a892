import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay, sleep } from './index.js';

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
