import { MESSAGE_VERSION, signalKey, signalSchema, signalTime, type LogMessage, type ProducerRef, type SignalMessage } from '@killtrace/schemas';
import type { DeadLetterEntry } from './types.js';

/** A message ready for the producer: key = pod uid (or `namespace/name`), timestamp = the signal's event time. */
export interface Outgoing<T = SignalMessage> {
  key: string;
  value: T;
  timestamp?: number;
}

export type OutgoingResult =
  | { ok: true; logs: false; message: Outgoing<SignalMessage> }
  | { ok: true; logs: true; message: Outgoing<LogMessage> }
  | { ok: false; deadLetter: DeadLetterEntry };

/**
 * Pure: one candidate signal -> the message to produce (validated with the shared schema, defaults applied) or the
 * dead-letter entry that says why not. `app_log` signals belong on the logs topic (`logs: true`).
 */
export function toOutgoing(candidate: unknown, producer: ProducerRef, stage: string): OutgoingResult {
  const parsed = signalSchema.safeParse(candidate);
  if (!parsed.success) {
    const reason = parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
      .join('; ');
    return { ok: false, deadLetter: { stage, reason: `invalid signal: ${reason}`, original: (candidate ?? null) as object | null, ...keyOfInvalid(candidate) } };
  }
  const signal = parsed.data;
  const timestamp = signalTime(signal);
  const envelope = { key: signalKey(signal), ...(timestamp === undefined ? {} : { timestamp }) };
  if (signal.kind === 'app_log') return { ok: true, logs: true, message: { ...envelope, value: { v: MESSAGE_VERSION, producer, signal } } };
  return { ok: true, logs: false, message: { ...envelope, value: { v: MESSAGE_VERSION, producer, signal } } };
}

function keyOfInvalid(candidate: unknown): { key?: string } {
  if (typeof candidate !== 'object' || candidate === null) return {};
  const pod = (candidate as { pod?: { uid?: unknown } }).pod;
  return typeof pod?.uid === 'string' ? { key: pod.uid } : {};
}
