import type { ElasticClient } from './client.js';
import { ElasticAdapterError } from './errors.js';

/** A document to index under a caller-chosen id (e.g. `restartRecordId(...)`), so rewrites replace it. */
export interface BulkDocument<T extends object> {
  id: string;
  document: T;
}

/** One document Elasticsearch refused, with the reason it gave. */
export interface BulkFailure {
  id: string;
  status: number;
  /** Elasticsearch error type, e.g. `strict_dynamic_mapping_exception`, `document_parsing_exception`. */
  type: string;
  reason: string;
}

export interface BulkReport {
  total: number;
  successful: number;
  failures: BulkFailure[];
  timeMs: number;
}

export interface BulkWriteOptions {
  /** An index or write alias. */
  index: string;
  /** Make the documents searchable before resolving (tests, CLI); services leave it off. */
  refresh?: boolean;
  /** Retries of documents rejected with 429 (overload) before they are reported as failures. */
  retries?: number;
  flushBytes?: number;
  concurrency?: number;
}

async function* toAsyncIterator<T>(items: Iterable<T> | AsyncIterable<T>): AsyncGenerator<T> {
  yield* items;
}

/**
 * Indexes documents with `client.helpers.bulk`, each under its given `_id`, and returns every per-document
 * failure instead of dropping it; throws KT_ERR_ELASTIC_BULK only when a request fails as a whole.
 */
export async function writeDocuments<T extends object>(
  client: ElasticClient,
  documents: Iterable<BulkDocument<T>> | AsyncIterable<BulkDocument<T>>,
  options: BulkWriteOptions,
): Promise<BulkReport> {
  const failures: BulkFailure[] = [];
  const started = Date.now();
  try {
    const stats = await client.helpers.bulk<BulkDocument<T>>({
      datasource: toAsyncIterator(documents),
      onDocument: (item) => [{ index: { _index: options.index, _id: item.id } }, item.document],
      onDrop: (drop) => {
        const operation = drop.operation as { index?: { _id?: string } };
        failures.push({
          id: operation.index?._id ?? '(unknown)',
          status: drop.status,
          type: drop.error?.type ?? (drop.status === 429 ? 'too_many_requests' : 'unknown'),
          reason: drop.error?.reason ?? `rejected with HTTP ${drop.status}`,
        });
      },
      refreshOnCompletion: options.refresh === true ? options.index : false,
      retries: options.retries ?? 3,
      wait: 1_000,
      flushBytes: options.flushBytes ?? 5_000_000,
      concurrency: options.concurrency ?? 2,
    });
    return { total: stats.total, successful: stats.successful, failures, timeMs: Date.now() - started };
  } catch (cause) {
    throw new ElasticAdapterError('KT_ERR_ELASTIC_BULK', `bulk write to ${options.index} failed: ${(cause as Error).message}`, {
      target: options.index,
      cause,
    });
  }
}
