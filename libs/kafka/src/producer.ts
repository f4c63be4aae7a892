// First: kafkajs' record batch encoder must load with the faster CRC-32C (record-batch-crc.ts).
import './record-batch-crc.js';
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

/**
 * Messages of one topic, validated and serialized: what `sendEncoded` sends (again, on a retry) without the objects
 * they came from, so a caller awaiting the acknowledgement holds bytes only.
 */
export interface EncodedBatch {
  readonly topic: string;
  readonly count: number;
  /** Serialized value bytes. */
  readonly bytes: number;
  readonly messages: readonly { key: string; value: Buffer; headers?: Record<string, string>; timestamp?: string; partition?: number }[];
}

/** A topic bound to its schema: every payload is validated before it leaves the process. */
export interface TypedTopicProducer<S extends z.ZodType> {
  readonly topic: string;
  /** Sends the batch; refuses the whole batch (KT_ERR_KAFKA_INVALID_MESSAGE) when any payload is invalid. */
  send(messages: readonly OutgoingMessage<z.input<S>>[]): Promise<ProducedPartition[]>;
  /** Validates and serializes now (throws KT_ERR_KAFKA_INVALID_MESSAGE like `send` rejects); nothing is sent. */
  encode(messages: readonly OutgoingMessage<z.input<S>>[]): EncodedBatch;
  /** Sends what `encode` of this topic returned. */
  sendEncoded(batch: EncodedBatch): Promise<ProducedPartition[]>;
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
      const encode = (messages: readonly OutgoingMessage<z.input<S>>[]): EncodedBatch => {
        const encoded: EncodedBatch['messages'][number][] = [];
        const problems: string[] = [];
        let bytes = 0;
        messages.forEach((message, index) => {
          const result = encodeMessage(schema, message.value);
          if (!result.ok) {
            problems.push(...result.issues.map((issue) => `message ${index} (key ${message.key}): ${issue}`));
          } else {
            bytes += result.bytes.length;
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
        return { topic, count: encoded.length, bytes, messages: encoded };
      };
      const sendEncoded = async (batch: EncodedBatch): Promise<ProducedPartition[]> => {
        if (batch.topic !== topic) throw new KafkaAdapterError('KT_ERR_KAFKA_INVALID_MESSAGE', `a batch encoded for topic ${batch.topic} cannot be sent to ${topic}`, { topic });
        if (batch.messages.length === 0) return [];
        const sent = await producer.send({ topic, acks: -1, compression, messages: [...batch.messages] });
        return sent.map((m) => ({ topic: m.topicName, partition: m.partition, baseOffset: m.baseOffset }));
      };
      return {
        topic,
        async send(messages) {
          return sendEncoded(encode(messages));
        },
        encode,
        sendEncoded,
      };
    },
  };
}
