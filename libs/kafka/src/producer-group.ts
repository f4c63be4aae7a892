// First: kafkajs' record batch encoder must load with the faster CRC-32C (record-batch-crc.ts).
import './record-batch-crc.js';
import type { PartitionMetadata } from 'kafkajs';
import type { z } from 'zod';
import type { KafkaConnection } from './client.js';
import { KafkaAdapterError } from './errors.js';
import { topicPartitionCount } from './partition-reader.js';
import { memoizedDefaultPartitioner } from './partitioner.js';
import { createProducer, type EncodedBatch, type ProducedPartition, type ProducerOptions, type TypedTopicProducer } from './producer.js';

/**
 * Several idempotent producers writing one topic in parallel. kafkajs' idempotent producer sends one produce request
 * per broker at a time: `sendMessages` takes `eosManager.acquireBrokerLock(broker)` before each request and releases
 * it after the response (node_modules/kafkajs/src/producer/sendMessages.js), and those locks live in the closure of
 * the producer's own eosManager (node_modules/kafkajs/src/producer/eosManager/index.js, `brokerMutexLocks`), so two
 * producers never wait on each other. Partition p always goes through member p mod size: one partition has one
 * producer (one producer id and sequence), so per-partition order and broker-side deduplication hold as with one.
 */

export interface ProducerGroupOptions extends ProducerOptions {
  /** How many producers (1: one producer, partitioned by kafkajs as `createProducer` does). */
  size: number;
}

export interface ProducerGroup {
  readonly size: number;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Binds a topic to its schema; `sendEncoded` splits a batch by partition over the members and awaits them all. */
  topic<S extends z.ZodType>(topic: string, schema: S): TypedTopicProducer<S>;
}

/** Creates `options.size` producers (at least 1) that share the writes of a topic by partition. */
export function createProducerGroup(kafka: KafkaConnection, options: ProducerGroupOptions): ProducerGroup {
  const size = Math.max(1, Math.floor(options.size));
  const { size: _size, ...producerOptions } = options;
  const members = Array.from({ length: size }, () => createProducer(kafka, producerOptions));
  // The partition count of each topic, read once: a key keeps its partition even if partitions are added later.
  const counts = new Map<string, Promise<number>>();
  const partitionCount = async (topic: string): Promise<number> => {
    let count = counts.get(topic);
    if (count === undefined) counts.set(topic, (count = topicPartitionCount(kafka, topic)));
    const n = await count;
    if (n > 0) return n;
    counts.delete(topic);
    throw new KafkaAdapterError('KT_ERR_KAFKA_METADATA_UNAVAILABLE', `cannot read the partition count of topic ${topic}`, { topic });
  };
  return {
    size,
    async connect() {
      await Promise.all(members.map((m) => m.connect()));
    },
    async disconnect() {
      await Promise.allSettled(members.map((m) => m.disconnect()));
    },
    topic<S extends z.ZodType>(topic: string, schema: S): TypedTopicProducer<S> {
      const bound = members.map((m) => m.topic(topic, schema));
      // Read the partition count now, not in the first write's time; a failure is retried by that write.
      if (size > 1) void partitionCount(topic).catch(() => undefined);
      const first = bound[0] as TypedTopicProducer<S>;
      // The default (murmur2) partitioner, the one every member would use: a key lands where one producer puts it.
      const partitioner = memoizedDefaultPartitioner();
      let metadata: PartitionMetadata[] = [];
      const sendEncoded = async (batch: EncodedBatch): Promise<ProducedPartition[]> => {
        if (size === 1 || batch.messages.length === 0) return first.sendEncoded(batch);
        const count = await partitionCount(topic);
        if (metadata.length !== count) metadata = Array.from({ length: count }, (_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
        const shares: EncodedBatch['messages'][number][][] = Array.from({ length: size }, () => []);
        for (const message of batch.messages) {
          const partition = message.partition ?? partitioner({ topic, partitionMetadata: metadata, message: { key: message.key, value: null } });
          shares[partition % size]?.push(message.partition === undefined ? { ...message, partition } : message);
        }
        // Every member's request is settled before this returns or throws: none is still in flight when the caller
        // retries, so a retry never races an earlier request of the same partition.
        const sent = await Promise.allSettled(
          shares.map((messages, i) =>
            messages.length === 0 ? Promise.resolve([]) : (bound[i] as TypedTopicProducer<S>).sendEncoded({ topic, count: messages.length, bytes: messages.reduce((n, m) => n + m.value.length, 0), messages }),
          ),
        );
        const failed = sent.find((s): s is PromiseRejectedResult => s.status === 'rejected');
        if (failed !== undefined) throw failed.reason;
        return sent.flatMap((s) => (s.status === 'fulfilled' ? s.value : []));
      };
      return {
        topic,
        encode: (messages) => first.encode(messages),
        send: async (messages) => sendEncoded(first.encode(messages)),
        sendEncoded,
      };
    },
  };
}
