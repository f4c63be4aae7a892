import { z } from 'zod';
import { restartRecordSchema } from './restart-record.js';
import { appLogSignalSchema, signalSchema } from './signals.js';

/**
 * Messages on Killtrace's Kafka topics (docs/decisions/0003-kafka-message-formats.md). Every message is JSON,
 * versioned by `v`, keyed by pod uid so that a pod's signals and logs land in the same partition of the
 * co-partitioned `signals` and `logs` topics, and carries its event time as the Kafka message timestamp so a
 * consumer can seek by time when it rebuilds state.
 */

export const MESSAGE_VERSION = 1;

/** Which collector produced a message. */
export const producerRefSchema = z.object({
  component: z.enum(['cluster-watcher', 'node-agent', 'correlator', 'test']),
  /** Node name for node agents; cluster name for the watcher. */
  instance: z.string(),
});
export type ProducerRef = z.infer<typeof producerRefSchema>;

/** `signals` topic: pod snapshots, events and kubelet journal entries. */
export const signalMessageSchema = z.object({
  v: z.literal(MESSAGE_VERSION),
  producer: producerRefSchema,
  signal: signalSchema,
});
export type SignalMessage = z.infer<typeof signalMessageSchema>;

/** `logs` topic: application log lines (CRI partial lines already joined, redaction applied on the node). */
export const logMessageSchema = z.object({
  v: z.literal(MESSAGE_VERSION),
  producer: producerRefSchema,
  signal: appLogSignalSchema,
});
export type LogMessage = z.infer<typeof logMessageSchema>;

/** `records` topic: restart records as written to Elasticsearch, with their document id. */
export const recordMessageSchema = z.object({
  v: z.literal(MESSAGE_VERSION),
  id: z.string(),
  record: restartRecordSchema,
});
export type RecordMessage = z.infer<typeof recordMessageSchema>;

/** `dead-letter` topic: what could not be processed, why, and the original bytes. */
export const deadLetterMessageSchema = z.object({
  v: z.literal(MESSAGE_VERSION),
  /** Where the failure happened, e.g. `correlator.decode`, `correlator.elasticsearch`, `collector.validate`. */
  stage: z.string(),
  reason: z.string(),
  topic: z.string().optional(),
  partition: z.number().int().optional(),
  offset: z.string().optional(),
  key: z.string().nullable().optional(),
  /** The original message value, base64. */
  original: z.string().nullable(),
  /** Epoch ms when it was dead-lettered. */
  at: z.number(),
});
export type DeadLetterMessage = z.infer<typeof deadLetterMessageSchema>;

/** The partitioning key of a signal: the pod uid, or `namespace/name` while the uid is not known. */
export function signalKey(signal: z.infer<typeof signalSchema>): string {
  switch (signal.kind) {
    case 'pod':
      return signal.pod.uid;
    case 'event':
      return signal.involved.uid ?? `${signal.involved.namespace ?? ''}/${signal.involved.name}`;
    case 'kubelet':
      return signal.pod.uid ?? `${signal.pod.namespace}/${signal.pod.name}`;
    case 'app_log':
      return signal.pod.uid;
    case 'kernel_oom':
      // A kill outside any pod (system services) has no uid: keyed by node, it still reaches one partition.
      return signal.podUid ?? `kernel/${signal.host ?? ''}`;
  }
}

/** The event time of a signal, used as the Kafka message timestamp. */
export function signalTime(signal: z.infer<typeof signalSchema>): number | undefined {
  switch (signal.kind) {
    case 'pod':
      return signal.observedAt;
    case 'event':
      return signal.lastAt;
    case 'kubelet':
    case 'app_log':
    case 'kernel_oom':
      return signal.at;
  }
}
