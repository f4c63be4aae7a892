import { loadConfig } from '@killtrace/config';
import { createLogger } from '@killtrace/logging';
import { startApi } from '../../services/api/src/index.js';
import { createElasticClient, searchRecords, type ElasticClient, type RecordFilter } from '@killtrace/elastic';
import { renderTimeline, type TimelineFormat } from '@killtrace/render';
import type { RestartRecord } from '@killtrace/schemas';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TOKEN } from './api-harness.js';
import { dropRecords, exampleRecords, seedRecords } from './example-records.js';
import { integrationConfig, uniqueSuffix } from './helpers.js';

// The read-only API against the real Elasticsearch, over the example bundles' records written with the
// correlator's bulk writer (test/integration/example-records.ts).

const alias = `kt-api-${uniqueSuffix()}`;
let elastic: ElasticClient;
let api: { app: FastifyInstance; url: string };
let records: RestartRecord[];

const auth = { authorization: `Bearer ${TOKEN}` };
async function get(path: string, headers: Record<string, string> = auth): Promise<{ status: number; type: string; body: string; headers: Headers }> {
  const response = await fetch(`${api.url}${path}`, { headers });
  return { status: response.status, type: response.headers.get('content-type') ?? '', body: await response.text(), headers: response.headers };
}
async function getJson<T = Record<string, unknown>>(path: string): Promise<{ status: number; json: T; type: string }> {
  const r = await get(path);
  return { status: r.status, json: JSON.parse(r.body) as T, type: r.type };
}

interface Page {
  items: Array<{ id: string; record: RestartRecord }>;
  next: string | null;
  total: number;
}

const count = (predicate: (r: RestartRecord) => boolean): number => records.filter(predicate).length;

beforeAll(async () => {
  elastic = createElasticClient(integrationConfig().elasticsearch);
  records = await exampleRecords();
  await seedRecords(elastic, alias, records);
  api = await startTestApi(alias, { elastic });
});

afterAll(async () => {
  await api?.app.close();
  await dropRecords(elastic, alias);
  await elastic?.close();
});

describe('authentication', () => {
  it('refuses requests without a token or with an unknown one, as problem details', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer not-a-token-of-ours-xx' }, { authorization: `Basic ${TOKEN}` }, { authorization: `Bearer ${TOKEN}x` }]) {
      const r = await get('/api/v1/records', headers);
      expect(r.status).toBe(401);
      expect(r.type).toContain('application/problem+json');
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="killtrace"');
      expect(JSON.parse(r.body)).toMatchObject({ type: 'urn:killtrace:problem:unauthorized', status: 401, code: 'KT_ERR_API_UNAUTHORIZED', instance: '/api/v1/records' });
    }
    expect((await get('/api/v1/records', { authorization: 'Bearer second-token-abcdefghijklmnop' })).status).toBe(200);
  });

  it('serves the OpenAPI document and the page without a token', async () => {
    const r = await get('/api/v1/openapi.json', {});
    expect(r.status).toBe(200);
    const doc = JSON.parse(r.body) as { openapi: string; paths: Record<string, { get: { parameters: Array<{ name: string }> } }> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(['/api/v1/records', '/api/v1/records/{id}', '/api/v1/timeline', '/api/v1/workloads/{namespace}/{workload}/recommendation']);
    expect(doc.paths['/api/v1/records']?.get.parameters.map((p) => p.name)).toEqual([
      'namespace', 'workload', 'pod', 'container', 'node', 'cause', 'confidence', 'probe_induced', 'during_init', 'from', 'to', 'limit', 'cursor',
    ]);
    const page = await get('/ui/', {});
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
  });
});

