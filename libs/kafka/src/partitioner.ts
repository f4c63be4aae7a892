// First: kafkajs' record batch encoder must load with the faster CRC-32C (record-batch-crc.ts).
import './record-batch-crc.js';
import kafkajs from 'kafkajs';
import type { ICustomPartitioner } from 'kafkajs';

const { Partitioners } = kafkajs;

/** Keys remembered per partition count before the memo starts over (a node sees a few hundred pod uids). */
const MEMO_LIMIT = 50_000;

/**
 * kafkajs' Java-compatible murmur2 partitioner (`Partitioners.DefaultPartitioner`), memoized by key and partition
 * count. A keyed message's partition depends only on those two, so the result is the default partitioner's exactly:
 * every producer of the co-partitioned `signals` and `logs` topics (and any Java client) still sends one pod uid to
 * the same partition of both, while the node agent, which sends the same few hundred uids all day, hashes each once.
 */
export const memoizedDefaultPartitioner: ICustomPartitioner = () => {
  const murmur2 = Partitioners.DefaultPartitioner();
  const memo = new Map<number, Map<string, number>>();
  return (args) => {
    const { message, partitionMetadata } = args;
    if (message.partition !== undefined && message.partition !== null) return message.partition;
    const key = message.key;
    if (typeof key !== 'string') return murmur2(args);
    let byKey = memo.get(partitionMetadata.length);
    if (byKey === undefined) memo.set(partitionMetadata.length, (byKey = new Map()));
    let partition = byKey.get(key);
    if (partition === undefined) {
      partition = murmur2(args);
      if (byKey.size >= MEMO_LIMIT) byKey.clear();
      byKey.set(key, partition);
    }
    return partition;
  };
};
