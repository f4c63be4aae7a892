// First: kafkajs' record batch encoder must load with the faster CRC-32C (record-batch-crc.ts).
import './record-batch-crc.js';
import { connect } from 'node:net';
import kafkajs from 'kafkajs';
import type { Config } from '@killtrace/config';
import { connectionFields, kafkaClientConfig, registerConnection, type KafkaClientOptions, type KafkaConnection, type RawKafka } from './client.js';
import { correctRequestQueueTimer } from './request-queue-timer.js';

/**
 * For test and benchmark drivers only (not exported from libs/kafka/src/index.ts, so no service can reach it): a
 * connection that the ports accept and that also opens raw kafkajs admins, consumers and producers, for drivers
 * that inspect topics or write malformed messages on purpose.
 */
export type KafkaClient = KafkaConnection & Pick<RawKafka, 'admin' | 'consumer' | 'producer'>;

export interface TestKafkaClientOptions extends KafkaClientOptions {
  /**
   * Route every broker connection (the bootstrap one and those to the brokers the metadata advertises) through this
   * address, a TCP forwarder (test/integration/tcp-forwarder.ts): closing the forwarder is then a real outage for
   * this client alone, while everyone else keeps the shared broker. Plain TCP only.
   */
  through?: { host: string; port: number };
}

/** A test driver's connection: a port-compatible connection with kafkajs' admin/consumer/producer factories. */
export function createKafkaClient(config: Config['kafka'], options: TestKafkaClientOptions = {}): KafkaClient {
  const { through } = options;
  const clientConfig = {
    ...kafkaClientConfig(config, options),
    ...(through === undefined
      ? {}
      : {
          socketFactory: ({ onConnect }: { onConnect: () => void }) => {
            const socket = connect({ host: through.host, port: through.port }, onConnect);
            socket.setKeepAlive(true, 60_000);
            return socket;
          },
        }),
  };
  // Test drivers share the process with the code under test: the same kafkajs correction as createKafkaClient.
  correctRequestQueueTimer();
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
