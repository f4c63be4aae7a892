/**
 * @killtrace/kafka: the only code that talks to kafkajs. A connection from configuration (opaque: no kafkajs type
 * crosses this boundary), idempotent topic setup, producers and consumers that validate every message with a zod
 * schema, the batch consumer (seek, pause/resume, commits with metadata, rebalances) and error classification
 * (retriable, fatal, generation over).
 */
export { createKafkaClient, type KafkaConnection, type KafkaClientOptions, type AdapterLogger } from './client.js';
export { ensureTopics, killtraceTopics, partitionCounts, type TopicSpec, type TopicMismatch, type EnsureTopicsReport, type EnsureTopicsOptions } from './topics.js';
export { createProducer, type EncodedBatch, type KillProducer, type TypedTopicProducer, type OutgoingMessage, type ProducerOptions, type ProducedPartition } from './producer.js';
export { createProducerGroup, type ProducerGroup, type ProducerGroupOptions } from './producer-group.js';
export { createConsumer, type KillConsumer, type ConsumerOptions, type ConsumerTopics, type ConsumerSettings, type IncomingMessage, type InvalidMessage } from './consumer.js';
export {
  createBatchConsumer,
  type BatchConsumer,
  type BatchConsumerOptions,
  type BatchMessage,
  type HeaderValue,
  type MessageBatch,
  type BatchPayload,
  type TopicPartitions,
  type OffsetCommit,
  type CommitOutcome,
  type CommittedOffset,
  type OffsetReader,
  type AssignerName,
} from './batch-consumer.js';
export { CO_PARTITIONED_ASSIGNER } from './assigner.js';
export { readPartitions, topicPartitionCount, type ReadMessage, type ReadPartitionsOptions } from './partition-reader.js';
export { chunkBySize } from './chunk-by-size.js';
export { encodeMessage, decodeMessage, formatIssues, type DecodeResult } from './codec.js';
export { KafkaAdapterError, kafkaErrorCodes, classifyKafkaError, type KafkaErrorCode, type ErrorClass, type ClassifiedError } from './errors.js';
export { partitionOfKey } from './key-partition.js';
export { createTableReader, createTableWriter, type TableReader, type TableReaderOptions, type TableEntry, type InvalidTableEntry, type TableWriter } from './table-reader.js';
