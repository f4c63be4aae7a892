import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { WorkloadHistoryBuilder } from '@killtrace/correlation';
import { decodeCursor, encodeCursor, getRecord, RecordSnapshot, searchRecords, type ElasticClient, type RecordFilter, type SearchCursor } from '@killtrace/elastic';
import type { Logger } from '@killtrace/logging';
import { scopeFilter, streamTimeline, timelineMedia, type TimelineFormat, type TimelineScope } from '@killtrace/render';
import { restartRecordSchema } from '@killtrace/schemas';
import type { z } from 'zod';
import {
  listRecordsQuery,
  recommendationQuery,
  recommendationSchema,
  recordPageSchema,
  recordParams,
  timelineQuery,
  workloadParams,
  type RecommendationBody,
  type recordFiltersQuery,
} from './api-schemas.js';
import { ApiError } from './errors.js';
import { route, type RouteDef } from './route-table.js';

export interface RouteContext {
  elastic: ElasticClient;
  index: string;
  maxPageSize: number;
  logger: Logger;
}

const list = <T>(v: T | T[] | undefined): T[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);
const bool = (v: 'true' | 'false' | undefined): boolean | undefined => (v === undefined ? undefined : v === 'true');

function checkRange(from: string | undefined, to: string | undefined): void {
  if (from !== undefined && to !== undefined && Date.parse(from) >= Date.parse(to)) {
    throw new ApiError('KT_ERR_API_BAD_REQUEST', '`from` must be before `to`', { invalidParams: [{ name: 'from', reason: 'must be before to' }] });
  }
}

/** The structured filter of validated query parameters (values are passed through as data, never as query text). */
export function filterOf(q: z.output<typeof recordFiltersQuery>): RecordFilter {
  checkRange(q.from, q.to);
  return {
    namespace: q.namespace,
    workload: q.workload,
    pod: q.pod,
    container: q.container,
    node: q.node,
    cause: list(q.cause),
    confidence: list(q.confidence),
    probeInduced: bool(q.probe_induced),
    duringInit: bool(q.during_init),
    from: q.from,
    to: q.to,
  };
}

function timelineScope(q: z.output<typeof timelineQuery>): TimelineScope {
  checkRange(q.from, q.to);
  const range = { ...(q.from ? { from: q.from } : {}), ...(q.to ? { to: q.to } : {}) };
  if (q.id !== undefined && q.pod === undefined && q.workload === undefined) return { kind: 'record', id: q.id };
  if (q.id === undefined && q.namespace !== undefined && q.pod !== undefined && q.workload === undefined) return { kind: 'pod', namespace: q.namespace, pod: q.pod, ...range };
  if (q.id === undefined && q.namespace !== undefined && q.workload !== undefined && q.pod === undefined) {
    return { kind: 'workload', namespace: q.namespace, workload: q.workload, ...(q.container ? { container: q.container } : {}), ...range };
  }
  throw new ApiError('KT_ERR_API_BAD_REQUEST', 'give exactly one of: id; namespace and pod; namespace and workload', {
    invalidParams: [{ name: 'id', reason: 'or namespace with pod or workload' }],
  });
}

