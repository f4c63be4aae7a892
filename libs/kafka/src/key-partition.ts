// First: kafkajs' record batch encoder must load with the faster CRC-32C (record-batch-crc.ts).
import './record-batch-crc.js';
import kafkajs from 'kafkajs';

const { Partitioners } = kafkajs;

/**
 * The partition the default (Java-compatible murmur2) partitioner gives a string key among `partitions`: where the
 * collectors' messages keyed by pod uid land (partitioner.ts), so a correlator can tell which pods its partition owns.
 */
export function partitionOfKey(key: string, partitions: number): number {
  const murmur2 = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
  return murmur2({ topic: 'any', partitionMetadata, message: { key, value: null } });
}
