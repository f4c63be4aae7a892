import type { estypes } from '@elastic/elasticsearch';

/**
 * Filters over restart records, turned into a structured bool query: every user value goes into a `term`,
 * `terms` or `range` clause as data, never into query text (no `query_string`, no scripts), so no input can
 * change the query's shape.
 */
export interface RecordFilter {
  namespace?: string;
  pod?: string;
  /** The owning workload's name: DaemonSet, Deployment, StatefulSet, ReplicaSet or Job. */
  workload?: string;
  container?: string;
  node?: string;
  cause?: readonly string[];
  confidence?: readonly string[];
  probeInduced?: boolean;
  duringInit?: boolean;
  /** ISO-8601 bounds on `@timestamp`: `from` inclusive, `to` exclusive. */
  from?: string;
  to?: string;
  /** Document ids (`<pod uid>:<container>:<restart count>`). */
  ids?: readonly string[];
}

const WORKLOAD_FIELDS = ['kubernetes.daemonset.name', 'kubernetes.deployment.name', 'kubernetes.statefulset.name', 'kubernetes.replicaset.name', 'kubernetes.job.name'];

const term = (field: string, value: string | boolean): estypes.QueryDslQueryContainer => ({ term: { [field]: { value } } });

/** The bool query of a filter (match_all when empty). */
export function recordQuery(filter: RecordFilter): estypes.QueryDslQueryContainer {
  const clauses: estypes.QueryDslQueryContainer[] = [];
  if (filter.namespace !== undefined) clauses.push(term('kubernetes.namespace', filter.namespace));
  if (filter.pod !== undefined) clauses.push(term('kubernetes.pod.name', filter.pod));
  if (filter.container !== undefined) clauses.push(term('kubernetes.container.name', filter.container));
  if (filter.node !== undefined) clauses.push(term('kubernetes.node.name', filter.node));
  if (filter.workload !== undefined) {
    const name = filter.workload;
    clauses.push({ bool: { should: WORKLOAD_FIELDS.map((field) => term(field, name)), minimum_should_match: 1 } });
  }
  if (filter.cause !== undefined && filter.cause.length > 0) clauses.push({ terms: { 'killtrace.cause': [...filter.cause] } });
  if (filter.confidence !== undefined && filter.confidence.length > 0) clauses.push({ terms: { 'killtrace.confidence': [...filter.confidence] } });
  if (filter.probeInduced !== undefined) clauses.push(term('killtrace.probe_induced', filter.probeInduced));
  if (filter.duringInit !== undefined) clauses.push(term('killtrace.during_init', filter.duringInit));
  if (filter.from !== undefined || filter.to !== undefined) {
    const range: estypes.QueryDslDateRangeQuery = { format: 'strict_date_optional_time' };
    if (filter.from !== undefined) range.gte = filter.from;
    if (filter.to !== undefined) range.lt = filter.to;
    clauses.push({ range: { '@timestamp': range } });
  }
  if (filter.ids !== undefined) clauses.push({ ids: { values: [...filter.ids] } });
  return clauses.length === 0 ? { match_all: {} } : { bool: { filter: clauses } };
}

export type SortOrder = 'asc' | 'desc';

/**
 * The total order of records for pagination: `@timestamp`, then pod uid, container and restart count (a record's
 * identity, so no two documents tie); the same order `compareRecords` in libs/render uses.
 */
export function recordSort(order: SortOrder): estypes.SortCombinations[] {
  return [
    { '@timestamp': { order, format: 'strict_date_optional_time_nanos' } },
    { 'kubernetes.pod.uid': { order } },
    { 'kubernetes.container.name': { order } },
    { 'killtrace.restart.count': { order } },
  ];
}
