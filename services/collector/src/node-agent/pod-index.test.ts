import { describe, expect, it } from 'vitest';
import { PodUidIndex } from './pod-index.js';

describe('PodUidIndex', () => {
  it('resolves names to uids, prefers a present and newer directory, and forgets gone pods after the retention', () => {
    const index = new PodUidIndex(1_000);
    index.update([{ namespace: 'shop', name: 'db-0', uid: 'u1' }], 0);
    expect(index.resolve('shop', 'db-0')).toBe('u1');
    expect(index.resolve('shop', 'db-1')).toBeUndefined();
    index.update([{ namespace: 'shop', name: 'db-0', uid: 'u2' }], 100);
    expect(index.resolve('shop', 'db-0')).toBe('u2');
    index.update([], 200);
    expect(index.resolve('shop', 'db-0')).toBe('u2');
    index.update([], 1_300);
    expect(index.resolve('shop', 'db-0')).toBeUndefined();
    expect(index.size).toBe(0);
  });
});
