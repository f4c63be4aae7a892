import { restartRecordId, restartRecordSchema, type RestartRecord } from '@killtrace/schemas';
import { afterAll, describe, expect, it } from 'vitest';
import { createElasticClient, installIndexTemplate, writeDocuments } from '@killtrace/elastic';
import { integrationConfig, uniqueSuffix } from './helpers.js';

const config = integrationConfig();
const client = createElasticClient(config.elasticsearch);
const alias = `kt-it-restarts-${uniqueSuffix()}`;

/** A complete restart record; parsed by the contract schema so the fixture cannot drift from it. */
function record(podUid: string, restartCount: number): RestartRecord {
  return restartRecordSchema.parse({
    '@timestamp': '2024-05-01T10:00:30.000Z',
    message: `host was killed by its liveness probe while binding GPUs (restart ${restartCount})`,
    event: { kind: 'event', category: ['process'], type: ['end'], action: 'container-restart', dataset: 'killtrace.restart' },
    orchestrator: { type: 'kubernetes', cluster: { name: 'integration' } },
    kubernetes: {
      namespace: 'onecloud',
      pod: { name: `default-host-${podUid}`, uid: podUid },
      node: { name: 'node-1' },
      container: { name: 'host' },
      labels: { app: 'host', 'app_kubernetes_io_name': 'host' },
      daemonset: { name: 'default-host' },
    },
    container: { id: 'abc123', image: { name: 'registry/host:v3' } },
    killtrace: {
      status: 'final',
      restart: { count: restartCount, count_source: 'log_file' },
      container: { kind: 'main' },
      kill_event: null,
      prestop_outlived_grace: false,
      cause: 'liveness_probe',
      decided_by: 'kubelet',
      confidence: 'high',
      probe_induced: true,
      during_init: true,
      exit_code: 137,
      signal: 9,
      reason: 'Error',
      started_at: '2024-05-01T10:00:00.000Z',
      killed_at: '2024-05-01T10:00:30.000Z',
      finished_at: '2024-05-01T10:00:31.000Z',
      uptime_seconds: 31,
      probe: {
        type: 'liveness',
        handler: 'http',
        period_seconds: 10,
        timeout_seconds: 1,
        failure_threshold: 3,
        initial_delay_seconds: 0,
        budget_seconds: 30,
        failures: 3,
        first_failure_at: '2024-05-01T10:00:10.000Z',
        last_failure_message: 'Get "http://10.0.0.5:8885/ping": context deadline exceeded',
      },
      init: {
        phase: 'initializing',
        step: 'gpu-vfio-bind',
        step_started_at: '2024-05-01T10:00:05.000Z',
        step_elapsed_seconds: 25,
        completed_steps: ['config-load'],
        expected_seconds: 120,
        profile: 'cloudpods-host',
      },
      log: { last_line: 'bind 0000:3b:00.0 to vfio-pci', last_line_at: '2024-05-01T10:00:05.000Z', silence_seconds: 25 },
      recommendation: {
        text: 'Add a startupProbe with periodSeconds 10 and failureThreshold 18.',
        startup_probe: { period_seconds: 10, failure_threshold: 18 },
        basis: 'observed init durations',
        what_if: { kills_observed: 3, kills_avoided: 3, text: 'would have avoided 3 of 3 kills' },
      },
      timeline: [
        { at: '2024-05-01T10:00:10.000Z', source: 'kubelet_log', text: 'Probe failed' },
        { at: '2024-05-01T10:00:30.000Z', source: 'event', text: 'Container host failed liveness probe, will be restarted' },
      ],
    },
  });
}

const squatted = `kt-it-squatted-${uniqueSuffix()}`;

afterAll(async () => {
  await client.indices.delete({ index: `${alias}-*`, ignore_unavailable: true }).catch(() => undefined);
  await client.indices.delete({ index: squatted, ignore_unavailable: true }).catch(() => undefined);
  await client.indices.deleteIndexTemplate({ name: squatted }).catch(() => undefined);
  await client.cluster.deleteComponentTemplate({ name: `${squatted}-mappings` }).catch(() => undefined);
  await client.indices.deleteIndexTemplate({ name: alias }).catch(() => undefined);
  await client.cluster.deleteComponentTemplate({ name: `${alias}-mappings` }).catch(() => undefined);
  await client.close();
});

