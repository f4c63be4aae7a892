import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createElasticClient, installIndexTemplate, writeDocuments } from '@killtrace/elastic';
import { SAVED_OBJECT_IDS, type SavedObject } from '@killtrace/kibana';
import { restartRecordId, type RestartRecord } from '@killtrace/schemas';
import { runAnalysis } from '../../services/cli/src/run-analysis.js';
import { integrationConfig, uniqueSuffix } from './helpers.js';

// The saved objects run the way Kibana runs them, against the real Elasticsearch, over the records the pipeline
// produces from the example bundles: a Lucene search becomes `query_string` inside a bool query with the data
// view's time range (and the dashboard's filters), with the data view's runtime fields as `runtime_mappings`.
// Expected results come from the records' own fields, never from the queries.

const root = fileURLToPath(new URL('../..', import.meta.url));
const objects = readFileSync(`${root}deploy/kibana/killtrace.ndjson`, 'utf8')
  .split('\n')
  .filter((line) => line.length > 0)
  .map((line) => JSON.parse(line) as SavedObject);
const dataView = objects.find((object) => object.type === 'index-pattern') as SavedObject;
const timeField = String(dataView.attributes.timeFieldName);
const runtimeMappings = JSON.parse(String(dataView.attributes.runtimeFieldMap ?? '{}')) as Record<string, { type: 'keyword' }>;

const config = integrationConfig();
const client = createElasticClient(config.elasticsearch);
const alias = `kt-it-kibana-${uniqueSuffix()}`;
let records: RestartRecord[] = [];
let timeRange: { gte: string; lte: string };

/** The workload of a record: its owner's name, ReplicaSets aside (README "Kibana"). */
function workloadOf(record: RestartRecord): string | undefined {
  const k = record.kubernetes;
  return (k.deployment ?? k.statefulset ?? k.daemonset ?? k.job)?.name;
}

const idOf = (record: RestartRecord): string => restartRecordId(record.kubernetes.pod.uid, record.kubernetes.container.name, record.killtrace.restart.count);

/** A Kibana filter as an options-list control builds it for one selected value. */
const phraseFilter = (field: string, value: string): object => ({ bool: { should: [{ match_phrase: { [field]: value } }], minimum_should_match: 1 } });

/**
 * The query Kibana sends for a Lucene query on the data view, with its time range and filters: buildQueryFromLucene
 * and decorateQuery in Kibana's packages/kbn-es-query/src/es_query (an empty query is match_all, otherwise
 * query_string with the `query:queryString:options` advanced setting, `{ analyze_wildcard: true }` by default),
 * and the time filter of the data view's time field (getTime, format strict_date_optional_time).
 */
function kibanaQuery(lucene: string, filters: object[] = []): object {
  const must = lucene.trim() === '' ? [{ match_all: {} }] : [{ query_string: { query: lucene, analyze_wildcard: true } }];
  return {
    bool: {
      must,
      filter: [{ range: { [timeField]: { ...timeRange, format: 'strict_date_optional_time' } } }, ...filters],
      should: [],
      must_not: [],
    },
  };
}

async function searchIds(lucene: string, filters: object[] = []): Promise<string[]> {
  const response = await client.search({ index: alias, size: 1000, runtime_mappings: runtimeMappings, query: kibanaQuery(lucene, filters) as never, _source: false });
  return response.hits.hits.map((hit) => hit._id as string).sort();
}

