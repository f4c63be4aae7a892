import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '@killtrace/config';
import { createLogger } from '@killtrace/logging';
import { startCollector, type RunningCollector } from '../../services/collector/src/main.js';
import { startCorrelator, type RunningCorrelator } from '../../services/correlator/src/main.js';
import { startApi } from '../../services/api/src/main.js';
import { startAlerter, type RunningAlerter } from '../../services/alerter/src/main.js';
import { cleanup, elasticFor, kafkaFor, pipelineSetup, type PipelineSetup } from '../e2e/harness.js';
import { integrationConfig, uniqueSuffix, waitFor } from './helpers.js';
import { createNamespace, deleteNamespace, kubeApiServer } from './kube-api.js';
import type { LogLine } from './kube-watcher-harness.js';
import { forwarder, hostPort } from './tcp-forwarder.js';

/**
 * Each service started before its servers: Kafka, Elasticsearch and the API server are reached through TCP
 * forwarders on ports nobody listens on yet. The service stays alive (/healthz 200), not ready (/readyz 503 naming
 * what it waits for), logs one line when a dependency is unavailable and one when it is back, and becomes ready
 * once the forwarders open onto the real servers. Before this, the correlator exited after about 9 s.
 */

async function freePort(): Promise<number> {
  const f = await forwarder({ host: '127.0.0.1', port: 1 });
  return f.port;
}

function capture(name: string): { logs: LogLine[]; logger: ReturnType<typeof createLogger> } {
  const logs: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n').filter((l) => l !== '')) logs.push(JSON.parse(line) as LogLine);
      callback();
    },
  });
  return { logs, logger: createLogger({ name, level: 'info', format: 'json', destination }) };
}

async function probe(port: number, path: '/healthz' | '/readyz'): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

