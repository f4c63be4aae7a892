import type { Consumer as KafkajsConsumer, IHeaders } from 'kafkajs';
import type { z } from 'zod';
import { coPartitionedAssigner } from './assigner.js';
import { rawClient, type KafkaConnection } from './client.js';
import { decodeMessage } from './codec.js';
import { classifyKafkaError, type ClassifiedError } from './errors.js';

/** A message that passed its schema. */
export interface IncomingMessage<T> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: T;
  headers: Record<string, string>;
  /** Broker timestamp, epoch milliseconds. */
  timestamp: number;
}

/** A message that did not: the raw bytes and why, for a dead-letter topic or a log line. */
export interface InvalidMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  raw: Buffer | null;
  reason: string;
  issues: string[];
}

/** One topic, or several validated by the same schema whose partition N all go to the same member (co-partitioning). */
export type ConsumerTopics = { topic: string; topics?: never } | { topics: readonly string[]; topic?: never };

export type ConsumerOptions<S extends z.ZodType> = ConsumerTopics & ConsumerSettings<S>;

export interface ConsumerSettings<S extends z.ZodType> {
  groupId: string;
  schema: S;
  /** Start from the earliest offset when the group has no committed offset. */
  fromBeginning?: boolean;
  /** Called for every message that is not JSON or does not match the schema; the consumer then moves past it (if this throws, the message is retried like a failed handler). */
  onInvalid: (message: InvalidMessage) => Promise<void> | void;
  /**
   * Called when the consumer crashes (a handler or the cluster failed beyond kafkajs' retries). Retriable
   * failures restart the consumer; fatal ones leave it stopped, and the service should exit.
   */
  onCrash?: (error: Error, classified: ClassifiedError, restarting: boolean) => void;
}

export interface KillConsumer<S extends z.ZodType> {
  /** Connects, subscribes and starts handing valid messages to `handler`, one at a time per partition. */
  run(handler: (message: IncomingMessage<z.output<S>>) => Promise<void>): Promise<void>;
  /** Resolves once the consumer has joined its group and received partitions. */
  joined(): Promise<void>;
  /** Partitions per topic assigned to this member at the last rebalance (empty before joining). */
  assignment(): Readonly<Record<string, readonly number[]>>;
  disconnect(): Promise<void>;
}

function headersOf(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}

/** Creates a consumer-group member for one or more topics whose messages are validated with a zod schema at the edge. */
export function createConsumer<S extends z.ZodType>(kafka: KafkaConnection, options: ConsumerOptions<S>): KillConsumer<S> {
  const consumer: KafkajsConsumer = rawClient(kafka).consumer({
    groupId: options.groupId,
    allowAutoTopicCreation: false,
    // Restarting after a fatal error (bad credentials, a bug in the handler) would only repeat it forever.
    retry: { restartOnFailure: async (error) => classifyKafkaError(error).kind !== 'fatal' },
    partitionAssigners: [coPartitionedAssigner],
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    options.onCrash?.(payload.error, classifyKafkaError(payload.error), payload.restart);
  });
  let markJoined: () => void = () => undefined;
  const joinedPromise = new Promise<void>((resolve) => {
    markJoined = resolve;
  });
  let assigned: Record<string, number[]> = {};
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    assigned = payload.memberAssignment;
    markJoined();
  });
  return {
    async run(handler) {
      await consumer.connect();
      const topics = options.topic === undefined ? [...options.topics] : [options.topic];
      await consumer.subscribe({ topics, fromBeginning: options.fromBeginning ?? false });
      await consumer.run({
        eachMessage: async ({ topic, partition, message }) => {
          const decoded = decodeMessage(options.schema, message.value);
          if (!decoded.ok) {
            // Invalid input is data, not a crash: the caller dead-letters it and the partition keeps flowing.
            await options.onInvalid({
              topic,
              partition,
              offset: message.offset,
              key: message.key,
              raw: message.value,
              reason: decoded.reason,
              issues: decoded.issues,
            });
            return;
          }
          await handler({
            topic,
            partition,
            offset: message.offset,
            key: message.key === null ? null : message.key.toString('utf8'),
            value: decoded.value,
            headers: headersOf(message.headers),
            timestamp: Number(message.timestamp),
          });
        },
      });
    },
    joined: () => joinedPromise,
    assignment: () => assigned,
    disconnect: () => consumer.disconnect(),
  };
}
