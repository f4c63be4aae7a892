import { chunkBySize } from '@killtrace/kafka';
import { LOG_BATCH_MESSAGE_VERSION, logBatchLineSchema, logBatchMessageSchema, type LogBatchLine, type LogBatchMessage, type ProducerRef } from '@killtrace/schemas';
import type { Outgoing } from './outgoing.js';
import type { AppLogBatch, DeadLetterEntry } from './types.js';

/** Most lines in one `logs` message (version 2). */
export const LINES_PER_MESSAGE = 1_000;
/**
 * Most text characters in one `logs` message (one longer line still gets a message of its own). Even if JSON escaping
 * made every character 6 bytes, a message stays under Kafka's default 1 MiB `message.max.bytes`.
 */
export const CHARS_PER_MESSAGE = 128 * 1024;
/** Most text characters in one produce call, which kafkajs sends as one record batch per partition. */
export const CHARS_PER_SEND = 256 * 1024;

export interface LogBatchMessages {
  messages: Outgoing<LogBatchMessage>[];
  /** Lines that are not valid app log lines, one dead letter each (the rest of their batch is still sent). */
  rejected: DeadLetterEntry[];
  lines: number;
}

const chars = (m: Outgoing<LogBatchMessage>): number => m.value.batch.lines.reduce((n, l) => n + l.text.length, 0);

/**
 * Pure: batches of one incarnation's lines -> `logs` messages of version 2, validated with the shared schema (unless
 * `validate: false`, when the producer's own check at the edge is the only one), cut at LINES_PER_MESSAGE /
 * CHARS_PER_MESSAGE, keyed by pod uid, stamped with the newest line's time.
 */
export function toLogBatchMessages(batches: readonly AppLogBatch[], producer: ProducerRef, stage: string, options: { validate?: boolean } = {}): LogBatchMessages {
  const validate = options.validate ?? true;
  const out: LogBatchMessages = { messages: [], rejected: [], lines: 0 };
  for (const batch of batches) {
    if (batch.lines.length === 0) continue;
    const { lines: all, ...identity } = batch;
    let lines: readonly LogBatchLine[] = all;
    if (validate && !logBatchMessageSchema.safeParse({ v: LOG_BATCH_MESSAGE_VERSION, producer, batch }).success) {
      // Keep the valid lines; dead-letter the invalid ones (or everything when the identity itself is invalid).
      const head = logBatchMessageSchema.safeParse({ v: LOG_BATCH_MESSAGE_VERSION, producer, batch: { ...identity, lines: [{ at: 0, stream: 'stdout', text: '' }] } });
      const good: LogBatchLine[] = [];
      for (const line of all) {
        const parsed = logBatchLineSchema.safeParse(line);
        if (head.success && parsed.success) good.push(parsed.data);
        else {
          const issues = (head.success ? parsed.error : head.error)?.issues ?? [];
          const reason = issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
          out.rejected.push({ stage, reason: `invalid app log line: ${reason}`, original: { ...identity, line }, ...(typeof batch.pod.uid === 'string' ? { key: batch.pod.uid } : {}) });
        }
      }
      lines = good;
    }
    let current: LogBatchLine[] = [];
    let size = 0;
    const cut = (): void => {
      if (current.length === 0) return;
      let newest = -Infinity;
      for (const line of current) if (line.at > newest) newest = line.at;
      out.messages.push({ key: identity.pod.uid, timestamp: newest, value: { v: LOG_BATCH_MESSAGE_VERSION, producer, batch: { ...identity, lines: current } } });
      out.lines += current.length;
      current = [];
      size = 0;
    };
    for (const line of lines) {
      if (current.length >= LINES_PER_MESSAGE || (current.length > 0 && size + line.text.length > CHARS_PER_MESSAGE)) cut();
      current.push(line);
      size += line.text.length;
    }
    cut();
  }
  return out;
}

/** Groups messages into produce calls of at most CHARS_PER_SEND text characters (at least one message each). */
export function sendSlices(messages: readonly Outgoing<LogBatchMessage>[]): Outgoing<LogBatchMessage>[][] {
  return chunkBySize(messages, CHARS_PER_SEND, chars);
}