describe('records', () => {
  it('filters by every field, structurally', async () => {
    const cases: Array<[string, number]> = [
      ['namespace=onecloud', count((r) => r.kubernetes.namespace === 'onecloud')],
      ['workload=orders', count((r) => r.kubernetes.deployment?.name === 'orders')],
      ['workload=orders-6d5c4b3a2', count((r) => r.kubernetes.replicaset?.name === 'orders-6d5c4b3a2')],
      ['pod=default-host-x7k2p', count((r) => r.kubernetes.pod.name === 'default-host-x7k2p')],
      ['container=inventory', count((r) => r.kubernetes.container.name === 'inventory')],
      ['node=worker-4', count((r) => r.kubernetes.node.name === 'worker-4')],
      ['cause=oom_killed&cause=evicted', count((r) => ['oom_killed', 'evicted'].includes(r.killtrace.cause))],
      ['confidence=medium', count((r) => r.killtrace.confidence === 'medium')],
      ['probe_induced=true', count((r) => r.killtrace.probe_induced)],
      ['probe_induced=false', count((r) => !r.killtrace.probe_induced)],
      ['during_init=false', count((r) => !r.killtrace.during_init)],
      ['from=2026-10-02T06:32:00Z&to=2026-10-02T06:36:00Z', count((r) => r['@timestamp'] >= '2026-10-02T06:32:00' && r['@timestamp'] < '2026-10-02T06:36:00')],
      ['namespace=shop&cause=app_exit&node=worker-4', count((r) => r.kubernetes.namespace === 'shop' && r.killtrace.cause === 'app_exit' && r.kubernetes.node.name === 'worker-4')],
    ];
    for (const [query, expected] of cases) {
      const { status, json } = await getJson<Page>(`/api/v1/records?${query}&limit=200`);
      expect(status, query).toBe(200);
      expect(json.total, query).toBe(expected);
      expect(json.items.length, query).toBe(expected);
      expect(expected, `${query} must select something`).toBeGreaterThan(0);
    }
  });

  it('rejects an injection attempt through every filter with a 400 naming the parameter', async () => {
    const payloads = ['onecloud OR shop', '*', 'onecloud" OR "1"="1', '{"match_all":{}}', 'onecloud\\', "x'); DROP", '../../_search', 'a'.repeat(300)];
    const filters = ['namespace', 'workload', 'pod', 'container', 'node', 'cause', 'confidence', 'probe_induced', 'during_init', 'from', 'to', 'limit', 'cursor'];
    for (const name of filters) {
      for (const payload of payloads) {
        const r = await get(`/api/v1/records?${name}=${encodeURIComponent(payload)}`);
        expect(r.status, `${name}=${payload}`).toBe(400);
        const problem = JSON.parse(r.body) as { code: string; invalid_params: Array<{ name: string }> };
        expect(problem.code).toBe('KT_ERR_API_BAD_REQUEST');
        expect(problem.invalid_params.map((p) => p.name)).toContain(name);
      }
    }
    // Unknown parameters are refused too (a typo must not silently widen the result).
    expect((await get('/api/v1/records?namspace=onecloud')).status).toBe(400);
  });

  it('passes filter values to Elasticsearch as data: no value can widen the query', async () => {
    const fields: Array<keyof RecordFilter> = ['namespace', 'workload', 'pod', 'container', 'node'];
    for (const field of fields) {
      for (const payload of ['*', 'onecloud OR shop', 'onecloud" OR "1"="1', '{"match_all":{}}', 'shop*', '(onecloud)']) {
        const page = await searchRecords(elastic, { index: alias, filter: { [field]: payload }, size: 50 });
        expect(page.total, `${field}=${payload}`).toBe(0);
      }
    }
    for (const payload of ['*', 'liveness_probe OR oom_killed']) {
      expect((await searchRecords(elastic, { index: alias, filter: { cause: [payload] }, size: 50 })).total).toBe(0);
      expect((await searchRecords(elastic, { index: alias, filter: { confidence: [payload] }, size: 50 })).total).toBe(0);
    }
  });

  it('pages with search_after cursors through every record exactly once, newest first', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: { status: number; json: Page } = await getJson<Page>(`/api/v1/records?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      seen.push(...r.json.items.map((i) => i.id));
      cursor = r.json.next;
      pages += 1;
    } while (cursor !== null);
    expect(pages).toBe(Math.ceil(records.length / 3));
    expect(new Set(seen).size).toBe(records.length);
    const times = seen.map((id) => records.find((r) => `${r.kubernetes.pod.uid}:${r.kubernetes.container.name}:${r.killtrace.restart.count}` === id)?.['@timestamp'] ?? '');
    expect([...times].sort().reverse()).toEqual(times);
    const bad = await getJson<{ invalid_params: Array<{ name: string }> }>('/api/v1/records?cursor=WzEsMl0');
    expect(bad.status).toBe(400);
    expect(bad.json.invalid_params[0]?.name).toBe('cursor');
    expect((await get('/api/v1/records?limit=0')).status).toBe(400);
    expect((await get('/api/v1/records?limit=201')).status).toBe(400);
  });

  it('gets one record by id, and 404s an unknown one', async () => {
    const id = 'fd886e36-4a19-4d16-a666-e71cf7582046:host:5';
    const { status, json } = await getJson<RestartRecord>(`/api/v1/records/${encodeURIComponent(id)}`);
    expect(status).toBe(200);
    expect(json.killtrace.init.step).toBe('gpu-vfio-bind');
    const missing = await getJson(`/api/v1/records/${encodeURIComponent('fd886e36-4a19-4d16-a666-e71cf7582046:host:99')}`);
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ code: 'KT_ERR_API_NOT_FOUND', status: 404 });
    expect((await get('/api/v1/records/not%20an%20id')).status).toBe(400);
    const route = await getJson('/api/v1/nothing-here');
    expect(route.status).toBe(404);
    expect(route.type).toContain('application/problem+json');
  });
});

describe('timeline export', () => {
  it('is the same document the bundle export writes, in every format', async () => {
    const scope = { kind: 'workload', namespace: 'onecloud', workload: 'default-host' } as const;
    const host = records.filter((r) => r.kubernetes.namespace === 'onecloud');
    const types: Record<TimelineFormat, string> = { markdown: 'text/markdown', html: 'text/html', json: 'application/json', csv: 'text/csv' };
    for (const format of ['markdown', 'html', 'json', 'csv'] as const) {
      const r = await get(`/api/v1/timeline?namespace=onecloud&workload=default-host&format=${format}`);
      expect(r.status).toBe(200);
      expect(r.type).toContain(types[format]);
      expect(r.headers.get('x-killtrace-records')).toBe('7');
      expect(r.body).toBe(renderTimeline(format, scope, host));
    }
    const one = await get('/api/v1/timeline?id=fd886e36-4a19-4d16-a666-e71cf7582046:host:6');
    expect(one.body).toContain('## Root cause');
    expect(one.body).toContain('failureThreshold: 60');
    const pod = await get('/api/v1/timeline?namespace=shop&pod=orders-6d5c4b3a2-n4f7d&format=csv');
    const entries = records.filter((r) => r.kubernetes.pod.name === 'orders-6d5c4b3a2-n4f7d').reduce((n, r) => n + r.killtrace.timeline.length, 0);
    expect(pod.body.trim().split('\r\n').length).toBe(1 + entries);
  });

  it('asks for exactly one scope and 404s an unknown record', async () => {
    expect((await get('/api/v1/timeline')).status).toBe(400);
    expect((await get('/api/v1/timeline?namespace=onecloud')).status).toBe(400);
    expect((await get('/api/v1/timeline?namespace=onecloud&pod=a&workload=b')).status).toBe(400);
    expect((await get('/api/v1/timeline?namespace=onecloud&workload=default-host&from=2026-10-03T00:00:00Z&to=2026-10-02T00:00:00Z')).status).toBe(400);
    expect((await get('/api/v1/timeline?namespace=onecloud&workload=default-host&format=pdf')).status).toBe(400);
    expect((await get('/api/v1/timeline?id=nope:host:1')).status).toBe(404);
  });
});

describe('workload recommendation', () => {
  it('aggregates the whole history: init durations, the startupProbe, what-if', async () => {
    const { status, json } = await getJson<{ containers: Array<Record<string, unknown>> }>('/api/v1/workloads/onecloud/default-host/recommendation');
    expect(status).toBe(200);
    expect(json.containers).toHaveLength(1);
    const c = json.containers[0] as {
      container: string;
      restarts: number;
      startup_probe: { period_seconds: number; failure_threshold: number };
      what_if: { kills_observed: number; kills_avoided: number };
      killed_during_init_seconds: { count: number; max: number };
      current_tolerance_seconds: number;
      kills_over_time: Array<{ kills: number }>;
    };
    expect(c.container).toBe('host');
    expect(c.restarts).toBe(7);
    expect(c.startup_probe).toEqual({ period_seconds: 5, failure_threshold: 60, budget_seconds: 300 });
    expect(c.what_if).toMatchObject({ kills_observed: 7, kills_avoided: 7 });
    expect(c.killed_during_init_seconds.count).toBe(7);
    expect(c.current_tolerance_seconds).toBe(45);
    expect(c.kills_over_time.reduce((n, b) => n + b.kills, 0)).toBe(7);
    expect((await get('/api/v1/workloads/onecloud/no-such-thing/recommendation')).status).toBe(404);
    expect((await get('/api/v1/workloads/One%20Cloud/x/recommendation')).status).toBe(400);
  });
});

describe('the service', () => {
  it('starts from configuration on 127.0.0.1 and serves the records', async () => {
    const config = loadConfig({
      env: { KILLTRACE_CLUSTER_NAME: 'integration', ELASTICSEARCH_URL: integrationConfig().elasticsearch.url, KILLTRACE_API_PORT: '0', KILLTRACE_API_TOKENS: TOKEN, KILLTRACE_ELASTICSEARCH_INDEX_PREFIX: alias },
    });
    const running = await startApi(config, createLogger({ name: 'api-it', level: 'silent' }));
    try {
      expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const r = await fetch(`${running.url}/api/v1/records?limit=1`, { headers: auth });
      expect(((await r.json()) as Page).total).toBe(records.length);
    } finally {
      await running.close();
    }
  });
});

describe('rate limits and failures', () => {
  it('limits the expensive routes per token with 429 and Retry-After, and leaves the cheap ones alone', async () => {
    const limited = await startTestApi(alias, { rateLimitPerMinute: 2 });
    try {
      // Bodies are read so the streamed responses complete before the server closes.
      const call = async (path: string, token = TOKEN) => {
        const r = await fetch(`${limited.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
        const body = await r.text();
        return { status: r.status, headers: r.headers, json: () => JSON.parse(body) as unknown };
      };
      expect((await call('/api/v1/timeline?id=fd886e36-4a19-4d16-a666-e71cf7582046:host:6')).status).toBe(200);
      expect((await call('/api/v1/workloads/onecloud/default-host/recommendation')).status).toBe(200);
      const third = await call('/api/v1/timeline?id=fd886e36-4a19-4d16-a666-e71cf7582046:host:6');
      expect(third.status).toBe(429);
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(third.json()).toMatchObject({ code: 'KT_ERR_API_RATE_LIMITED', status: 429 });
      expect((await call('/api/v1/records')).status).toBe(200);
      expect((await call('/api/v1/timeline?id=fd886e36-4a19-4d16-a666-e71cf7582046:host:6', 'second-token-abcdefghijklmnop')).status).toBe(200);
    } finally {
      await limited.app.close();
      await limited.elastic.close();
    }
  });

  it('answers 503 problem details when Elasticsearch is unreachable', async () => {
    const down = await startTestApi(alias, { elastic: createElasticClient({ ...integrationConfig().elasticsearch, url: 'http://127.0.0.1:9' }, { maxRetries: 0 }) });
    try {
      const r = await fetch(`${down.url}/api/v1/records`, { headers: auth });
      expect(r.status).toBe(503);
      expect(await r.json()).toMatchObject({ code: 'KT_ERR_API_BACKEND', status: 503 });
    } finally {
      await down.app.close();
      await down.elastic.close();
    }
  });
});
