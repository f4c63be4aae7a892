import { randomBytes } from 'node:crypto';
import type { Consumer as KafkajsConsumer, Producer as KafkajsProducer } from 'kafkajs';
import type { z } from 'zod';
import { rawClient, type KafkaConnection } from './client.js';
import { decodeMessage, encodeMessage } from './codec.js';
import { classifyKafkaError } from './errors.js';
import { KafkaAdapterError } from './errors.js';
import { createEndOffsetTracker, fetchEndOffsets, followPositions, type EndOffsetTracker } from './end-offsets.js';
import { memoizedDefaultPartitioner } from './partitioner.js';

/**
 * A compacted topic read as a table (key -> latest value) by every process, whole: all partitions from the earliest
 * offset, never as a member of a shared group (docs/decisions/0017-cluster-context-topic.md). kafkajs has no
 * group-less assignment, so each reader is the only member of a group of its own (a random id that commits nothing:
 * the broker forgets it once the reader leaves), which gives it every partition.
 */

/** One entry of the table as read: a value that passed its schema, or a tombstone (`value` null). */
export interface TableEntry<T> {
  key: string;
  value: T | null;
  partition: number;
  offset: string;
}

/** An entry whose value is not JSON or does not match the schema (the table keeps the key's previous value). */
export interface InvalidTableEntry {
  key: string | null;
  partition: number;
  offset: string;
  reason: string;
}

export interface TableReaderOptions<S extends z.ZodType> {
  topic: string;
  schema: S;
  /** Prefix of the reader's own group id (a random suffix is added); the client id is a good choice. */
  groupPrefix: string;
  onEntry: (entry: TableEntry<z.output<S>>) => void;
  onInvalid: (entry: InvalidTableEntry) => void;
  /** The reader crashed; `restarting` says whether kafkajs restarts it (retriable) or it stays stopped. */
  onCrash?: (error: Error, restarting: boolean) => void;
}

export interface TableReader {
  /** Connects and starts reading from the earliest offset; resolves once reading runs. */
  start(): Promise<void>;
  /** Resolves once every partition was read up to the end it had when `start` was called. */
  caughtUp(): Promise<void>;
  isCaughtUp(): boolean;
  stop(): Promise<void>;
}

/** Creates a reader of a whole compacted topic (see the file comment). */
export function createTableReader<S extends z.ZodType>(connection: KafkaConnection, options: TableReaderOptions<S>): TableReader {
  const kafka = rawClient(connection);
  const groupId = `${options.groupPrefix}.table.${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const consumer: KafkajsConsumer = kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    retry: { restartOnFailure: async (error) => classifyKafkaError(error).kind === 'retriable' },
    maxWaitTimeInMs: 200,
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => options.onCrash?.(payload.error, payload.restart));
  /** Set by start() from the high watermarks; caughtUp() may be awaited before that. */
  let tracker: EndOffsetTracker | undefined;
  let started: (tracker: EndOffsetTracker) => void = () => undefined;
  const trackerReady = new Promise<EndOffsetTracker>((resolve) => {
    started = resolve;
  });
  return {
    async start() {
      const admin = kafka.admin();
      await admin.connect();
      try {
        tracker = createEndOffsetTracker(await fetchEndOffsets(admin, options.topic));
      } finally {
        await admin.disconnect();
      }
      started(tracker);
      followPositions(consumer, options.topic, tracker);
      await consumer.connect();
      await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) {
            const key = message.key === null ? null : message.key.toString('utf8');
            const base = { partition: batch.partition, offset: message.offset };
            if (key === null) options.onInvalid({ key, ...base, reason: 'message has no key' });
            else if (message.value === null) options.onEntry({ key, value: null, ...base });
            else {
              const decoded = decodeMessage(options.schema, message.value);
              if (decoded.ok) options.onEntry({ key, value: decoded.value, ...base });
              else options.onInvalid({ key, ...base, reason: decoded.reason });
            }
          }
        },
      });
    },
    caughtUp: () => trackerReady.then((t) => t.caughtUp()),
    isCaughtUp: () => tracker?.isCaughtUp() ?? false,
    stop: () => consumer.disconnect(),
  };
}

/** Writes keyed values (validated by the schema) and tombstones to a compacted topic. */
export interface TableWriter<S extends z.ZodType> {
  connect(): Promise<void>;
  /** Puts values and deletes keys (`value` null) in one batch; refuses the batch when any value is invalid. */
  write(entries: ReadonlyArray<{ key: string; value: z.input<S> | null }>): Promise<void>;
  disconnect(): Promise<void>;
}

/** Creates a writer for a compacted topic (idempotent, keys partitioned like every other producer's). */
export function createTableWriter<S extends z.ZodType>(connection: KafkaConnection, topic: string, schema: S): TableWriter<S> {
  const kafka = rawClient(connection);
  const producer: KafkajsProducer = kafka.producer({ createPartitioner: memoizedDefaultPartitioner, idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false });
  return {
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    async write(entries) {
      const messages: Array<{ key: string; value: Buffer | null }> = [];
      const problems: string[] = [];
      for (const entry of entries) {
        if (entry.value === null) {
          messages.push({ key: entry.key, value: null });
          continue;
        }
        const encoded = encodeMessage(schema, entry.value);
        if (encoded.ok) messages.push({ key: entry.key, value: encoded.bytes });
        else problems.push(...encoded.issues.map((issue) => `key ${entry.key}: ${issue}`));
      }
      if (problems.length > 0) {
        throw new KafkaAdapterError('KT_ERR_KAFKA_INVALID_MESSAGE', `refusing to produce to topic ${topic}: ${problems.join('; ')}`, { topic, details: problems });
      }
      if (messages.length > 0) await producer.send({ topic, acks: -1, messages });
    },
  };
}
