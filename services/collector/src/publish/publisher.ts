import type { Logger } from '@killtrace/logging';
import { classifyKafkaError, KafkaAdapterError, type EncodedBatch, type KillProducer } from '@killtrace/kafka';
import { retry, RetryStopped } from '@killtrace/retry';
import {
  deadLetterMessageSchema,
  MESSAGE_VERSION,
  logMessageSchema,
  logBatchMessageSchema,
  signalMessageSchema,
  type DeadLetterMessage,
  type LogBatchMessage,
  type LogMessage,
  type SignalMessage,
  type ProducerRef,
  type Signal,
} from '@killtrace/schemas';
import { CollectorError } from '../errors.js';
import { toOutgoing, type Outgoing } from './outgoing.js';
import type { PublisherMetrics } from './metrics.js';
import { sendSlices, toLogBatchMessages } from './log-batches.js';
import type { AppLogBatch, DeadLetterEntry, LogBatchPublisher, PublishResult, SignalPublisher } from './types.js';

export interface PublisherOptions {
  producer: KillProducer;
  topics: { signals: string; logs: string; deadLetter: string };
  /** Written into every message: which collector produced it. */
  producerRef: ProducerRef;
  logger: Logger;
  metrics: PublisherMetrics;
  /** Attempts for a retriable Kafka failure before giving up (KT_ERR_COLLECTOR_PUBLISH); default 5. */
  attempts?: number;
  /** First back-off between attempts, doubling with jitter (libs/retry) up to 5 s; default 200 ms. */
  backoffMs?: number;
}

/** The publisher main.ts owns: connect before use, close (flush + disconnect) at shutdown. */
export interface ManagedPublisher extends SignalPublisher, LogBatchPublisher {
  connect(): Promise<void>;
  /** Waits for every send in flight. */
  flush(): Promise<void>;
  /** Flushes, then disconnects the producer. */
  close(): Promise<void>;
}

/** Log batches ready to send: encoded slices, or slices the producer refused (checked line by line when sent). */
interface LogBatchPlan {
  stage: string;
  steps: ({ lines: number; encoded: EncodedBatch; refused?: undefined } | { lines: number; encoded?: undefined; refused: Outgoing<LogBatchMessage>[] })[];
}

/**
 * The collector's shared publishing path (validate -> key by pod uid -> timestamp = event time -> produce; invalid ->
 * dead-letter with reason and original bytes). The pure part (signal -> message or rejection) is `toOutgoing`; this
 * file only talks to the producer, retries retriable failures and counts.
 */
