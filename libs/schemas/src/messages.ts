import { z } from 'zod';
import { restartRecordSchema } from './restart-record.js';
import { appLogSignalSchema, epochMs, podRefSchema, signalSchema, sourceRefSchema, type AppLogSignal } from './signals.js';

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

/** Version of the `logs` topic message that carries several lines of one container incarnation. */
export const LOG_BATCH_MESSAGE_VERSION = 2;

/** One application log line inside a log batch: what varies from line to line. */
export const logBatchLineSchema = z.object({
  at: epochMs,
  stream: z.enum(['stdout', 'stderr']),
  text: z.string(),
});
export type LogBatchLine = z.infer<typeof logBatchLineSchema>;

/**
 * `logs` topic, version 2: consecutive lines of one container incarnation (`<container>/N.log`), its identity and
 * source file once per message instead of once per line. The Kafka message timestamp is the newest line's time.
 */
export const logBatchMessageSchema = z.object({
  v: z.literal(LOG_BATCH_MESSAGE_VERSION),
  producer: producerRefSchema,
  batch: z.object({
    pod: podRefSchema.extend({ uid: z.string() }),
    container: z.string(),
    restartCount: z.number().int().nonnegative(),
    source: sourceRefSchema.optional(),
    lines: z.array(logBatchLineSchema).min(1),
  }),
});
export type LogBatchMessage = z.infer<typeof logBatchMessageSchema>;

/** Whatever the `logs` topic may hold: a consumer decodes version 1 (one line) and version 2 (a batch) alike. */
export const logsTopicMessageSchema = z.discriminatedUnion('v', [logMessageSchema, logBatchMessageSchema]);
export type LogsTopicMessage = z.infer<typeof logsTopicMessageSchema>;

/** The AppLogSignals a `logs` topic message carries, in order. */
export function logMessageSignals(message: LogsTopicMessage): AppLogSignal[] {
  if (message.v === MESSAGE_VERSION) return [message.signal];
  const { pod, container, restartCount, source, lines } = message.batch;
  return lines.map((line) => ({
    kind: 'app_log' as const,
    at: line.at,
    pod,
    container,
    restartCount,
    stream: line.stream,
    text: line.text,
    ...(source === undefined ? {} : { source }),
  }));
}

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
    case 'node':
      return `node/${signal.node.name}`;
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
    case 'node':
      return signal.observedAt;
  }
}
