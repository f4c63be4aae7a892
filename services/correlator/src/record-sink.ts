import type { RecordUpdate } from '@killtrace/correlation';
import { classifyElasticError, writeDocuments, type BulkFailure, type ElasticClient } from '@killtrace/elastic';
import { chunkBySize, classifyKafkaError, KafkaAdapterError, type EncodedBatch, type TypedTopicProducer } from '@killtrace/kafka';
import { MESSAGE_VERSION, recordMessageSchema, type deadLetterMessageSchema, type DeadLetterMessage, type RestartRecord } from '@killtrace/schemas';
import { backoffDelay, sleep } from '@killtrace/retry';
import { invalidRecordLetter, rejectedDocumentLetter } from './dead-letter.js';
import type { Telemetry } from './telemetry.js';

/**
 * Writes restart records to both sinks (Elasticsearch by `_id`, and the records topic keyed by pod uid) and
 * resolves only once both acknowledged them, retrying retriable failures with exponential back-off for as long
 * as it takes. One bad record never stalls the others: a record that fails the records-topic schema, a document
 * Elasticsearch refuses for good (mapping conflict, field limits) and a message the broker refuses for good (too
 * large) each go to the dead-letter topic alone, with the error. A failure of the whole request that retrying
 * cannot fix (permissions, an unknown error) is tried `FATAL_ATTEMPTS` times, then `SinkFatal` is thrown: the
 * service exits and its orchestrator restarts it, nothing committed, so the input is replayed after a fix.
 * Throws `SinkAborted` when `signal` aborts (shutdown): nothing is committed then, replay covers it.
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

/** A sink failed with an error that retrying does not fix (record-sink.ts header); the service exits. */
export class SinkFatal extends Error {
  override readonly name = 'SinkFatal';
  readonly code = 'KT_ERR_CORRELATOR_SINK_FATAL';
}

/** The broker refused one message for what it is, not for the state of the cluster: retrying cannot help. */
class MessageRefused extends Error {
  override readonly name = 'MessageRefused';
}

/** Fatal failures in a row before a sink gives up (each after the usual back-off). */
export const FATAL_ATTEMPTS = 5;

/** Broker error types that are about the message itself (Kafka protocol error codes). */
const MESSAGE_ERRORS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE', 'INVALID_TIMESTAMP']);

function refusesMessage(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; typeof e === 'object' && e !== null && depth < 4; depth += 1) {
    const shape = e as { type?: unknown; originalError?: unknown; cause?: unknown };
    if (typeof shape.type === 'string' && MESSAGE_ERRORS.has(shape.type)) return true;
    e = shape.originalError ?? shape.cause;
  }
  return false;
}

/**
 * Bytes of one records-topic produce request. The broker's bound (message.max.bytes, 1 MiB by default) applies to
 * each partition's record batch, which is never more than the whole request; `bySize` counts 128 bytes of framing per
 * record on top of the value, more than the key and record headers take. A request refused as too large anyway (a
 * broker set lower) is halved (`publishChunk`). kafkajs' idempotent producer sends one produce request per broker at
 * a time (it holds a per-broker lock until the response), so fewer, bigger requests are what cuts the round trips;
 * `records` may be a producer group (libs/kafka/src/producer-group.ts) that sends each chunk's partitions through
 * several producers at once.
 */
const PUBLISH_CHUNK_BYTES = 960 * 1024;

/** Splits updates into runs whose JSON (plus 128 bytes of framing each) stays under `maxBytes` (a single larger record is a run of its own). */
export function byEncodedSize(updates: readonly RecordUpdate[], maxBytes: number): RecordUpdate[][] {
  return chunkBySize(updates, maxBytes, (update) => Buffer.byteLength(JSON.stringify(update.record)) + 128);
}

/** One record as its records-topic message (key and serialized value). */
type Encoded = EncodedBatch['messages'][number];

/**
 * The documents for the bulk helper, calling `taken` when the helper asks past the last one: it serializes each
 * document as it takes it, so by then only sending the request is left.
 */
async function* documentsThenSignal(documents: ReadonlyMap<string, RestartRecord>, taken: () => void): AsyncGenerator<{ id: string; document: RestartRecord }> {
  for (const [id, document] of documents) yield { id, document };
  taken();
}

/** A per-document failure worth retrying: overload or a server-side error, not the document itself. */
const retriableStatus = (status: number): boolean => status === 429 || status === 408 || status >= 500;

export class RecordSink {
  constructor(private readonly options: RecordSinkOptions) {}

  /** Writes the records; returns how many Elasticsearch rejected for good (dead-lettered). */
  async write(updates: readonly RecordUpdate[], signal: AbortSignal): Promise<number> {
    if (updates.length === 0) return 0;
    // A record the records topic would refuse goes to neither sink: both must show the same records. Encoding it
    // for the topic is that check, done once: the bytes are what `publish` sends (no second validation and JSON).
    const valid: RecordUpdate[] = [];
    const encoded: Encoded[] = [];
    const invalid: DeadLetterMessage[] = [];
    for (const update of updates) {
      const message = this.encodeRecord(update);
      if (message !== undefined) {
        valid.push(update);
        encoded.push(message);
        continue;
      }
      const checked = recordMessageSchema.safeParse({ v: MESSAGE_VERSION, id: update.id, record: update.record });
      const issues = (checked.error?.issues ?? []).slice(0, 10).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
      const reason = `record fails the records-topic schema: ${issues.join('; ')}`;
      invalid.push(invalidRecordLetter('correlator.records-schema', update.id, update.record, reason, Date.now()));
      this.options.telemetry.deadLettered('correlator.records-schema', reason, { id: update.id });
    }
    await this.deadLetters(invalid, signal);
    if (valid.length === 0) return invalid.length;
    // Both writes overlap, and the bulk request goes first: the records-topic work (kafkajs builds and checksums its
    // requests on this thread) starts once the bulk helper has taken and serialized every document, so it runs while
    // Elasticsearch indexes instead of delaying the bulk request.
    let serialized!: () => void;
    const documentsTaken = new Promise<void>((resolve) => {
      serialized = resolve;
    });
    const [rejected, refused] = await Promise.all([
      this.writeElastic(valid, signal, serialized),
      documentsTaken.then(() => this.publish(valid, encoded, signal)),
    ]);
    return invalid.length + rejected + refused;
  }

