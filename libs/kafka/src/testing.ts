import kafkajs from 'kafkajs';
import type { Config } from '@killtrace/config';
import { connectionFields, kafkaClientConfig, registerConnection, type KafkaClientOptions, type KafkaConnection, type RawKafka } from './client.js';

/**
 * For test and benchmark drivers only (not exported from libs/kafka/src/index.ts, so no service can reach it): a
 * connection that the ports accept and that also opens raw kafkajs admins, consumers and producers, for drivers
 * that inspect topics or write malformed messages on purpose.
 */
export type KafkaClient = KafkaConnection & Pick<RawKafka, 'admin' | 'consumer' | 'producer'>;

/** A test driver's connection: a port-compatible connection with kafkajs' admin/consumer/producer factories. */
export function createKafkaClient(config: Config['kafka'], options: KafkaClientOptions = {}): KafkaClient {
  const clientConfig = kafkaClientConfig(config, options);
  const raw = new kafkajs.Kafka(clientConfig);
  return registerConnection(
    {
      ...connectionFields(clientConfig),
      admin: (...args) => raw.admin(...args),
      consumer: (...args) => raw.consumer(...args),
      producer: (...args) => raw.producer(...args),
    },
    raw,
  );
}
