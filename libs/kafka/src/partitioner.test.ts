import kafkajs from 'kafkajs';
import type { PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { memoizedDefaultPartitioner } from './partitioner.js';

const { Partitioners } = kafkajs;

const metadata = (count: number): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
const uid = (n: number): string => `${n.toString(16).padStart(8, '0')}-1c2d-4e5f-8a9b-${(n * 7919).toString(16).padStart(12, '0')}`;

describe('memoizedDefaultPartitioner', () => {
  it('puts every key on the partition the Java-compatible default partitioner picks, for every partition count, twice', () => {
    const memo = memoizedDefaultPartitioner();
    const reference = Partitioners.DefaultPartitioner();
    let spread = new Set<number>();
    for (const count of [1, 3, 6, 12]) {
      spread = new Set();
      for (let round = 0; round < 2; round++) {
        for (let n = 0; n < 500; n++) {
          const args = { topic: round === 0 ? 'logs' : 'signals', partitionMetadata: metadata(count), message: { key: uid(n), value: 'x' } };
          const partition = memo(args);
          expect(partition).toBe(reference(args));
          spread.add(partition);
        }
      }
    }
    expect(spread.size).toBe(12);
  });

  it('keeps an explicit partition', () => {
    expect(memoizedDefaultPartitioner()({ topic: 't', partitionMetadata: metadata(3), message: { key: uid(1), value: 'x', partition: 2 } })).toBe(2);
  });
});
