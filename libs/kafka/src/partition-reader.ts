import { rawClient, type KafkaConnection } from './client.js';
import { createEndOffsetTracker, fetchEndOffsets, followPositions } from './end-offsets.js';
import { KafkaAdapterError } from './errors.js';

/** One message read back by `readPartitions`. */
export interface ReadMessage {
  partition: number;
  offset: number;
  key: string | null;
  value: Buffer | null;
}

export interface ReadPartitionsOptions {
  topic: string;
  partitions: readonly number[];
  /**
   * A consumer group of its own (kafkajs has no group-less consumer): nothing is committed, and the group is
   * deleted afterwards. Must not be a group anything else uses.
   */
  groupId: string;
  /** Gives up (KT_ERR_KAFKA_READ_TIMEOUT) when the end is not reached by then; default 60 s. */
  timeoutMs?: number;
}

/**
 * Reads `partitions` of `topic` from their earliest retained offset up to the high watermark taken at the call
 * (messages produced later are not waited for), in offset order per partition. Meant for small compacted topics
 * that hold per-partition state, such as the correlator's snapshots (services/correlator/src/snapshots.ts).
 */
export async function readPartitions(connection: KafkaConnection, options: ReadPartitionsOptions): Promise<ReadMessage[]> {
  const kafka = rawClient(connection);
  const { topic } = options;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await fetchEndOffsets(admin, topic, options.partitions);
    if (ends.size === 0) return [];
    const tracker = createEndOffsetTracker(ends);
    const consumer = kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100, sessionTimeout: 30_000, heartbeatInterval: 3_000 });
    const out: ReadMessage[] = [];
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new KafkaAdapterError('KT_ERR_KAFKA_READ_TIMEOUT', `reading topic ${topic} partitions ${tracker.remaining().join(',')} did not reach their end`, { topic })),
        options.timeoutMs ?? 60_000,
      );
    });
    followPositions(consumer, topic, tracker, (partition) => consumer.pause([{ topic, partitions: [partition] }]));
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const end = ends.get(batch.partition);
          if (end === undefined || !tracker.isReading(batch.partition)) {
            consumer.pause([{ topic, partitions: [batch.partition] }]);
            return;
          }
          for (const message of batch.messages) {
            const offset = Number(message.offset);
            if (offset >= end) break;
            out.push({ partition: batch.partition, offset, key: message.key?.toString('utf8') ?? null, value: message.value });
          }
        },
      });
      await Promise.race([tracker.caughtUp(), timeout]);
    } finally {
      clearTimeout(timer);
      await consumer.disconnect().catch(() => undefined);
      await admin.deleteGroups([options.groupId]).catch(() => undefined);
    }
    return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  } finally {
    await admin.disconnect();
  }
}

/** How many partitions `topic` has; 0 when it does not exist. */
export async function topicPartitionCount(connection: KafkaConnection, topic: string): Promise<number> {
  const kafka = rawClient(connection);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    return metadata.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
  } catch {
    return 0;
  } finally {
    await admin.disconnect();
  }
}