describe('Elasticsearch adapter against a real node', () => {
  it('installs the restart-record template and write index idempotently', async () => {
    const first = await installIndexTemplate(client, { alias, replicas: 0 });
    expect(first).toEqual({ componentTemplate: `${alias}-mappings`, indexTemplate: alias, writeIndex: `${alias}-000001`, createdWriteIndex: true });
    const second = await installIndexTemplate(client, { alias, replicas: 0 });
    expect(second).toEqual({ ...first, createdWriteIndex: false });
    const mapping = await client.indices.getMapping({ index: alias });
    expect(mapping[`${alias}-000001`]?.mappings.dynamic).toBe('strict');
  });

  it('refuses to install when a concrete index occupies the alias name', async () => {
    await client.indices.create({ index: squatted, settings: { number_of_replicas: 0 } });
    await expect(installIndexTemplate(client, { alias: squatted, replicas: 0 })).rejects.toThrow(
      `KT_ERR_ELASTIC_TEMPLATE: a concrete index named ${squatted} exists where the write alias belongs`,
    );
  });

  it('writes documents under fixed ids twice and finds each exactly once', async () => {
    const docs = ['uid-1', 'uid-2', 'uid-3'].flatMap((uid) =>
      [0, 1].map((count) => ({ id: restartRecordId(uid, 'host', count), document: record(uid, count) })),
    );
    for (let run = 0; run < 2; run++) {
      const report = await writeDocuments(client, docs, { index: alias, refresh: true });
      expect(report.failures).toEqual([]);
      expect(report).toMatchObject({ total: docs.length, successful: docs.length });
    }
    const total = await client.count({ index: alias });
    expect(total.count).toBe(docs.length);
    for (const { id } of docs) {
      const hits = await client.search({ index: alias, query: { ids: { values: [id] } } });
      expect(hits.hits.total).toEqual({ value: 1, relation: 'eq' });
    }
    // Labels are keywords; the timeline is nested, so a query matches within one entry.
    const byLabel = await client.count({ index: alias, query: { term: { 'kubernetes.labels.app_kubernetes_io_name': 'host' } } });
    expect(byLabel.count).toBe(docs.length);
    const nested = await client.count({
      index: alias,
      query: { nested: { path: 'killtrace.timeline', query: { bool: { must: [{ term: { 'killtrace.timeline.source': 'event' } }, { match: { 'killtrace.timeline.text': 'liveness' } }] } } } },
    });
    expect(nested.count).toBe(docs.length);
    const phrase = await client.count({ index: alias, query: { term: { 'killtrace.probe.last_failure_message.keyword': 'Get "http://10.0.0.5:8885/ping": context deadline exceeded' } } });
    expect(phrase.count).toBe(docs.length);
  });

  it('indexes a kernel OOM record: killtrace.oom and the kernel_log timeline source fit the strict mapping', async () => {
    const base = record('uid-oom', 0);
    const oomRecord = restartRecordSchema.parse({
      ...base,
      killtrace: {
        ...base.killtrace,
        cause: 'oom_killed',
        decided_by: 'kernel',
        probe_induced: false,
        timeline: [{ at: '2024-05-01T10:00:30.500Z', source: 'kernel_log', text: 'kernel OOM killer: Memory cgroup out of memory: Killed process 4242 (java)' }],
        oom: {
          process: 'java',
          pid: 4242,
          killed_at: '2024-05-01T10:00:30.500Z',
          memory_limit_bytes: 536870912,
          memory_usage_bytes: 536870912,
          anon_rss_bytes: 533000000,
          constraint: 'CONSTRAINT_MEMCG',
          cgroup: '/kubepods/burstable/poduid-oom/abc123',
          matched_by: 'container_id',
        },
      },
    });
    const report = await writeDocuments(client, [{ id: restartRecordId('uid-oom', 'host', 0), document: oomRecord }], { index: alias, refresh: true });
    expect(report.failures).toEqual([]);
    const byLimit = await client.count({ index: alias, query: { bool: { must: [{ term: { 'killtrace.oom.process': 'java' } }, { range: { 'killtrace.oom.memory_limit_bytes': { gte: 536870912 } } }] } } });
    expect(byLimit.count).toBe(1);
  });

  it('reports per-document failures under the strict mapping and indexes the rest', async () => {
    const good = record('uid-9', 0);
    const unknownField = { ...good, killtrace: { ...good.killtrace, bogus: 'not in the contract' } };
    const wrongType = { ...good, killtrace: { ...good.killtrace, restart: { count: 'many' } } };
    // Deliberately outside the contract type: these are what a buggy writer could send.
    const report = await writeDocuments<object>(
      client,
      [
        { id: 'ok-doc', document: good },
        { id: 'unknown-field', document: unknownField },
        { id: 'wrong-type', document: wrongType },
      ],
      { index: alias, refresh: true },
    );
    expect(report.successful).toBe(1);
    expect(report.failures).toHaveLength(2);
    const byId = Object.fromEntries(report.failures.map((f) => [f.id, f]));
    expect(byId['unknown-field']).toMatchObject({ status: 400, type: 'strict_dynamic_mapping_exception' });
    expect(byId['unknown-field']?.reason).toContain('bogus');
    expect(byId['wrong-type']?.status).toBe(400);
    expect(byId['wrong-type']?.reason).toContain('killtrace.restart.count');
    const found = await client.count({ index: alias, query: { ids: { values: ['ok-doc', 'unknown-field', 'wrong-type'] } } });
    expect(found.count).toBe(1);
  });
});
