import type { RecordUpdate } from '@killtrace/correlation';
import { classifyElasticError, writeDocuments, type BulkFailure, type ElasticClient } from '@killtrace/elastic';
import { classifyKafkaError, type TypedTopicProducer } from '@killtrace/kafka';
import { MESSAGE_VERSION, type deadLetterMessageSchema, type DeadLetterMessage, type recordMessageSchema, type RestartRecord } from '@killtrace/schemas';
import { backoffDelay, sleep } from './backoff.js';
import { rejectedDocumentLetter } from './dead-letter.js';
import type { Telemetry } from './telemetry.js';

/**
 * Writes restart records to both sinks (Elasticsearch by `_id`, and the records topic keyed by pod uid) and
 * resolves only once both acknowledged them, retrying retriable failures with exponential back-off for as long
 * as it takes. A document Elasticsearch refuses for good (mapping conflict, field limits) goes to the dead-letter
 * topic with the error. Throws only when `signal` aborts (shutdown): nothing is committed then, replay covers it.
 */

export interface RecordSinkOptions {
  elastic: ElasticClient;
  alias: string;
  records: TypedTopicProducer<typeof recordMessageSchema>;
  deadLetter: TypedTopicProducer<typeof deadLetterMessageSchema>;
  telemetry: Telemetry;
  retryInitialMs: number;
  retryMaxMs: number;
  /** Called with true when a sink starts failing and false when it recovers (the pipeline pauses the consumer). */
  onDegraded: (degraded: boolean, reason: string) => void;
}

export class SinkAborted extends Error {
  override readonly name = 'SinkAborted';
}

const PUBLISH_CHUNK_BYTES = 512 * 1024;

/** Splits updates into runs whose JSON stays under `maxBytes` (a single larger record is a run of its own). */
export function byEncodedSize(updates: readonly RecordUpdate[], maxBytes: number): RecordUpdate[][] {
  const chunks: RecordUpdate[][] = [];
  let current: RecordUpdate[] = [];
  let bytes = 0;
  for (const update of updates) {
    const size = Buffer.byteLength(JSON.stringify(update.record)) + 128;
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(update);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** A per-document failure worth retrying: overload or a server-side error, not the document itself. */
const retriableStatus = (status: number): boolean => status === 429 || status === 408 || status >= 500;

export class RecordSink {
  constructor(private readonly options: RecordSinkOptions) {}

  /** Writes the records; returns how many Elasticsearch rejected for good (dead-lettered). */
  async write(updates: readonly RecordUpdate[], signal: AbortSignal): Promise<number> {
    if (updates.length === 0) return 0;
    const [rejected] = await Promise.all([this.writeElastic(updates, signal), this.publish(updates, signal)]);
    return rejected;
  }

  /** Produces dead letters, retrying until the broker acknowledges them. */
  async deadLetters(letters: readonly DeadLetterMessage[], signal: AbortSignal): Promise<void> {
    if (letters.length === 0) return;
    await this.retrying('kafka-dead-letter', signal, async () => {
      await this.options.deadLetter.send(letters.map((value) => ({ key: value.key ?? value.stage, value })));
    });
  }

  private async writeElastic(updates: readonly RecordUpdate[], signal: AbortSignal): Promise<number> {
    let remaining = new Map<string, RestartRecord>(updates.map((u) => [u.id, u.record]));
    const letters: DeadLetterMessage[] = [];
    await this.retrying('elasticsearch', signal, async () => {
      const report = await writeDocuments(
        this.options.elastic,
        [...remaining].map(([id, document]) => ({ id, document })),
        { index: this.options.alias, retries: 0, concurrency: 1 },
      );
      const retry = new Map<string, RestartRecord>();
      const failures: BulkFailure[] = [];
      for (const failure of report.failures) {
        const record = remaining.get(failure.id);
        if (record === undefined) continue;
        if (retriableStatus(failure.status)) {
          retry.set(failure.id, record);
          failures.push(failure);
        } else {
          letters.push(rejectedDocumentLetter(failure.id, record, failure, Date.now()));
          this.options.telemetry.deadLettered('correlator.elasticsearch', `${failure.type}: ${failure.reason}`, { id: failure.id, status: failure.status });
        }
      }
      remaining = retry;
      if (retry.size > 0) {
        const first = failures[0];
        throw Object.assign(new Error(`${retry.size} documents refused with HTTP ${first?.status ?? '?'} (${first?.type ?? ''})`), {
          meta: { statusCode: first?.status ?? 503 },
        });
      }
    });
    await this.deadLetters(letters, signal);
    return letters.length;
  }

  private async publish(updates: readonly RecordUpdate[], signal: AbortSignal): Promise<void> {
    // One produce request must stay under the broker's message.max.bytes (1 MiB by default), whatever the flush size.
    for (const chunk of byEncodedSize(updates, PUBLISH_CHUNK_BYTES)) {
      await this.retrying('kafka-records', signal, async () => {
        await this.options.records.send(
          chunk.map(({ id, record }) => ({ key: record.kubernetes.pod.uid, value: { v: MESSAGE_VERSION, id, record } })),
        );
      });
    }
  }

  /**
   * Runs `attempt` until it succeeds. Retriable and fatal failures are both retried (a fatal one is logged as
   * such and keeps the service unready): dropping records would break at-least-once, and the committed offsets
   * stay where they are, so a restart after a fix replays the same input.
   */
  private async retrying(sink: Parameters<Telemetry['sinkRetry']>[0], signal: AbortSignal, attempt: () => Promise<void>): Promise<void> {
    for (let n = 1; ; n += 1) {
      if (signal.aborted) throw new SinkAborted(`${sink}: aborted`);
      try {
        await attempt();
        if (n > 1) {
          this.options.telemetry.sinkRecovered(sink, n);
          this.options.onDegraded(false, sink);
        }
        return;
      } catch (error) {
        const classified = sink === 'elasticsearch' ? classifyElasticError(error) : classifyKafkaError(error);
        const delay = backoffDelay(n, this.options.retryInitialMs, this.options.retryMaxMs);
        this.options.telemetry.sinkRetry(sink, `${classified.kind}: ${classified.reason}`, n, delay);
        this.options.onDegraded(true, `${sink}: ${classified.reason}`);
        if (!(await sleep(delay, signal))) throw new SinkAborted(`${sink}: aborted while retrying`);
      }
    }
  }
}
