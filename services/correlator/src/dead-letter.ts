import type { InvalidMessage } from '@killtrace/kafka';
import { MESSAGE_VERSION, type DeadLetterMessage, type RestartRecord } from '@killtrace/schemas';

/** A message that failed validation: the stage, the reason with the zod issues, and the original bytes. */
export function invalidMessageLetter(message: InvalidMessage, at: number): DeadLetterMessage {
  // The decoder's reason already names the schema issues; add them only when it does not.
  const missing = message.issues.filter((issue) => !message.reason.includes(issue)).slice(0, 10);
  const issues = missing.length > 0 ? `: ${missing.join('; ')}` : '';
  return {
    v: MESSAGE_VERSION,
    stage: 'correlator.decode',
    reason: `${message.reason}${issues}`,
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    key: message.key === null ? null : message.key.toString('utf8'),
    original: message.raw === null ? null : message.raw.toString('base64'),
    at,
  };
}

/** A restart record Elasticsearch refused (not retriable, e.g. a mapping conflict): the error and the document. */
export function rejectedDocumentLetter(id: string, record: RestartRecord, failure: { status: number; type: string; reason: string }, at: number): DeadLetterMessage {
  return {
    v: MESSAGE_VERSION,
    stage: 'correlator.elasticsearch',
    reason: `HTTP ${failure.status} ${failure.type}: ${failure.reason}`,
    key: id,
    original: Buffer.from(JSON.stringify({ id, record }), 'utf8').toString('base64'),
    at,
  };
}

/** A message whose event time is too far ahead of the clock (event-time-bound.ts): the reason and the original bytes. */
export function futureEventLetter(
  message: { topic: string; partition: number; offset: string; key: Buffer | null; raw: Buffer | null },
  reason: string,
  at: number,
): DeadLetterMessage {
  return {
    v: MESSAGE_VERSION,
    stage: 'correlator.event-time',
    reason,
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    key: message.key === null ? null : message.key.toString('utf8'),
    original: message.raw === null ? null : message.raw.toString('base64'),
    at,
  };
}

/** The most of a record's JSON a dead letter keeps: the letter itself must fit in one Kafka message. */
const MAX_ORIGINAL_BYTES = 256 * 1024;

/** A restart record neither sink may take (records-topic schema, or refused by the broker): the reason and the record. */
export function invalidRecordLetter(stage: string, id: string, record: RestartRecord, reason: string, at: number): DeadLetterMessage {
  const json = Buffer.from(JSON.stringify({ id, record }), 'utf8');
  const cut = json.length > MAX_ORIGINAL_BYTES;
  return {
    v: MESSAGE_VERSION,
    stage,
    reason: cut ? `${reason} (original cut to its first ${MAX_ORIGINAL_BYTES} of ${json.length} bytes)` : reason,
    key: id,
    original: (cut ? json.subarray(0, MAX_ORIGINAL_BYTES) : json).toString('base64'),
    at,
  };
}
