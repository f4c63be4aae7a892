import type { estypes } from '@elastic/elasticsearch';
import { restartRecordSchema, type RestartRecord } from '@killtrace/schemas';
import type { ElasticClient } from './client.js';
import { ElasticAdapterError } from './errors.js';
import { recordQuery, recordSort, type RecordFilter, type SortOrder } from './record-query.js';

/** Sort values of the last hit of a page: where the next page starts (`search_after`). */
export type SearchCursor = Array<string | number>;

export interface RecordPage {
  records: Array<{ id: string; record: RestartRecord }>;
  /** Null on the last page. */
  next: SearchCursor | null;
  /** Matching documents (counted exactly up to 10 000, then `totalIsLowerBound`). */
  total: number;
  totalIsLowerBound: boolean;
}

export interface SearchRecordsOptions {
  /** The write alias or an index pattern. */
  index: string;
  filter: RecordFilter;
  size: number;
  order?: SortOrder;
  after?: SearchCursor;
}

/** Encodes a cursor for URLs (opaque to clients). */
export function encodeCursor(cursor: SearchCursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

/** Decodes a cursor from `encodeCursor`, or throws KT_ERR_ELASTIC_CURSOR when it is not one. */
export function decodeCursor(text: string): SearchCursor {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const ok =
    Array.isArray(value) &&
    value.length === recordSort('asc').length &&
    value.every((v) => (typeof v === 'string' && v.length <= 512) || (typeof v === 'number' && Number.isFinite(v)));
  if (!ok) throw new ElasticAdapterError('KT_ERR_ELASTIC_CURSOR', 'the cursor is not one this API returned (give the `next` value of a previous page)');
  return value as SearchCursor;
}

function parseHit(hit: estypes.SearchHit<unknown>, index: string): { id: string; record: RestartRecord; sort: SearchCursor } {
  const parsed = restartRecordSchema.safeParse(hit._source);
  if (!parsed.success) {
    throw new ElasticAdapterError('KT_ERR_ELASTIC_DOCUMENT', `document ${hit._id ?? '?'} in ${hit._index} is not a restart record: ${parsed.error.issues[0]?.message ?? 'invalid'}`, {
      target: index,
    });
  }
  return { id: hit._id ?? '', record: parsed.data, sort: (hit.sort ?? []) as SearchCursor };
}

async function search(client: ElasticClient, request: estypes.SearchRequest, index: string): Promise<estypes.SearchResponse<unknown>> {
  try {
    return await client.search<unknown>(request);
  } catch (cause) {
    if (isIndexMissing(cause)) return emptyResponse();
    throw new ElasticAdapterError('KT_ERR_ELASTIC_SEARCH', `searching ${index} failed: ${(cause as Error).message}`, { target: index, cause });
  }
}

const isIndexMissing = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && JSON.stringify((error as { meta?: { body?: unknown } }).meta?.body ?? '').includes('index_not_found_exception');

function emptyResponse(): estypes.SearchResponse<unknown> {
  return { took: 0, timed_out: false, _shards: { total: 0, successful: 0, failed: 0 }, hits: { total: { value: 0, relation: 'eq' }, hits: [] } };
}

/** One page of records matching a filter, newest first by default, continuing after `after`. */
export async function searchRecords(client: ElasticClient, options: SearchRecordsOptions): Promise<RecordPage> {
  const response = await search(
    client,
    {
      index: options.index,
      query: recordQuery(options.filter),
      sort: recordSort(options.order ?? 'desc'),
      size: options.size + 1,
      track_total_hits: 10_000,
      ...(options.after ? { search_after: options.after } : {}),
    },
    options.index,
  );
  const hits = response.hits.hits.map((h) => parseHit(h, options.index));
  const page = hits.slice(0, options.size);
  const total = typeof response.hits.total === 'number' ? response.hits.total : (response.hits.total?.value ?? 0);
  const relation = typeof response.hits.total === 'object' ? response.hits.total.relation : 'eq';
  return {
    records: page.map(({ id, record }) => ({ id, record })),
    next: hits.length > options.size ? (page[page.length - 1]?.sort ?? null) : null,
    total,
    totalIsLowerBound: relation === 'gte',
  };
}

/** One record by its document id, or null. Searched (not `get`) because the alias may span rolled-over indices. */
export async function getRecord(client: ElasticClient, index: string, id: string): Promise<RestartRecord | null> {
  const page = await searchRecords(client, { index, filter: { ids: [id] }, size: 1 });
  return page.records[0]?.record ?? null;
}

export interface StreamProgress {
  /** Records read so far in this pass. */
  read: number;
  /** Matching records (exact: counted once when the stream opens). */
  total: number;
}

/**
 * A consistent snapshot of the records (an Elasticsearch point in time), read in pages with `search_after` so a
 * week of a workload streams through in constant memory. Reading it twice (summary, then rows) sees the same
 * documents both times. Close it when done.
 */
export class RecordSnapshot {
  private constructor(
    private readonly client: ElasticClient,
    private readonly index: string,
    private readonly pitId: string,
    private readonly keepAlive: string,
  ) {}

  /** Opens a point in time on `index` (a missing index gives an empty snapshot). */
  static async open(client: ElasticClient, index: string, keepAlive = '2m'): Promise<RecordSnapshot | EmptySnapshot> {
    try {
      const pit = await client.openPointInTime({ index, keep_alive: keepAlive });
      return new RecordSnapshot(client, index, pit.id, keepAlive);
    } catch (cause) {
      if (isIndexMissing(cause)) return new EmptySnapshot();
      throw new ElasticAdapterError('KT_ERR_ELASTIC_SEARCH', `opening a point in time on ${index} failed: ${(cause as Error).message}`, { target: index, cause });
    }
  }

  /** How many records match (exact). */
  async count(filter: RecordFilter): Promise<number> {
    const response = await search(this.client, { pit: { id: this.pitId, keep_alive: this.keepAlive }, query: recordQuery(filter), size: 0, track_total_hits: true }, this.index);
    return typeof response.hits.total === 'number' ? response.hits.total : (response.hits.total?.value ?? 0);
  }

  /** The matching records oldest first, `pageSize` at a time. */
  async *records(filter: RecordFilter, options: { pageSize?: number } = {}): AsyncGenerator<RestartRecord> {
    let after: SearchCursor | undefined;
    for (;;) {
      const response = await search(
        this.client,
        {
          pit: { id: this.pitId, keep_alive: this.keepAlive },
          query: recordQuery(filter),
          sort: recordSort('asc'),
          size: options.pageSize ?? 500,
          track_total_hits: false,
          ...(after ? { search_after: after } : {}),
        },
        this.index,
      );
      const hits = response.hits.hits;
      for (const hit of hits) yield parseHit(hit, this.index).record;
      const last = hits[hits.length - 1];
      if (!last || hits.length < (options.pageSize ?? 500)) return;
      after = last.sort as SearchCursor;
    }
  }

  /** Releases the point in time. */
  async close(): Promise<void> {
    await this.client.closePointInTime({ id: this.pitId }).catch(() => undefined);
  }
}

/** The snapshot of an index that does not exist yet: no records. */
export class EmptySnapshot {
  async count(_filter: RecordFilter): Promise<number> {
    return 0;
  }

  // eslint-disable-next-line require-yield
  async *records(_filter: RecordFilter, _options: { pageSize?: number } = {}): AsyncGenerator<RestartRecord> {
    return;
  }

  async close(): Promise<void> {}
}
