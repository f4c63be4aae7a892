import type { PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { partitionOfKey } from './key-partition.js';
import { memoizedDefaultPartitioner } from './partitioner.js';

const metadata = (count: number): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));

describe('partitionOfKey', () => {
  it('is where the producers put a keyed message (the memoized murmur2 partitioner), for every partition count', () => {
    const producer = memoizedDefaultPartitioner();
    const seen = new Set<number>();
    for (const count of [1, 3, 6]) {
      for (let n = 0; n < 200; n++) {
        const key = `pod-uid-${n}`;
        const partition = partitionOfKey(key, count);
        expect(partition).toBe(producer({ topic: 'signals', partitionMetadata: metadata(count), message: { key, value: 'x' } }));
        if (count === 6) seen.add(partition);
      }
    }
    expect(seen.size).toBe(6);
  });
});