/** Polls /readyz until it answers 200; meanwhile /healthz must always answer 200. */
async function becomesReady(port: number, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    expect((await probe(port, '/healthz')).status).toBe(200);
    if ((await probe(port, '/readyz')).status === 200) return;
    if (Date.now() > deadline) throw new Error(`not ready after ${timeoutMs} ms: ${(await probe(port, '/readyz')).body}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The lines about a dependency changing state (unavailable / available), not the per-retry debug lines. */
const stateLines = (logs: LogLine[], dependency: string): string[] => logs.filter((l) => l.dependency === dependency && l.level !== 'debug').map((l) => `${l.level} ${l.msg.split(':')[0] ?? ''}`);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

describe('services started before their dependencies', () => {
  it('the correlator waits for Kafka and Elasticsearch, alive but not ready, and becomes ready once they answer', { timeout: 180_000 }, async () => {
    const base = integrationConfig();
    const kafkaFwd = await forwarder(hostPort(base.kafka.brokers[0]!));
    const esFwd = await forwarder(hostPort(base.elasticsearch.url));
    cleanups.push(() => kafkaFwd.close(), () => esFwd.close());
    const port = await freePort();
    const setup: PipelineSetup = pipelineSetup(`deps-${uniqueSuffix()}`, 1, { KILLTRACE_HTTP_PORT: String(port) });
    cleanups.push(() => cleanup(setup, kafkaFor(setup), elasticFor(setup)));
    const config: Config = { ...setup.config, kafka: { ...setup.config.kafka, brokers: [`127.0.0.1:${kafkaFwd.port}`] }, elasticsearch: { ...setup.config.elasticsearch, url: `http://127.0.0.1:${esFwd.port}` } };
    const { logs, logger } = capture('correlator-deps-it');
    const starting = startCorrelator(config, logger);
    let failed: unknown;
    starting.then((c: RunningCorrelator) => cleanups.push(() => c.close()), (error: unknown) => (failed = error));

    await waitFor('the health server', () => logs.some((l) => l.event === 'HttpListening'), 30_000);
    await waitFor('Kafka reported unavailable', () => stateLines(logs, 'kafka').length > 0, 60_000);
    expect((await probe(port, '/healthz')).status).toBe(200);
    const notReady = await probe(port, '/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.body).toContain('waiting for kafka');

    await kafkaFwd.open();
    await waitFor('Kafka available, Elasticsearch reported unavailable', () => stateLines(logs, 'elasticsearch').length > 0, 90_000);
    expect((await probe(port, '/readyz')).body).toContain('waiting for elasticsearch');
    await esFwd.open();
    await becomesReady(port);
    expect(failed).toBeUndefined();
    expect(stateLines(logs, 'kafka')).toEqual(['warn kafka unavailable (topics)', 'info kafka available again (topics)']);
    expect(stateLines(logs, 'elasticsearch')).toEqual(['warn elasticsearch unavailable (index template)', 'info elasticsearch available again (index template)']);
  });

  it('the alerter waits for Kafka, alive but not ready, and becomes ready once it answers', { timeout: 180_000 }, async () => {
    const base = integrationConfig();
    const kafkaFwd = await forwarder(hostPort(base.kafka.brokers[0]!));
    cleanups.push(() => kafkaFwd.close());
    const dir = await mkdtemp(join(tmpdir(), 'kt-deps-alerter-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const port = await freePort();
    const setup: PipelineSetup = pipelineSetup(`deps-alerter-${uniqueSuffix()}`, 1, {
      KILLTRACE_HTTP_PORT: String(port),
      // A receiver is required to start; nothing is delivered in this test.
      KILLTRACE_ALERTER_ALERTMANAGER_URL: 'http://127.0.0.1:9',
      KILLTRACE_ALERTER_STATE_DIR: join(dir, 'state'),
      KILLTRACE_ALERTER_RETRY_INITIAL_MS: '100',
      KILLTRACE_ALERTER_RETRY_MAX_MS: '1000',
    });
    cleanups.push(() => cleanup(setup, kafkaFor(setup), elasticFor(setup)));
    const config: Config = { ...setup.config, kafka: { ...setup.config.kafka, brokers: [`127.0.0.1:${kafkaFwd.port}`] } };
    const { logs, logger } = capture('alerter-deps-it');
    const stop = new AbortController();
    cleanups.push(async () => stop.abort());
    let failed: unknown;
    startAlerter(config, logger, { signal: stop.signal }).then((a: RunningAlerter) => cleanups.push(() => a.close()), (error: unknown) => (failed = error));

    await waitFor('the health server', () => logs.some((l) => l.event === 'HttpListening'), 30_000);
    await waitFor('Kafka reported unavailable', () => stateLines(logs, 'kafka').length > 0, 60_000);
    expect((await probe(port, '/healthz')).status).toBe(200);
    const notReady = await probe(port, '/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.body).toContain('waiting for kafka');

    await kafkaFwd.open();
    await becomesReady(port);
    expect(failed).toBeUndefined();
    expect(stateLines(logs, 'kafka')).toEqual(['warn kafka unavailable (records topic)', 'info kafka available again (records topic)']);
  });

  it('the read-only API listens before Elasticsearch answers, alive but not ready, and becomes ready once it does', { timeout: 120_000 }, async () => {
    const base = integrationConfig();
    const esFwd = await forwarder(hostPort(base.elasticsearch.url));
    cleanups.push(() => esFwd.close());
    const config: Config = {
      ...base,
      api: { ...base.api, host: '127.0.0.1', port: 0, tokens: ['deps-token-0123456789'] },
      elasticsearch: { ...base.elasticsearch, url: `http://127.0.0.1:${esFwd.port}`, indexPrefix: `kt-it-deps-api-${uniqueSuffix()}` },
    };
    const { logs, logger } = capture('api-deps-it');
    const api = await startApi(config, logger);
    cleanups.push(() => api.close());

    await waitFor('Elasticsearch reported unavailable', () => stateLines(logs, 'elasticsearch').length > 0, 30_000);
    expect((await probe(api.port, '/healthz')).status).toBe(200);
    const notReady = await probe(api.port, '/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.body).toContain('Elasticsearch unreachable');
    // Probing again while it is down logs nothing new: one line per change, not per probe or retry.
    await probe(api.port, '/readyz');
    expect(stateLines(logs, 'elasticsearch')).toEqual(['warn elasticsearch unavailable (records count)']);

    await esFwd.open();
    await becomesReady(api.port);
    await waitFor('the start-up wait reports Elasticsearch back', () => stateLines(logs, 'elasticsearch').length === 2, 60_000);
    await probe(api.port, '/readyz');
    expect(stateLines(logs, 'elasticsearch')).toEqual(['warn elasticsearch unavailable (records count)', 'info elasticsearch available again (records count)']);
  });

  it('the cluster watcher waits for Kafka and the API server, and the node agent for Kafka', { timeout: 180_000 }, async () => {
    const base = integrationConfig();
    const server = kubeApiServer();
    const namespace = `kt-deps-${uniqueSuffix()}`;
    await createNamespace(server, namespace);
    cleanups.push(() => deleteNamespace(server, namespace));
    const dir = await mkdtemp(join(tmpdir(), 'kt-deps-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const kafkaFwd = await forwarder(hostPort(base.kafka.brokers[0]!));
    const apiFwd = await forwarder(hostPort(server.url));
    cleanups.push(() => kafkaFwd.close(), () => apiFwd.close());
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: `https://127.0.0.1:${apiFwd.port}`, 'certificate-authority-data': Buffer.from(server.ca).toString('base64') } }],
        users: [{ name: 'u', user: { token: server.token } }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'c',
      }),
    );
    await mkdir(join(dir, 'pods'));
    const suffix = uniqueSuffix();
    const topics = { ...base.kafka.topics, signals: `kt-it-deps-signals-${suffix}`, logs: `kt-it-deps-logs-${suffix}`, deadLetter: `kt-it-deps-dl-${suffix}`, context: `kt-it-deps-ctx-${suffix}` };
    const common = { ...base, kafka: { ...base.kafka, brokers: [`127.0.0.1:${kafkaFwd.port}`], topics, partitions: 1 } };
    const watcherConfig: Config = { ...common, http: { ...base.http, port: await freePort() }, clusterWatcher: { ...base.clusterWatcher, kubeconfig, namespaces: [namespace], retryMaxMs: 1_000 } };
    const agentConfig: Config = {
      ...common,
      http: { ...base.http, port: await freePort() },
      nodeAgent: { ...base.nodeAgent, nodeName: 'worker-deps', logRoot: join(dir, 'pods'), checkpointDir: join(dir, 'checkpoints'), journalMode: 'off' },
    };
    const watcherLog = capture('watcher-deps-it');
    const agentLog = capture('agent-deps-it');
    const started: RunningCollector[] = [];
    cleanups.push(async () => {
      for (const c of started) await c.shutdown('test done');
    });
    void startCollector('cluster-watcher', watcherConfig, watcherLog.logger).then((c) => started.push(c));
    void startCollector('node-agent', agentConfig, agentLog.logger).then((c) => started.push(c));

    await waitFor('both report Kafka unavailable', () => stateLines(watcherLog.logs, 'kafka').length > 0 && stateLines(agentLog.logs, 'kafka').length > 0, 60_000);
    for (const port of [watcherConfig.http.port, agentConfig.http.port]) {
      expect((await probe(port, '/healthz')).status).toBe(200);
      const readyz = await probe(port, '/readyz');
      expect(readyz.status).toBe(503);
      expect(readyz.body).toContain('waiting for kafka');
    }
    await kafkaFwd.open();
    await becomesReady(agentConfig.http.port);
    // Kafka is there, the API server is not: the watcher's informers keep retrying it, and say why it is not ready.
    await waitFor('the watcher to report the API server unreachable', () => watcherLog.logs.some((l) => l.code === 'KT_ERR_COLLECTOR_WATCH' && l.kind === 'unreachable'), 60_000);
    const watcherReadyz = await probe(watcherConfig.http.port, '/readyz');
    expect(watcherReadyz.status).toBe(503);
    expect(watcherReadyz.body).toMatch(/informers not synced: list (pods|events) in namespace kt-deps-.*unreachable/);
    await apiFwd.open();
    await becomesReady(watcherConfig.http.port);
    for (const logs of [watcherLog.logs, agentLog.logs]) {
      expect(stateLines(logs, 'kafka')).toEqual(['warn kafka unavailable (topics)', 'info kafka available again (topics)']);
    }
  });
});