  /** The record as its records-topic message, validated and serialized; undefined when the schema refuses it. */
  private encodeRecord(update: RecordUpdate): Encoded | undefined {
    // Only a valid record is sent, and its pod uid is then defined: the key of an invalid one is never used.
    const key = (update.record as { kubernetes?: { pod?: { uid?: string } } }).kubernetes?.pod?.uid ?? update.id;
    try {
      const [message] = this.options.records.encode([{ key, value: { v: MESSAGE_VERSION, id: update.id, record: update.record } }]).messages;
      return message;
    } catch (error) {
      if (error instanceof KafkaAdapterError && error.code === 'KT_ERR_KAFKA_INVALID_MESSAGE') return undefined;
      throw error;
    }
  }

  /** Produces dead letters, retrying until the broker acknowledges them. */
  async deadLetters(letters: readonly DeadLetterMessage[], signal: AbortSignal): Promise<void> {
    if (letters.length === 0) return;
    await this.retrying('kafka-dead-letter', signal, async () => {
      await this.options.deadLetter.send(letters.map((value) => ({ key: value.key ?? value.stage, value })));
    });
  }

  /** Indexes the records; `taken` is called once the first attempt's documents are all serialized (or it failed). */
  private async writeElastic(updates: readonly RecordUpdate[], signal: AbortSignal, taken: () => void): Promise<number> {
    let remaining = new Map<string, RestartRecord>(updates.map((u) => [u.id, u.record]));
    const letters: DeadLetterMessage[] = [];
    await this.retrying('elasticsearch', signal, async () => {
      const report = await writeDocuments(this.options.elastic, documentsThenSignal(remaining, taken), {
        index: this.options.alias,
        retries: 0,
        concurrency: 1,
      }).finally(taken);
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

  /** Publishes to the records topic; returns how many records the broker refused for good (dead-lettered). */
  private async publish(updates: readonly RecordUpdate[], encoded: readonly Encoded[], signal: AbortSignal): Promise<number> {
    const letters: DeadLetterMessage[] = [];
    const pairs = updates.map((update, i) => ({ update, message: encoded[i] as Encoded }));
    // One produce request must stay under the broker's message.max.bytes (1 MiB by default), whatever the flush size.
    for (const chunk of chunkBySize(pairs, PUBLISH_CHUNK_BYTES, (p) => p.message.value.length + 128)) await this.publishChunk(chunk, letters, signal);
    await this.deadLetters(letters, signal);
    return letters.length;
  }

  /** Sends one chunk; a refused chunk is halved until the refused record stands alone, which is dead-lettered. */
  private async publishChunk(chunk: readonly { update: RecordUpdate; message: Encoded }[], letters: DeadLetterMessage[], signal: AbortSignal): Promise<void> {
    const { records } = this.options;
    const batch: EncodedBatch = { topic: records.topic, count: chunk.length, bytes: chunk.reduce((n, p) => n + p.message.value.length, 0), messages: chunk.map((p) => p.message) };
    try {
      await this.retrying('kafka-records', signal, async () => {
        await records.sendEncoded(batch);
      }, refusesMessage);
    } catch (error) {
      if (!(error instanceof MessageRefused)) throw error;
      const only = chunk[0]?.update;
      if (chunk.length === 1 && only !== undefined) {
        letters.push(invalidRecordLetter('correlator.records-topic', only.id, only.record, `the broker refused the record: ${error.message}`, Date.now()));
        this.options.telemetry.deadLettered('correlator.records-topic', error.message, { id: only.id });
        return;
      }
      const half = Math.ceil(chunk.length / 2);
      await this.publishChunk(chunk.slice(0, half), letters, signal);
      await this.publishChunk(chunk.slice(half), letters, signal);
    }
  }

  /**
   * Runs `attempt` until it succeeds. Retriable failures are retried for as long as it takes (the service is
   * unready meanwhile); a failure `refuses` says is about the message is thrown at once as `MessageRefused`; fatal
   * failures are retried `FATAL_ATTEMPTS` times in a row, then thrown as `SinkFatal`. Nothing is committed
   * until the sinks succeed, so a restart after a fix replays the same input.
   */
  private async retrying(
    sink: Parameters<Telemetry['sinkRetry']>[0],
    signal: AbortSignal,
    attempt: () => Promise<void>,
    refuses: (error: unknown) => boolean = () => false,
  ): Promise<void> {
    let fatal = 0;
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
        if (refuses(error)) throw new MessageRefused(classified.reason);
        fatal = classified.kind === 'fatal' ? fatal + 1 : 0;
        if (fatal >= FATAL_ATTEMPTS) {
          throw new SinkFatal(`${sink} failed ${fatal} times in a row with an error retrying does not fix: ${classified.reason}`, { cause: error });
        }
        const delay = backoffDelay(n, this.options.retryInitialMs, this.options.retryMaxMs);
        this.options.telemetry.sinkRetry(sink, `${classified.kind}: ${classified.reason}`, n, delay);
        this.options.onDegraded(true, `${sink}: ${classified.reason}`);
        if (!(await sleep(delay, signal))) throw new SinkAborted(`${sink}: aborted while retrying`);
      }
    }
  }
}
