// First: kafkajs' record batch encoder must load with the faster CRC-32C (record-batch-crc.ts).
import './record-batch-crc.js';
import { readFileSync } from 'node:fs';
import kafkajs from 'kafkajs';
import type { KafkaConfig, SASLOptions, logLevel as LogLevel, LogEntry } from 'kafkajs';
import type { Config } from '@killtrace/config';
import { KafkaAdapterError } from './errors.js';
import { correctRequestQueueTimer } from './request-queue-timer.js';

const { Kafka, logLevel } = kafkajs;

/** kafkajs' client: used inside this package (and by test/bench drivers through libs/kafka/src/testing.ts) only. */
export type RawKafka = InstanceType<typeof Kafka>;

/**
 * A configured connection to the cluster, opaque outside this package: services reach Kafka only through its
 * ports (typed producer, consumers, batch consumer, topic setup), never through kafkajs objects (docs/decisions/0018-batch-consumer-port-and-one-backoff.md).
 */
export interface KafkaConnection {
  readonly clientId: string;
  readonly brokers: readonly string[];
}

const rawClients = new WeakMap<KafkaConnection, RawKafka>();

/** The kafkajs client behind a connection made by `createKafkaClient`. */
export function rawClient(connection: KafkaConnection): RawKafka {
  const raw = rawClients.get(connection);
  if (raw === undefined) {
    throw new KafkaAdapterError('KT_ERR_KAFKA_UNKNOWN_CONNECTION', `connection ${connection.clientId} was not made by createKafkaClient`);
  }
  return raw;
}

/** Makes `connection` stand for the kafkajs client `raw` (libs/kafka/src/testing.ts adds raw factories to its own). */
export function registerConnection<T extends KafkaConnection>(connection: T, raw: RawKafka): T {
  rawClients.set(connection, raw);
  return connection;
}

/** The connection's public fields for a kafkajs configuration. */
export function connectionFields(config: KafkaConfig): KafkaConnection {
  return { clientId: config.clientId ?? 'killtrace', brokers: Array.isArray(config.brokers) ? [...config.brokers] : [] };
}

/** The subset of a pino logger the adapter writes kafkajs' own logs to. */
export interface AdapterLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface KafkaClientOptions {
  logger?: AdapterLogger;
  /** Overrides the configured client id (e.g. per service). */
  clientId?: string;
  /** Connection timeout; kafkajs' 1 s default is too tight for a broker under load. */
  connectionTimeoutMs?: number;
}

function sasl(config: Config['kafka']): SASLOptions | undefined {
  const { mechanism, username, password } = config.sasl;
  // The configuration schema already guarantees credentials for any mechanism but `none`.
  if (mechanism === 'none' || username === undefined || password === undefined) return undefined;
  return { mechanism, username, password };
}

function ssl(config: Config['kafka']): KafkaConfig['ssl'] {
  const { enabled, caFile, rejectUnauthorized } = config.tls;
  if (!enabled && caFile === undefined) return undefined;
  if (caFile === undefined) return { rejectUnauthorized };
  try {
    return { ca: [readFileSync(caFile, 'utf8')], rejectUnauthorized };
  } catch (cause) {
    throw new KafkaAdapterError('KT_ERR_KAFKA_TLS_CA', `cannot read kafka.tls.caFile ${caFile}: ${(cause as Error).message}`, { cause });
  }
}

function isConnectionRetry(namespace: string, message: string): boolean {
  return namespace === 'Connection' || (namespace === 'BrokerPool' && /connect/i.test(message));
}

function logCreator(logger: AdapterLogger) {
  return (_level: LogLevel) =>
    ({ namespace, level, log }: LogEntry): void => {
      const { message, ...extra } = log;
      const fields = { component: 'kafkajs', namespace, ...extra };
      // kafkajs logs every failed connection attempt; the services say once that Kafka is unavailable and once that
      // it is back (libs/service-http Dependencies, the publish queue), so these per-retry lines are debug only.
      if (isConnectionRetry(namespace, message)) logger.debug(fields, message);
      else if (level === logLevel.ERROR) logger.error(fields, message);
      else if (level === logLevel.WARN) logger.warn(fields, message);
      else if (level === logLevel.INFO) logger.info(fields, message);
      else logger.debug(fields, message);
    };
}

/** The kafkajs client configuration for the Killtrace configuration (reads the CA file, if any). */
export function kafkaClientConfig(config: Config['kafka'], options: KafkaClientOptions = {}): KafkaConfig {
  const saslOptions = sasl(config);
  return {
    clientId: options.clientId ?? config.clientId,
    brokers: [...config.brokers],
    ssl: ssl(config),
    ...(saslOptions === undefined ? {} : { sasl: saslOptions }),
    connectionTimeout: options.connectionTimeoutMs ?? 5_000,
    logLevel: logLevel.WARN,
    ...(options.logger === undefined ? {} : { logCreator: logCreator(options.logger) }),
  };
}

/** Creates a connection from the configuration: brokers, client id, TLS with a CA file, SASL (nothing connects until a port starts). */
export function createKafkaClient(config: Config['kafka'], options: KafkaClientOptions = {}): KafkaConnection {
  correctRequestQueueTimer();
  const clientConfig = kafkaClientConfig(config, options);
  return registerConnection(Object.freeze(connectionFields(clientConfig)), new Kafka(clientConfig));
}
