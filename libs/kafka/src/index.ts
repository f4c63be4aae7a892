/**
 * @killtrace/kafka: the only code that talks to kafkajs. Client from configuration, idempotent topic setup,
 * producers and consumers that validate every message with a zod schema, retriable/fatal error classification.
 */
export { createKafkaClient, kafkaClientConfig, type KafkaClient, type KafkaClientOptions, type AdapterLogger } from './client.js';
export { ensureTopics, killtraceTopics, type TopicSpec, type TopicMismatch, type EnsureTopicsReport, type EnsureTopicsOptions } from './topics.js';
export { createProducer, type EncodedBatch, type KillProducer, type TypedTopicProducer, type OutgoingMessage, type ProducerOptions } from './producer.js';
export { createConsumer, type KillConsumer, type ConsumerOptions, type ConsumerTopics, type ConsumerSettings, type IncomingMessage, type InvalidMessage } from './consumer.js';
export { memoizedDefaultPartitioner } from './partitioner.js';
export { coPartitionedAssigner, CO_PARTITIONED_ASSIGNER } from './assigner.js';
export { encodeMessage, decodeMessage, formatIssues, type DecodeResult } from './codec.js';
export { KafkaAdapterError, kafkaErrorCodes, classifyKafkaError, type KafkaErrorCode, type ErrorClass, type ClassifiedError } from './errors.js';
