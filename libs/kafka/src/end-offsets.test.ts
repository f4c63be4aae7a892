import { describe, expect, it } from 'vitest';
import { createEndOffsetTracker } from './end-offsets.js';

describe('end-offset tracker', () => {
  it('is caught up once every partition position reaches its end, whatever offsets returned messages', async () => {
    const tracker = createEndOffsetTracker(new Map([[0, 3], [2, 5]]));
    expect(tracker.isCaughtUp()).toBe(false);
    // Partition 0's last message is at offset 0, its transaction marker at 2: the position (3) is what counts.
    expect(tracker.advance(0, 1)).toBe(false);
    expect(tracker.remaining()).toEqual([0, 2]);
    expect(tracker.advance(0, 3)).toBe(true);
    expect(tracker.advance(0, 4)).toBe(false);
    expect(tracker.isReading(0)).toBe(false);
    expect(tracker.advance(1, 9)).toBe(false);
    expect(tracker.isCaughtUp()).toBe(false);
    expect(tracker.advance(2, 7)).toBe(true);
    expect(tracker.isCaughtUp()).toBe(true);
    await expect(tracker.caughtUp()).resolves.toBeUndefined();
  });

  it('is caught up at once when no partition holds anything', async () => {
    const tracker = createEndOffsetTracker(new Map());
    expect(tracker.isCaughtUp()).toBe(true);
    expect(tracker.remaining()).toEqual([]);
    await expect(tracker.caughtUp()).resolves.toBeUndefined();
  });
});
