// First: kafkajs' record batch encoder must load with the faster CRC-32C (record-batch-crc.ts).
import './record-batch-crc.js';
import kafkajs from 'kafkajs';
import type { Admin, Consumer as KafkajsConsumer, PartitionAssigner } from 'kafkajs';
import { coPartitionedAssigner } from './assigner.js';
import { rawClient, type KafkaConnection } from './client.js';
import { classifyKafkaError, type ClassifiedError, type ErrorClass } from './errors.js';

const { PartitionAssigners } = kafkajs;

/** A header value as the broker returned it (a header name may repeat). */
export type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;

/**
 * One message of a batch, undecoded: the caller validates it with the topic's schema (libs/kafka/src/codec.ts).
 * Handed over without copying (a batch can hold thousands of messages).
 */
export interface BatchMessage {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Message timestamp (event time as produced, else broker time), epoch milliseconds as a string. */
  readonly timestamp: string;
  readonly headers?: Readonly<Record<string, HeaderValue>>;
}

/** The messages fetched for one topic-partition. */
export interface MessageBatch {
  topic: string;
  partition: number;
  /** The partition's high watermark (offset of the next message to be written) when the batch was fetched. */
  highWatermark: string;
  messages: readonly BatchMessage[];
}

/** What a batch handler receives: the batch and the controls valid while it runs. */
export interface BatchPayload {
  batch: MessageBatch;
  /** Marks a message handled; the next fetch of this partition starts after it (nothing is committed). */
  resolveOffset(offset: string): void;
  /** Tells the group coordinator this member is alive (call it during long batches). */
  heartbeat(): Promise<void>;
  /** True once a rebalance or a seek made this batch's remaining messages obsolete. */
  isStale(): boolean;
}

/** Topic partitions to pause or resume; all partitions of the topic when `partitions` is absent. */
export interface TopicPartitions {
  topic: string;
  partitions?: readonly number[];
}

/** An offset to commit: the next message to read, with metadata stored beside it (e.g. the watermark it covers). */
export interface OffsetCommit {
  topic: string;
  partition: number;
  offset: string;
  metadata?: string;
}

/** The result of a commit: done, or refused with the classification of why. */
export type CommitOutcome = { committed: true } | { committed: false; kind: ErrorClass; reason: string; error: Error };

/** A committed offset of this group (offset -1 when nothing was committed) and its metadata. */
export interface CommittedOffset {
  partition: number;
  offset: string;
  metadata: string | null;
}

/** The offsets a replay is planned from: the group's commits and the topics' retained ranges and time index. */
export interface OffsetReader {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** The group's committed offsets for its topics. */
  committed(): Promise<Array<{ topic: string; partitions: CommittedOffset[] }>>;
  /** Lowest retained and high watermark offset of every partition of `topic`. */
  retained(topic: string): Promise<Array<{ partition: number; low: string; high: string }>>;
  /** Per partition of `topic`, the first offset whose timestamp is at or after `at` (the high watermark when none is). */
  offsetsAt(topic: string, at: number): Promise<Array<{ partition: number; offset: string }>>;
}

/** How partitions are spread over the group's members. */
export type AssignerName = 'co-partitioned' | 'round-robin';

export interface BatchConsumerOptions {
  groupId: string;
  topics: readonly string[];
  /** co-partitioned (default): partition N of every topic goes to the same member (libs/kafka/src/assigner.ts). */
  assigner?: AssignerName;
  /** Start from the earliest offset when the group has no committed offset (default true). */
  fromBeginning?: boolean;
  maxBytesPerPartition?: number;
  maxBytes?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  maxWaitTimeMs?: number;
  /** Called at every join of the group with this member's partitions per topic; batches of the new generation follow. */
  onAssign: (assignment: Readonly<Record<string, readonly number[]>>) => void;
  /** Handles one topic-partition's batch; offsets advance by `resolveOffset` only, commits are the caller's (`commit`). */
  onBatch: (payload: BatchPayload) => Promise<void>;
  /**
   * The consumer crashed (a handler threw, or the cluster failed beyond the client's retries): `restarting` when the
   * failure is not fatal and the consumer rejoins by itself; otherwise it stays stopped and the service should exit.
   */
  onCrash?: (error: Error, classified: ClassifiedError, restarting: boolean) => void;
}

