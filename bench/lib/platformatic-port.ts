/**
 * `@platformatic/kafka` behind the same port as libs/kafka (a producer whose topics validate every payload with a zod
 * schema, a consumer that hands on validated messages), for the Kafka client benchmark only: the product still talks
 * to Kafka through kafkajs (docs/decisions/0013-kafka-client.md).
 */
import { compatibilityPartitioner, Consumer, MessagesStreamModes, ProduceAcks, Producer } from '@platformatic/kafka';
import type { z } from 'zod';
import { decodeMessage, encodeMessage, type OutgoingMessage } from '../../libs/kafka/src/index.js';

/** What both clients offer the benchmark: the shape of libs/kafka's KillProducer. */
export interface ProducerPort {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  topic<S extends z.ZodType>(topic: string, schema: S): { send(messages: readonly OutgoingMessage<z.input<S>>[]): Promise<unknown> };
}

/** What both clients offer the benchmark: a consumer group member handing on validated messages. */
export interface ConsumerPort<T> {
  run(handler: (value: T) => void): Promise<void>;
  disconnect(): Promise<void>;
}

/** The platformatic producer: idempotent, acks=all, the Java-compatible murmur2 partitioner (as libs/kafka). */
export function platformaticProducer(brokers: string[], clientId: string): ProducerPort {
  const producer = new Producer({ clientId, bootstrapBrokers: brokers, idempotent: true, acks: ProduceAcks.ALL, partitioner: compatibilityPartitioner, autocreateTopics: false });
  return {
    connect: async () => undefined,
    disconnect: () => producer.close(),
    topic(topic, schema) {
      return {
        async send(messages) {
          const encoded = messages.map((m, index) => {
            const result = encodeMessage(schema, m.value);
            if (!result.ok) throw new Error(`message ${index}: ${result.issues.join('; ')}`);
            return { topic, key: Buffer.from(m.key), value: result.bytes, ...(m.timestamp === undefined ? {} : { timestamp: BigInt(Math.round(m.timestamp)) }) };
          });
          return producer.send({ messages: encoded });
        },
      };
    },
  };
}

/** The platformatic consumer: a group member from the earliest offset, committing as it goes. */
export function platformaticConsumer<S extends z.ZodType>(brokers: string[], groupId: string, topic: string, schema: S): ConsumerPort<z.output<S>> {
  const consumer = new Consumer({ clientId: groupId, groupId, bootstrapBrokers: brokers, maxWaitTime: 100 });
  let failure: Error | undefined;
  return {
    async run(handler) {
      const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: 1_000 });
      stream.on('data', (message: { value: Buffer }) => {
        const decoded = decodeMessage(schema, message.value);
        if (decoded.ok) handler(decoded.value);
      });
      // A stream error would otherwise be an unhandled 'error' event and end the whole bench process.
      stream.on('error', (error: Error) => {
        failure ??= error;
      });
    },
    async disconnect() {
      await consumer.close(true);
      if (failure !== undefined) throw new Error(`platformatic consumer failed: ${failure.message}`, { cause: failure });
    },
  };
}
