import { codedMessage, KilltraceError } from '@killtrace/errors';

/** Codes of the Kafka adapter's own errors. */
export const kafkaErrorCodes = {
  /** A producer refused a payload that does not match the topic's schema. */
  KT_ERR_KAFKA_INVALID_MESSAGE: 'message does not match the topic schema',
  /** An existing topic's partitions or replication differ from the configuration (strict `ensureTopics`). */
  KT_ERR_KAFKA_TOPIC_MISMATCH: 'topic differs from its configuration',
  /** A CA file named in the configuration could not be read. */
  KT_ERR_KAFKA_TLS_CA: 'TLS CA file unreadable',
  /** A connection object that `createKafkaClient` did not make was handed to a port. */
  KT_ERR_KAFKA_UNKNOWN_CONNECTION: 'not a Kafka connection of this package',
  /** Reading partitions back to their end (readPartitions) took longer than allowed. */
  KT_ERR_KAFKA_READ_TIMEOUT: 'reading partitions to their end timed out',
  /** A topic's partition count could not be read (broker unreachable, topic missing): retriable. */
  KT_ERR_KAFKA_METADATA_UNAVAILABLE: 'topic metadata unavailable',
} as const;
export type KafkaErrorCode = keyof typeof kafkaErrorCodes;

/** An error raised by the Kafka adapter itself (not by kafkajs), with the topic it concerns. */
export class KafkaAdapterError extends KilltraceError<KafkaErrorCode> {
  override readonly name = 'KafkaAdapterError';
  readonly topic: string | undefined;
  /** Extra detail, e.g. the zod issues of a refused message. */
  readonly details: readonly string[];

  constructor(code: KafkaErrorCode, message: string, options: { topic?: string; details?: readonly string[]; cause?: unknown } = {}) {
    const details = options.details ?? [];
    super(code, codedMessage(code, message), { cause: options.cause, context: { topic: options.topic, ...(details.length > 0 ? { details } : {}) } });
    this.topic = options.topic;
    this.details = details;
  }
}

/**
 * retriable: back off and try again; fatal: stop and tell a human; generation-over: the consumer group rebalanced
 * under this member (a commit or heartbeat of the old generation), so the work is redone by the next assignment
 * and must not be retried.
 */
export type ErrorClass = 'retriable' | 'fatal' | 'generation-over';

/** Classification of a failure, with the reason in words for logs and metrics. */
export interface ClassifiedError {
  kind: ErrorClass;
  reason: string;
}

/** kafkajs error names that mean the cluster is (temporarily) unreachable or busy: try again later. */
const RETRIABLE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSLockTimeout',
  'KafkaJSTimeout',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
  'KafkaJSFetcherRebalanceError',
]);

/** Protocol errors that retrying cannot fix: credentials, permissions, a wrong topic, a message the broker rejects. */
const FATAL_PROTOCOL_TYPES = new Set([
  'SASL_AUTHENTICATION_FAILED',
  'ILLEGAL_SASL_STATE',
  'UNSUPPORTED_SASL_MECHANISM',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'INVALID_TOPIC_EXCEPTION',
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_REQUIRED_ACKS',
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_COMPRESSION_TYPE',
  'INVALID_REPLICATION_FACTOR',
  'INVALID_PARTITIONS',
  'POLICY_VIOLATION',
]);

/** Group errors that end this member's generation: the next assignment replays, retrying the old request is useless. */
const GENERATION_PROTOCOL_TYPES = new Set(['REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'NOT_COORDINATOR', 'FENCED_INSTANCE_ID']);

const NODE_RETRIABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

interface ErrorShape {
  name?: unknown;
  message?: unknown;
  retriable?: unknown;
  type?: unknown;
  code?: unknown;
  originalError?: unknown;
  cause?: unknown;
}

/**
 * Sorts a failure from kafkajs (or this adapter) into retriable (back off and try again: the cluster is
 * unreachable, rebalancing or busy) or fatal (stop and tell a human: bad credentials, permissions, invalid data).
 * Unknown errors are fatal so a bug never turns into an endless retry loop.
 */
export function classifyKafkaError(error: unknown): ClassifiedError {
  if (typeof error !== 'object' || error === null) return { kind: 'fatal', reason: `non-error value thrown: ${String(error)}` };
  const e = error as ErrorShape;
  const name = typeof e.name === 'string' ? e.name : 'Error';
  if (error instanceof KafkaAdapterError && error.code === 'KT_ERR_KAFKA_METADATA_UNAVAILABLE') return { kind: 'retriable', reason: `${error.code}: ${error.message}` };
  if (error instanceof KafkaAdapterError) return { kind: 'fatal', reason: `${error.code}: ${kafkaErrorCodes[error.code]}` };
  if (name === 'KafkaJSNumberOfRetriesExceeded') {
    // kafkajs gave up after its own retries; whether a later attempt can succeed depends on the last cause.
    const inner = e.originalError ?? e.cause;
    if (inner !== undefined) {
      const classified = classifyKafkaError(inner);
      return { kind: classified.kind, reason: `retries exhausted: ${classified.reason}` };
    }
    return { kind: 'retriable', reason: 'retries exhausted' };
  }
  if (name === 'KafkaJSSASLAuthenticationError') return { kind: 'fatal', reason: 'SASL authentication failed' };
  if (name === 'KafkaJSProtocolError' || typeof e.type === 'string') {
    const type = String(e.type);
    if (FATAL_PROTOCOL_TYPES.has(type)) return { kind: 'fatal', reason: `broker rejected the request: ${type}` };
    if (GENERATION_PROTOCOL_TYPES.has(type)) return { kind: 'generation-over', reason: `group generation ended: ${type}` };
    return e.retriable === true ? { kind: 'retriable', reason: `broker error ${type}` } : { kind: 'fatal', reason: `broker error ${type}` };
  }
  if (RETRIABLE_NAMES.has(name)) return { kind: 'retriable', reason: `${name}: ${String(e.message)}` };
  if (typeof e.code === 'string' && NODE_RETRIABLE_CODES.has(e.code)) return { kind: 'retriable', reason: `network error ${e.code}` };
  if (e.retriable === true) return { kind: 'retriable', reason: `${name}: ${String(e.message)}` };
  return { kind: 'fatal', reason: `${name}: ${String(e.message)}` };
}