/** A consumer-group member that hands whole batches to its caller, who seeks, pauses and commits (with metadata) itself. */
export interface BatchConsumer {
  /** Connects, subscribes and starts fetching (manual commits, one partition at a time). */
  start(): Promise<void>;
  /** Makes the next fetch of the partition start at `offset`; batches fetched before turn stale. */
  seek(target: { topic: string; partition: number; offset: string }): void;
  pause(targets: readonly TopicPartitions[]): void;
  resume(targets: readonly TopicPartitions[]): void;
  /** Commits offsets (and their metadata) for this member's generation; never throws. */
  commit(offsets: readonly OffsetCommit[]): Promise<CommitOutcome>;
  /** A reader of the offsets a replay is planned from (its own admin connection: connect, use, disconnect). */
  offsetReader(): OffsetReader;
  disconnect(): Promise<void>;
}

function assigners(name: AssignerName | undefined): PartitionAssigner[] {
  return name === 'round-robin' ? [PartitionAssigners.roundRobin] : [coPartitionedAssigner];
}

function targetsOf(targets: readonly TopicPartitions[]): Array<{ topic: string; partitions?: number[] }> {
  return targets.map((t) => (t.partitions === undefined ? { topic: t.topic } : { topic: t.topic, partitions: [...t.partitions] }));
}

function offsetReader(admin: Admin, groupId: string, topics: readonly string[]): OffsetReader {
  return {
    connect: () => admin.connect(),
    disconnect: () => admin.disconnect(),
    async committed() {
      const fetched = await admin.fetchOffsets({ groupId, topics: [...topics] });
      return fetched.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, offset: p.offset, metadata: p.metadata })) }));
    },
    async retained(topic) {
      return (await admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, low: o.low, high: o.high }));
    },
    async offsetsAt(topic, at) {
      return (await admin.fetchTopicOffsetsByTimestamp(topic, at)).map((o) => ({ partition: o.partition, offset: o.offset }));
    },
  };
}

/** Creates a batch consumer: the one way a service reads Kafka with manual offsets (services/correlator/src/pipeline.ts). */
export function createBatchConsumer(kafka: KafkaConnection, options: BatchConsumerOptions): BatchConsumer {
  const raw = rawClient(kafka);
  const consumer: KafkajsConsumer = raw.consumer({
    groupId: options.groupId,
    allowAutoTopicCreation: false,
    partitionAssigners: assigners(options.assigner),
    // Restarting after a fatal error (bad credentials, a bug in the handler) would only repeat it forever.
    retry: { restartOnFailure: async (error) => classifyKafkaError(error).kind !== 'fatal' },
    ...(options.maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition: options.maxBytesPerPartition }),
    ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: options.heartbeatIntervalMs ?? 3_000,
    maxWaitTimeInMs: options.maxWaitTimeMs ?? 100,
  });
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => options.onAssign(payload.memberAssignment));
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    options.onCrash?.(payload.error, classifyKafkaError(payload.error), payload.restart);
  });
  return {
    async start() {
      await consumer.connect();
      await consumer.subscribe({ topics: [...options.topics], fromBeginning: options.fromBeginning ?? true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: ({ batch, resolveOffset, heartbeat, isStale }) =>
          options.onBatch({
            batch: {
              topic: batch.topic,
              partition: batch.partition,
              highWatermark: batch.highWatermark,
              messages: batch.messages,
            },
            resolveOffset,
            heartbeat,
            isStale,
          }),
      });
    },
    seek: ({ topic, partition, offset }) => consumer.seek({ topic, partition, offset }),
    pause: (targets) => consumer.pause(targetsOf(targets)),
    resume: (targets) => consumer.resume(targetsOf(targets)),
    async commit(offsets) {
      try {
        await consumer.commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset, ...(o.metadata === undefined ? {} : { metadata: o.metadata }) })));
        return { committed: true };
      } catch (cause) {
        const error = cause instanceof Error ? cause : new Error(String(cause));
        const classified = classifyKafkaError(cause);
        return { committed: false, kind: classified.kind, reason: classified.reason, error };
      }
    },
    offsetReader: () => offsetReader(raw.admin(), options.groupId, options.topics),
    disconnect: () => consumer.disconnect(),
  };
}