export function createSignalPublisher(options: PublisherOptions): ManagedPublisher {
  const { producer, topics, producerRef, logger, metrics } = options;
  const attempts = options.attempts ?? 5;
  const backoffMs = options.backoffMs ?? 200;
  const signalsTopic = producer.topic(topics.signals, signalMessageSchema);
  const logsTopic = producer.topic(topics.logs, logMessageSchema);
  const logBatchesTopic = producer.topic(topics.logs, logBatchMessageSchema);
  const deadLetterTopic = producer.topic(topics.deadLetter, deadLetterMessageSchema);
  const inFlight = new Set<Promise<unknown>>();
  let isConnected = false;

  function track<T>(promise: Promise<T>): Promise<T> {
    inFlight.add(promise);
    const forget = (): void => void inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  async function withRetries<T>(what: string, context: Record<string, unknown>, send: () => Promise<T>): Promise<T> {
    try {
      return await retry(send, {
        policy: { initialMs: backoffMs, maxMs: Math.max(backoffMs, 5_000), maxAttempts: attempts },
        retriable: (error) => classifyKafkaError(error).kind !== 'fatal',
        onRetry: (error, attempt, retryInMs) => logger.warn({ ...context, attempt, retryInMs, reason: classifyKafkaError(error).reason }, `${what} failed; retrying`),
      });
    } catch (stopped) {
      const error = stopped instanceof RetryStopped ? stopped.cause : stopped;
      const attempt = stopped instanceof RetryStopped ? stopped.attempts : 1;
      const classified = classifyKafkaError(error);
      metrics.publishFailures.inc({ topic: String(context.topic) });
      throw new CollectorError('KT_ERR_COLLECTOR_PUBLISH', `${what} failed after ${attempt} attempt(s): ${classified.reason}`, { ...context, attempts: attempt, class: classified.kind }, { cause: error });
    }
  }

  async function deadLetter(entry: DeadLetterEntry): Promise<void> {
    const original =
      entry.original === null ? null : Buffer.isBuffer(entry.original) ? entry.original : Buffer.from(typeof entry.original === 'string' ? entry.original : JSON.stringify(entry.original));
    const message: DeadLetterMessage = {
      v: MESSAGE_VERSION,
      stage: entry.stage,
      reason: entry.reason,
      ...(entry.key === undefined ? {} : { key: entry.key }),
      original: original === null ? null : original.toString('base64'),
      at: Date.now(),
    };
    await withRetries('dead-lettering', { topic: topics.deadLetter, stage: entry.stage }, () =>
      deadLetterTopic.send([{ key: entry.key ?? entry.stage, value: message }]),
    );
    metrics.deadLetters.inc({ stage: entry.stage });
    logger.warn({ stage: entry.stage, reason: entry.reason, key: entry.key, topic: topics.deadLetter }, 'dead-lettered an invalid signal');
  }

  async function publish(signals: readonly Signal[], publishOptions: { stage?: string } = {}): Promise<PublishResult> {
    const stage = publishOptions.stage ?? `collector.${producerRef.component}.validate`;
    const toSignals: Outgoing<SignalMessage>[] = [];
    const toLogs: Outgoing<LogMessage>[] = [];
    const rejected: DeadLetterEntry[] = [];
    for (const candidate of signals) {
      const out = toOutgoing(candidate, producerRef, stage);
      if (!out.ok) rejected.push(out.deadLetter);
      else if (out.logs) toLogs.push(out.message);
      else toSignals.push(out.message);
    }
    for (const entry of rejected) await deadLetter(entry);
    if (toSignals.length > 0) {
      await withRetries('producing signals', { topic: topics.signals, count: toSignals.length }, () => signalsTopic.send(toSignals));
      for (const m of toSignals) metrics.published.inc({ topic: topics.signals, kind: m.value.signal.kind });
    }
    if (toLogs.length > 0) {
      await withRetries('producing log lines', { topic: topics.logs, count: toLogs.length }, () => logsTopic.send(toLogs));
      metrics.published.inc({ topic: topics.logs, kind: 'app_log' }, toLogs.length);
    }
    return { published: toSignals.length + toLogs.length, deadLettered: rejected.length };
  }

  /**
   * Sync: every slice of the batches validated and serialized now (the producer's schema check at the edge, one per
   * line), so while Kafka acknowledges only bytes are held and the line objects die young (cheap for the garbage
   * collector, a small heap). A slice the producer refuses keeps its messages, to be checked line by line.
   */
  function planLogBatches(batches: readonly AppLogBatch[], stage: string): LogBatchPlan {
    const steps: LogBatchPlan['steps'] = [];
    for (const slice of sendSlices(toLogBatchMessages(batches, producerRef, stage, { validate: false }).messages)) {
      const lines = slice.reduce((n, m) => n + m.value.batch.lines.length, 0);
      try {
        steps.push({ lines, encoded: logBatchesTopic.encode(slice) });
      } catch (error) {
        if (!(error instanceof KafkaAdapterError && error.code === 'KT_ERR_KAFKA_INVALID_MESSAGE')) throw error;
        steps.push({ lines, refused: slice });
      }
    }
    return { stage, steps };
  }

  async function sendLogBatchPlan(plan: LogBatchPlan): Promise<PublishResult> {
    let published = 0;
    let deadLettered = 0;
    for (const step of plan.steps) {
      if (step.encoded !== undefined) {
        const { encoded } = step;
        await withRetries('producing log lines', { topic: topics.logs, count: encoded.count }, () => logBatchesTopic.sendEncoded(encoded));
        published += step.lines;
        continue;
      }
      // Only the invalid lines are dead-lettered; the rest of the slice is still sent.
      const checked = toLogBatchMessages(step.refused.map((m) => m.value.batch), producerRef, plan.stage);
      for (const entry of checked.rejected) await deadLetter(entry);
      for (const valid of sendSlices(checked.messages)) await withRetries('producing log lines', { topic: topics.logs, count: valid.length }, () => logBatchesTopic.send(valid));
      published += checked.lines;
      deadLettered += checked.rejected.length;
    }
    if (published > 0) metrics.published.inc({ topic: topics.logs, kind: 'app_log' }, published);
    return { published, deadLettered };
  }

  /** Not async: the batches are encoded before it returns, and the promise holds only their bytes. */
  function publishLogBatches(batches: readonly AppLogBatch[], publishOptions: { stage?: string } = {}): Promise<PublishResult> {
    let plan: LogBatchPlan;
    try {
      plan = planLogBatches(batches, publishOptions.stage ?? `collector.${producerRef.component}.validate`);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return sendLogBatchPlan(plan);
  }

  return {
    async connect() {
      try {
        await producer.connect();
      } catch (cause) {
        throw new CollectorError('KT_ERR_COLLECTOR_KAFKA', `cannot connect the producer: ${(cause as Error).message}`, {}, { cause });
      }
      isConnected = true;
    },
    publish: (signals, publishOptions) => track(publish(signals, publishOptions)),
    publishLogBatches: (batches, publishOptions) => track(publishLogBatches(batches, publishOptions)),
    deadLetter: (entry) => track(deadLetter(entry)),
    connected: () => isConnected,
    async flush() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    async close() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      if (isConnected) {
        isConnected = false;
        await producer.disconnect();
      }
    },
  };
}