beforeAll(async () => {
  // Every example bundle (examples/truth holds their expected analyses, not a bundle).
  const examples = readdirSync(`${root}examples`, { withFileTypes: true }).filter((entry) => entry.isDirectory() && entry.name !== 'truth');
  for (const example of examples) {
    const result = await runAnalysis({ dir: `${root}examples/${example.name}` });
    expect(result.records.length, example.name).toBeGreaterThan(0);
    records.push(...result.records);
  }
  records = records.sort((a, b) => a['@timestamp'].localeCompare(b['@timestamp']));
  await installIndexTemplate(client, { alias, replicas: 0 });
  // The correlator's writer (services/correlator/src/record-sink.ts), under the records' contract ids.
  const report = await writeDocuments(client, records.map((record) => ({ id: idOf(record), document: record })), { index: alias, refresh: true });
  expect(report.failures).toEqual([]);
  const first = Date.parse(records[0]?.['@timestamp'] ?? '');
  const last = Date.parse(records[records.length - 1]?.['@timestamp'] ?? '');
  timeRange = { gte: new Date(first - 3_600_000).toISOString(), lte: new Date(last + 3_600_000).toISOString() };
});

afterAll(async () => {
  await client.indices.delete({ index: `${alias}-*`, ignore_unavailable: true }).catch(() => undefined);
  await client.indices.deleteIndexTemplate({ name: alias }).catch(() => undefined);
  await client.cluster.deleteComponentTemplate({ name: `${alias}-mappings` }).catch(() => undefined);
  await client.close();
});

const expectedBySearch: Record<string, (record: RestartRecord) => boolean> = {
  [SAVED_OBJECT_IDS.searches.probeInducedKills]: (r) => r.killtrace.probe_induced,
  [SAVED_OBJECT_IDS.searches.killsDuringInit]: (r) => r.killtrace.during_init,
  [SAVED_OBJECT_IDS.searches.workloadRestarts]: (r) => workloadOf(r) !== undefined,
  [SAVED_OBJECT_IDS.searches.attributionsToReview]: (r) => r.killtrace.confidence !== 'high' || r.killtrace.cause === 'unknown',
  [SAVED_OBJECT_IDS.searches.probeTimeouts]: (r) => /deadline exceeded|timed out/i.test(r.killtrace.probe?.last_failure_message ?? ''),
  [SAVED_OBJECT_IDS.searches.oomKills]: (r) => r.killtrace.cause === 'oom_killed',
  [SAVED_OBJECT_IDS.searches.evictions]: (r) => r.killtrace.cause === 'evicted',
};

const searches = objects.filter((object) => object.type === 'search');