/** The API's routes. */
export function apiRoutes(ctx: RouteContext): RouteDef[] {
  return [
    route({
      method: 'GET',
      url: '/api/v1/records',
      operationId: 'listRecords',
      summary: 'Restart records matching the filters, newest first, a page at a time (cursor pagination)',
      query: listRecordsQuery,
      response: { description: 'a page of records', content: { 'application/json': recordPageSchema } },
      handler: async ({ query }) => {
        const limit = query.limit === undefined ? Math.min(50, ctx.maxPageSize) : Number(query.limit);
        if (limit < 1 || limit > ctx.maxPageSize) {
          throw new ApiError('KT_ERR_API_BAD_REQUEST', `limit must be between 1 and ${ctx.maxPageSize}`, { invalidParams: [{ name: 'limit', reason: `1-${ctx.maxPageSize}` }] });
        }
        let after: SearchCursor | undefined;
        if (query.cursor !== undefined) {
          try {
            after = decodeCursor(query.cursor);
          } catch (error) {
            throw new ApiError('KT_ERR_API_BAD_REQUEST', (error as Error).message.replace(/^KT_ERR_ELASTIC_CURSOR: /, ''), { invalidParams: [{ name: 'cursor', reason: 'not a cursor of this API' }] });
          }
        }
        const { limit: _l, cursor: _c, ...filters } = query;
        const page = await searchRecords(ctx.elastic, { index: ctx.index, filter: filterOf(filters), size: limit, after });
        return { items: page.records, next: page.next ? encodeCursor(page.next) : null, total: page.total, total_is_lower_bound: page.totalIsLowerBound };
      },
    }),
    route({
      method: 'GET',
      url: '/api/v1/records/:id',
      operationId: 'getRecord',
      summary: 'One restart record by its id',
      params: recordParams,
      response: { description: 'the record', content: { 'application/json': restartRecordSchema } },
      handler: async ({ params }) => {
        const record = await getRecord(ctx.elastic, ctx.index, params.id);
        if (!record) throw new ApiError('KT_ERR_API_NOT_FOUND', `no restart record ${params.id}`);
        return record;
      },
    }),
    route({
      method: 'GET',
      url: '/api/v1/timeline',
      operationId: 'exportTimeline',
      summary: 'Postmortem timeline of one restart, one pod or one workload over a time range (streamed)',
      query: timelineQuery,
      expensive: true,
      response: {
        description: 'the timeline document in the requested format',
        content: { 'text/markdown': null, 'text/html': null, 'application/json': null, 'text/csv': null },
      },
      handler: async ({ query, reply }) => {
        const scope = timelineScope(query);
        const format: TimelineFormat = query.format ?? 'markdown';
        const filter = scopeFilter(scope);
        const snapshot = await RecordSnapshot.open(ctx.elastic, ctx.index);
        let total: number;
        try {
          total = await snapshot.count(filter);
        } catch (error) {
          await snapshot.close();
          throw error;
        }
        if (total === 0 && scope.kind === 'record') {
          await snapshot.close();
          throw new ApiError('KT_ERR_API_NOT_FOUND', `no restart record ${scope.id}`);
        }
        const body = new PassThrough();
        const media = timelineMedia[format];
        void streamTimeline({
          format,
          scope,
          open: () => snapshot.records(filter),
          write: async (chunk) => {
            // A client that went away closes the body: stop reading Elasticsearch instead of waiting for 'drain'.
            if (body.destroyed) throw new Error('client closed the connection');
            if (!body.write(chunk)) await Promise.race([once(body, 'drain'), once(body, 'close')]);
          },
        })
          .then(() => body.end())
          .catch((error: unknown) => {
            ctx.logger.error({ err: error, code: 'KT_ERR_API_BACKEND' }, 'timeline stream failed');
            body.destroy(error as Error);
          })
          .finally(() => void snapshot.close());
        return reply
          .type(media.type)
          .header('x-killtrace-records', String(total))
          .header('content-disposition', `inline; filename="killtrace-timeline.${media.extension}"`)
          .send(body);
      },
    }),
    route({
      method: 'GET',
      url: '/api/v1/workloads/:namespace/:workload/recommendation',
      operationId: 'workloadRecommendation',
      summary: "A workload's recommendation over its whole history: init durations, the startupProbe that avoids every observed kill, what-if",
      params: workloadParams,
      query: recommendationQuery,
      expensive: true,
      response: { description: 'per container of the workload', content: { 'application/json': recommendationSchema } },
      handler: async ({ params, query }): Promise<RecommendationBody> => {
        checkRange(query.from, query.to);
        const filter: RecordFilter = { namespace: params.namespace, workload: params.workload, container: query.container, from: query.from, to: query.to };
        const snapshot = await RecordSnapshot.open(ctx.elastic, ctx.index);
        const byContainer = new Map<string, WorkloadHistoryBuilder>();
        try {
          for await (const record of snapshot.records(filter)) {
            const name = record.kubernetes.container.name;
            const builder = byContainer.get(name) ?? new WorkloadHistoryBuilder();
            builder.add(record);
            byContainer.set(name, builder);
          }
        } finally {
          await snapshot.close();
        }
        if (byContainer.size === 0) throw new ApiError('KT_ERR_API_NOT_FOUND', `no restart records of workload ${params.namespace}/${params.workload}`);
        return {
          namespace: params.namespace,
          workload: params.workload,
          containers: [...byContainer].sort(([a], [b]) => (a < b ? -1 : 1)).map(([container, builder]) => {
            const h = builder.result();
            return {
              container,
              restarts: h.restarts,
              probe_kills: h.probeKills,
              probe_kills_during_init: h.probeKillsDuringInit,
              init_completed_seconds: h.initCompleted,
              killed_during_init_seconds: h.killedDuringInit,
              current_tolerance_seconds: h.currentToleranceSeconds,
              startup_probe: h.recommendation.startupProbe
                ? { period_seconds: h.recommendation.startupProbe.periodSeconds, failure_threshold: h.recommendation.startupProbe.failureThreshold, budget_seconds: h.recommendation.startupProbe.budgetSeconds }
                : null,
              basis: h.recommendation.basis,
              what_if: { kills_observed: h.recommendation.whatIf.killsObserved, kills_avoided: h.recommendation.whatIf.killsAvoided, text: h.recommendation.whatIf.text },
              kills_over_time: h.killsOverTime,
              init_histogram: h.initHistogram.map((b) => ({ from_seconds: b.fromSeconds, to_seconds: b.toSeconds, completed: b.completed, killed: b.killed })),
              first_at: h.firstAt,
              last_at: h.lastAt,
            };
          }),
        };
      },
    }),
  ];
}
