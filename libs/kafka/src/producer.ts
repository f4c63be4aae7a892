import kafkajs from 'kafkajs';
import type { Producer as KafkajsProducer } from 'kafkajs';
import type { z } from 'zod';
import { rawClient, type KafkaConnection } from './client.js';
import { encodeMessage } from './codec.js';
import { KafkaAdapterError } from './errors.js';
import { memoizedDefaultPartitioner } from './partitioner.js';

const { CompressionTypes } = kafkajs;

/** One message to produce: keyed by the caller (the pod uid), so one pod's messages stay in order on one partition. */
export interface OutgoingMessage<T> {
  key: string;
  value: T;
  headers?: Record<string, string>;
  /** Kafka message timestamp, epoch ms (the signal's event time, so consumers can seek by time); broker time when absent. */
  timestamp?: number;
  /** Explicit partition, overriding the key's (per-partition state such as the correlator's snapshots). */
  partition?: number;
}

/** Where the broker appended one partition's share of a sent batch. */
export interface ProducedPartition {
  topic: string;
  partition: number;
  /** Offset of the first message appended, when the broker said. */
  baseOffset: string | undefined;
}

/** A topic bound to its schema: every payload is validated before it leaves the process. */
export interface TypedTopicProducer<S extends z.ZodType> {
  readonly topic: string;
  /** Sends the batch; refuses the whole batch (KT_ERR_KAFKA_INVALID_MESSAGE) when any payload is invalid. */
  send(messages: readonly OutgoingMessage<z.input<S>>[]): Promise<ProducedPartition[]>;
}

export interface KillProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Binds a topic to the zod schema its messages must satisfy. */
  topic<S extends z.ZodType>(topic: string, schema: S): TypedTopicProducer<S>;
}

export interface ProducerOptions {
  /** Idempotent writes (acks=all, no duplicates on retry); on by default. */
  idempotent?: boolean;
  /** Compression of produced batches: `none` (default) or `gzip` (the one codec kafkajs has built in). */
  compression?: 'none' | 'gzip';
}

/** Creates a producer whose topics validate every payload with a zod schema at the edge. */
export function createProducer(kafka: KafkaConnection, options: ProducerOptions = {}): KillProducer {
  const idempotent = options.idempotent ?? true;
  const compression = options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  const producer: KafkajsProducer = rawClient(kafka).producer({
    // The Java-compatible murmur2 partitioner (memoized, same results): other clients agree on key -> partition.
    createPartitioner: memoizedDefaultPartitioner,
    idempotent,
    // Idempotence keeps order with up to 5 requests in flight per connection (the broker checks sequence numbers).
    ...(idempotent ? { maxInFlightRequests: 5 } : {}),
    allowAutoTopicCreation: false,
  });
  return {
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    topic<S extends z.ZodType>(topic: string, schema: S): TypedTopicProducer<S> {
      return {
        topic,
        async send(messages) {
          const encoded: { key: string; value: Buffer; headers?: Record<string, string>; timestamp?: string; partition?: number }[] = [];
          const problems: string[] = [];
          messages.forEach((message, index) => {
            const result = encodeMessage(schema, message.value);
            if (!result.ok) {
              problems.push(...result.issues.map((issue) => `message ${index} (key ${message.key}): ${issue}`));
            } else {
              encoded.push({
                key: message.key,
                value: result.bytes,
                ...(message.headers === undefined ? {} : { headers: message.headers }),
                ...(message.timestamp === undefined ? {} : { timestamp: String(Math.round(message.timestamp)) }),
                ...(message.partition === undefined ? {} : { partition: message.partition }),
              });
            }
          });
          if (problems.length > 0) {
            throw new KafkaAdapterError('KT_ERR_KAFKA_INVALID_MESSAGE', `refusing to produce to topic ${topic}: ${problems.join('; ')}`, {
              topic,
              details: problems,
            });
          }
          if (encoded.length === 0) return [];
          const sent = await producer.send({ topic, acks: -1, compression, messages: encoded });
          return sent.map((m) => ({ topic: m.topicName, partition: m.partition, baseOffset: m.baseOffset }));
        },
      };
    },
  };
}