describe('Kibana saved searches against the real Elasticsearch', () => {
  it('has records of every kind the searches look for in the example bundles', () => {
    expect(records.length).toBeGreaterThanOrEqual(11);
    for (const [id, predicate] of Object.entries(expectedBySearch)) expect(records.filter(predicate).length, id).toBeGreaterThan(0);
    expect(Object.keys(expectedBySearch).sort()).toEqual(searches.map((search) => search.id).sort());
  });

  for (const search of searches) {
    it(`"${String(search.attributes.title)}" returns exactly the expected records`, async () => {
      const source = JSON.parse((search.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string }).searchSourceJSON) as {
        query: { query: string; language: string };
        filter: object[];
      };
      expect(source.query.language).toBe('lucene');
      const predicate = expectedBySearch[search.id];
      expect(predicate, search.id).toBeDefined();
      const expected = records.filter((record) => predicate?.(record) === true).map(idOf).sort();
      expect(await searchIds(source.query.query, source.filter)).toEqual(expected);
    });
  }

  it("narrows \"a workload's restarts\" to one workload when the dashboard's Workload control selects it", async () => {
    const search = searches.find((object) => object.id === SAVED_OBJECT_IDS.searches.workloadRestarts) as SavedObject;
    const source = JSON.parse((search.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string }).searchSourceJSON) as { query: { query: string } };
    const workloads = [...new Set(records.map(workloadOf))].sort();
    expect(workloads).toEqual(expect.arrayContaining(['default-host', 'inventory', 'orders', 'report-builder']));
    for (const workload of workloads as string[]) {
      const expected = records.filter((record) => workloadOf(record) === workload).map(idOf).sort();
      expect(await searchIds(source.query.query, [phraseFilter('killtrace.workload', workload)]), workload).toEqual(expected);
    }
  });

  it("offers in each dashboard control exactly the values the records have, and each selection filters to those records", async () => {
    const dashboard = objects.find((object) => object.type === 'dashboard') as SavedObject;
    const controls = Object.values(
      JSON.parse((dashboard.attributes.controlGroupInput as { panelsJSON: string }).panelsJSON) as Record<string, { explicitInput: { fieldName: string } }>,
    ).map((control) => control.explicitInput.fieldName);
    expect(controls).toEqual(['kubernetes.namespace', 'killtrace.workload', 'killtrace.cause']);
    const valueOf: Record<string, (record: RestartRecord) => string | undefined> = {
      'kubernetes.namespace': (r) => r.kubernetes.namespace,
      'killtrace.workload': workloadOf,
      'killtrace.cause': (r) => r.killtrace.cause,
    };
    const search = searches.find((object) => object.id === SAVED_OBJECT_IDS.searches.workloadRestarts) as SavedObject;
    const source = JSON.parse((search.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string }).searchSourceJSON) as { query: { query: string } };
    for (const field of controls) {
      const value = valueOf[field] as (record: RestartRecord) => string | undefined;
      // An options list asks for its suggestions with a terms aggregation on the field, under the time range.
      const response = await client.search({ index: alias, size: 0, query: kibanaQuery('') as never, aggs: { suggestions: { terms: { field, size: 100 } } } });
      const offered = (response.aggregations?.suggestions as { buckets: { key: string; doc_count: number }[] }).buckets.map((b) => [b.key, b.doc_count]);
      const counts = [...countBy(records.filter((r) => value(r) !== undefined), (r) => value(r) as string)].map(([key, group]) => [key, group.length]);
      expect(offered.sort(), field).toEqual(counts.sort());
      for (const [option] of counts) {
        const expected = records.filter((r) => value(r) === option && workloadOf(r) !== undefined).map(idOf).sort();
        expect(await searchIds(source.query.query, [phraseFilter(field, option as string)]), `${field}=${String(option)}`).toEqual(expected);
      }
    }
  });

  it('honours the time range the way Kibana applies it: records outside it are not returned', async () => {
    const search = searches.find((object) => object.id === SAVED_OBJECT_IDS.searches.probeInducedKills) as SavedObject;
    const source = JSON.parse((search.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string }).searchSourceJSON) as { query: { query: string } };
    const saved = timeRange;
    const cut = records.find((record) => record.killtrace.probe_induced)?.['@timestamp'] as string;
    timeRange = { gte: new Date(Date.parse(cut) + 1).toISOString(), lte: saved.lte };
    try {
      const expected = records.filter((record) => record.killtrace.probe_induced && record['@timestamp'] > cut).map(idOf).sort();
      const all = records.filter((record) => record.killtrace.probe_induced).length;
      expect(expected.length).toBe(all - 1);
      expect(await searchIds(source.query.query)).toEqual(expected);
    } finally {
      timeRange = saved;
    }
  });
});

// Lens columns as Elasticsearch aggregations, the way Lens's form-based datasource turns them into esaggs.
interface Column {
  operationType: string;
  sourceField: string;
  params?: { size?: number; orderBy?: { type: string; columnId?: string }; missingBucket?: boolean };
  filter?: { query: string; language: string };
}
interface LensState {
  query: { query: string; language: string };
  datasourceStates: { formBased: { layers: Record<string, { columns: Record<string, Column>; columnOrder: string[] }> } };
}

const MISSING = '__missing__';
/** Lens picks the date histogram interval from the time range; the test fixes it, and buckets the records alike. */
const INTERVAL_MS = 5 * 60_000;

