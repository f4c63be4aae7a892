import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@killtrace/config';
import { createElasticClient, recordQuery } from '@killtrace/elastic';
import { createLogger } from '@killtrace/logging';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { bearerToken, loadTokens, TokenSet } from './auth.js';
import { apiErrorCodes } from './errors.js';
import { RateLimiter } from './rate-limit.js';
import { elasticReadiness } from './readiness.js';
import { filterOf } from './routes.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const config = (env: Record<string, string> = {}) => loadConfig({ env: { KILLTRACE_CLUSTER_NAME: 'c', ...env } }).api;

describe('tokens', () => {
  it('matches known tokens only, whatever their length', () => {
    const set = new TokenSet(['first-token-0123456789', 'second-token-0123456789']);
    expect(set.match('second-token-0123456789')).toBe(1);
    expect(set.match('first-token-012345678')).toBe(-1);
    expect(set.match('first-token-0123456789-and-more')).toBe(-1);
    expect(set.match('')).toBe(-1);
  });

  it('reads bearer headers strictly', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer   abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it('loads tokens from the configuration and a file, and refuses none at all', () => {
    const dir = mkdtempSync(join(tmpdir(), 'killtrace-api-'));
    dirs.push(dir);
    const file = join(dir, 'tokens');
    writeFileSync(file, '# ops team\nfile-token-0123456789\n\n');
    expect(loadTokens(config({ KILLTRACE_API_TOKENS: 'env-token-0123456789', KILLTRACE_API_TOKENS_FILE: file })).size).toBe(2);
    expect(() => loadTokens(config())).toThrow(/KILLTRACE_API_TOKENS/);
    writeFileSync(file, 'file-token-0123456789\nshort\n');
    expect(() => loadTokens(config({ KILLTRACE_API_TOKENS_FILE: file }))).toThrow(/line 2: tokens must be at least 16 characters/);
    expect(() => loadTokens(config({ KILLTRACE_API_TOKENS_FILE: join(dir, 'missing') }))).toThrow(/cannot read api.tokensFile/);
    expect(() => config({ KILLTRACE_API_TOKENS: 'short' })).toThrow(/api.tokens/);
  });

  it('listens on loopback by default', () => {
    expect(config()).toMatchObject({ host: '127.0.0.1', port: 9480, rateLimitPerMinute: 60, maxPageSize: 200 });
  });
});

describe('RateLimiter', () => {
  it('allows the limit per key and window, then says how long to wait', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(2, 60_000, () => now);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('b')).toBe(0);
    now += 15_000;
    expect(limiter.take('a')).toBe(45);
    now += 45_000;
    expect(limiter.take('a')).toBe(0);
  });
});

describe('filters', () => {
  it('become term, terms and range clauses with the values as data', () => {
    const query = recordQuery(filterOf({ namespace: 'onecloud', cause: ['liveness_probe', 'startup_probe'], probe_induced: 'true', from: '2026-10-02T00:00:00Z' }));
    expect(query).toEqual({
      bool: {
        filter: [
          { term: { 'kubernetes.namespace': { value: 'onecloud' } } },
          { terms: { 'killtrace.cause': ['liveness_probe', 'startup_probe'] } },
          { term: { 'killtrace.probe_induced': { value: true } } },
          { range: { '@timestamp': { format: 'strict_date_optional_time', gte: '2026-10-02T00:00:00Z' } } },
        ],
      },
    });
    expect(JSON.stringify(recordQuery({ namespace: 'a" OR "b', workload: '*' }))).not.toMatch(/query_string|wildcard|script|"match"|"prefix"|"regexp"/);
  });
});

describe('the app without Elasticsearch', () => {
  it('documents every route and error code', async () => {
    const app = await buildApp({
      elastic: createElasticClient(loadConfig({ env: { KILLTRACE_CLUSTER_NAME: 'c', ELASTICSEARCH_URL: 'http://127.0.0.1:9' } }).elasticsearch),
      index: 'x',
      tokens: new TokenSet(['unit-token-0123456789']),
      rateLimitPerMinute: 10,
      maxPageSize: 100,
      logger: createLogger({ name: 't', level: 'silent' }),
    });
    const doc = (await app.inject({ url: '/api/v1/openapi.json' })).json<{ paths: Record<string, { get: { responses: Record<string, unknown>; security?: unknown[] } }> }>();
    expect(Object.keys(doc.paths['/api/v1/timeline']?.get.responses ?? {})).toEqual(['200', '400', '401', '429', '503']);
    const denied = await app.inject({ url: '/api/v1/records/abc:def:1' });
    expect(denied.statusCode).toBe(401);
    expect(denied.headers['content-type']).toContain('application/problem+json');
    const page = await app.inject({ url: '/ui/app.js' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/javascript');
    expect((await app.inject({ url: '/' })).headers.location).toBe('/ui/');
    await app.close();
    for (const code of Object.keys(apiErrorCodes)) expect(code).toMatch(/^KT_ERR_API_[A-Z_]+$/);
  });

  it('is alive (/healthz) but not ready (/readyz names Elasticsearch), both without a token, for the kubelet\'s probes', async () => {
    const elastic = createElasticClient(loadConfig({ env: { KILLTRACE_CLUSTER_NAME: 'c', ELASTICSEARCH_URL: 'http://127.0.0.1:9' } }).elasticsearch);
    const app = await buildApp({
      elastic,
      index: 'x',
      tokens: new TokenSet(['unit-token-0123456789']),
      rateLimitPerMinute: 10,
      maxPageSize: 100,
      logger: createLogger({ name: 't', level: 'silent' }),
      notReadyReason: elasticReadiness(elastic, 'x'),
    });
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    const ready = await app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json<{ reason: string }>().reason).toMatch(/^Elasticsearch unreachable: /);
    await app.close();
    await elastic.close();
  });
});