function metricAgg(column: Column): object | undefined {
  if (column.operationType === 'count') {
    return column.filter === undefined ? undefined : { filter: { query_string: { query: column.filter.query, analyze_wildcard: true } } };
  }
  const agg = { [column.operationType]: { field: column.sourceField } };
  return column.filter === undefined ? agg : { filter: { query_string: { query: column.filter.query, analyze_wildcard: true } }, aggs: { value: agg } };
}

function lensAggs(layer: { columns: Record<string, Column>; columnOrder: string[] }): { aggs: Record<string, object>; buckets: string[]; metrics: string[] } {
  const buckets = layer.columnOrder.filter((id) => ['terms', 'date_histogram'].includes(layer.columns[id]?.operationType ?? ''));
  const metrics = layer.columnOrder.filter((id) => !buckets.includes(id));
  let inner: Record<string, object> = {};
  for (const id of metrics) {
    const agg = metricAgg(layer.columns[id] as Column);
    if (agg !== undefined) inner[id] = agg;
  }
  for (const id of [...buckets].reverse()) {
    const column = layer.columns[id] as Column;
    const sub = Object.keys(inner).length > 0 ? { aggs: inner } : {};
    if (column.operationType === 'date_histogram') {
      inner = { [id]: { date_histogram: { field: column.sourceField, fixed_interval: `${INTERVAL_MS / 60_000}m`, min_doc_count: 1 }, ...sub } };
    } else {
      const orderColumn = layer.columns[column.params?.orderBy?.columnId ?? ''];
      // Ordering by an unfiltered count column is Elasticsearch's own _count order.
      expect(orderColumn?.operationType).toBe('count');
      expect(orderColumn?.filter).toBeUndefined();
      inner = {
        [id]: {
          terms: { field: column.sourceField, size: column.params?.size ?? 10, order: [{ _count: 'desc' }, { _key: 'asc' }], ...(column.params?.missingBucket ? { missing: MISSING } : {}) },
          ...sub,
        },
      };
    }
  }
  return { aggs: inner, buckets, metrics };
}

type Row = Record<string, string | number | null>;

function flatten(aggregations: Record<string, unknown>, layer: { columns: Record<string, Column> }, buckets: string[], metrics: string[]): Row[] {
  const rows: Row[] = [];
  const walk = (node: Record<string, unknown>, depth: number, row: Row): void => {
    if (depth === buckets.length) {
      const out: Row = { ...row };
      for (const id of metrics) {
        const column = layer.columns[id] as Column;
        const agg = node[id] as { value?: number | null; doc_count?: number; value_agg?: unknown } | undefined;
        if (column.operationType === 'count') out[id] = column.filter === undefined ? (node.doc_count as number) : (agg?.doc_count ?? 0);
        else out[id] = column.filter === undefined ? (agg?.value ?? null) : ((agg as { value?: { value: number | null } })?.value?.value ?? null);
      }
      rows.push(out);
      return;
    }
    const id = buckets[depth] as string;
    const group = node[id] as { buckets: Record<string, unknown>[] };
    for (const bucket of group.buckets) {
      const key = layer.columns[id]?.operationType === 'date_histogram' ? new Date(bucket.key as number).toISOString() : String(bucket.key);
      walk(bucket, depth + 1, { ...row, [id]: key });
    }
  };
  walk(aggregations, 0, {});
  return rows;
}

const sortRows = (rows: Row[]): Row[] => [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
const bucketStart = (timestamp: string): string => new Date(Math.floor(Date.parse(timestamp) / INTERVAL_MS) * INTERVAL_MS).toISOString();

function countBy(items: RestartRecord[], key: (record: RestartRecord) => string): Map<string, RestartRecord[]> {
  const groups = new Map<string, RestartRecord[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

const maxOf = (values: (number | undefined | null)[]): number | null => {
  const present = values.filter((value): value is number => typeof value === 'number');
  return present.length === 0 ? null : present.reduce((a, b) => (b > a ? b : a));
};

const expectedByLens: Record<string, () => Row[]> = {
  [SAVED_OBJECT_IDS.lens.restartsOverTime]: () =>
    [...countBy(records, (r) => `${r.killtrace.cause}|${bucketStart(r['@timestamp'])}`)].map(([key, group]) => {
      const [cause, time] = key.split('|');
      return { cause: cause as string, time: time as string, restarts: group.length };
    }),
  [SAVED_OBJECT_IDS.lens.topWorkloadsProbeKills]: () =>
    [...countBy(records.filter((r) => r.killtrace.probe_induced), (r) => workloadOf(r) ?? MISSING)].map(([workload, group]) => ({ workload, kills: group.length })),
  [SAVED_OBJECT_IDS.lens.initStepAtKill]: () =>
    [...countBy(records.filter((r) => r.killtrace.during_init), (r) => r.killtrace.init?.step ?? MISSING)].map(([step, group]) => ({ step, kills: group.length })),
  [SAVED_OBJECT_IDS.lens.uptimeVsBudget]: () =>
    [...countBy(records.filter((r) => r.killtrace.probe_induced), (r) => workloadOf(r) ?? MISSING)].map(([workload, group]) => ({
      workload,
      kills: group.length,
      duringInit: group.filter((r) => r.killtrace.during_init).length,
      longestUptime: maxOf(group.map((r) => r.killtrace.uptime_seconds)),
      budget: maxOf(group.map((r) => r.killtrace.probe?.budget_seconds)),
      stepElapsed: maxOf(group.map((r) => r.killtrace.init?.step_elapsed_seconds)),
      expectedInit: maxOf(group.map((r) => r.killtrace.init?.expected_seconds)),
    })),
  [SAVED_OBJECT_IDS.lens.nodesMostKills]: () => [...countBy(records, (r) => r.kubernetes.node.name ?? MISSING)].map(([node, group]) => ({ node, kills: group.length })),
};

describe('Kibana Lens visualizations as Elasticsearch aggregations on the same records', () => {
  const visualizations = objects.filter((object) => object.type === 'lens');

  it('has an expectation for every visualization', () => {
    expect(Object.keys(expectedByLens).sort()).toEqual(visualizations.map((object) => object.id).sort());
  });

  for (const visualization of visualizations) {
    it(`"${String(visualization.attributes.title)}" returns the expected buckets`, async () => {
      const state = visualization.attributes.state as LensState;
      expect(state.query.language).toBe('lucene');
      const [layer] = Object.values(state.datasourceStates.formBased.layers);
      if (layer === undefined) throw new Error(`${visualization.id} has no layer`);
      const { aggs, buckets, metrics } = lensAggs(layer);
      const response = await client.search({ index: alias, size: 0, runtime_mappings: runtimeMappings, query: kibanaQuery(state.query.query) as never, aggs: aggs as never });
      const rows = flatten(response.aggregations as Record<string, unknown>, layer, buckets, metrics);
      const expected = expectedByLens[visualization.id]?.() ?? [];
      expect(expected.length, visualization.id).toBeGreaterThan(0);
      expect(sortRows(rows)).toEqual(sortRows(expected));
      // Terms buckets come biggest first, as the chart draws them.
      const firstMetric = metrics[0] as string;
      if (buckets.length === 1) {
        const counts = rows.map((row) => row[firstMetric] as number);
        expect(counts).toEqual([...counts].sort((a, b) => b - a));
      }
    });
  }

  it('shows what the host agent story needs: every liveness kill came before init could finish', async () => {
    const expected = expectedByLens[SAVED_OBJECT_IDS.lens.uptimeVsBudget]?.() ?? [];
    const host = expected.find((row) => row.workload === 'default-host');
    expect(host?.kills).toBe(7);
    expect(host?.duringInit).toBe(7);
    expect(host?.longestUptime).toBeLessThan(60);
    expect(host?.budget).toBe(15);
    expect(host?.stepElapsed).toBe(38.319);
  });
});
