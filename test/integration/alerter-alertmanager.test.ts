import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducer } from '@killtrace/kafka';
import { createLogger } from '@killtrace/logging';
import { recordMessageSchema } from '@killtrace/schemas';
import { startAlerter, type RunningAlerter } from '../../services/alerter/src/main.js';
import { startCorrelator, type RunningCorrelator } from '../../services/correlator/src/main.js';
import { bundleSignals, elasticFor, kafkaFor, pipelineSetup, produceSignals, root, type PipelineSetup } from '../e2e/harness.js';
import { killRecord } from '../fixtures/alerting/records.js';
import { dropTopicsAndGroups, startAlertmanager, type AlertmanagerServer, type GettableAlert } from './alertmanager-server.js';
import { uniqueSuffix } from './helpers.js';

/** The alerter against real Kafka and a real Alertmanager (port 19093 of this range). */

const AM_PORT = 19093;
const logger = createLogger({ name: 'alerter-it', level: 'warn', format: 'json' });
let am: AlertmanagerServer;
const stops: Array<() => Promise<void>> = [];
const setups: PipelineSetup[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  am = await startAlertmanager(AM_PORT);
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  for (const setup of setups) {
    const t = setup.topics;
    const id = setup.config.kafka.clientId;
    await dropTopicsAndGroups(kafkaFor(setup), [t.signals, t.logs, t.records, t.deadLetter], [`${id}.alerter`, `${id}.correlator`, `${setup.suffix}-second`]);
    const es = elasticFor(setup);
    await es.indices.delete({ index: `${setup.alias}-*` }).catch(() => undefined);
    await es.close();
  }
  await am?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'killtrace-alerter-'));
  dirs.push(dir);
  return dir;
}

/** Unique topics and an alerter configuration whose rules resolve after `resolveAfterSeconds`. */
function setupFor(name: string, resolveAfterSeconds: number): PipelineSetup {
  const dir = tempDir();
  const rulesFile = join(dir, 'rules.yaml');
  writeFileSync(
    rulesFile,
    [
      'receivers:',
      `  - { name: am, type: alertmanager, url: "${am.url}" }`,
      'rules:',
      '  - name: probe-kill-during-init',
      '    runbookUrl: https://runbooks.example.com/killtrace/probe-kill-during-init',
      `    resolveAfterSeconds: ${resolveAfterSeconds}`,
      ...['probe-kill-running', 'probe-crash-loop', 'oom-kill-during-init'].flatMap((rule) => [`  - name: ${rule}`, `    resolveAfterSeconds: ${resolveAfterSeconds}`]),
    ]
      .join('\n'),
  );
  const setup = pipelineSetup(name, 1, {
    // Alertmanager is shared by the tests of this file: the cluster label keeps their alerts apart.
    KILLTRACE_CLUSTER_NAME: `it-${name}-${uniqueSuffix()}`,
    KILLTRACE_HTTP_PORT: '0',
    KILLTRACE_ALERTER_RULES_FILE: rulesFile,
    KILLTRACE_ALERTER_STATE_DIR: join(dir, 'state'),
    KILLTRACE_ALERTER_TICK_INTERVAL_MS: '100',
    KILLTRACE_ALERTER_RETRY_INITIAL_MS: '100',
    KILLTRACE_ALERTER_RETRY_MAX_MS: '1000',
    KILLTRACE_ALERTER_TIMELINE_URL: 'https://killtrace.example.com/api/v1/timeline?id={id}',
    KILLTRACE_ALERTER_KIBANA_URL: 'https://kibana.example.com',
    // The example bundle's kills are from 2026-10-02; let the pipeline test alert on them.
    KILLTRACE_ALERTER_MAX_KILL_AGE_MS: String(10 * 365 * 86_400_000),
  });
  setups.push(setup);
  return setup;
}

async function alerter(setup: PipelineSetup): Promise<RunningAlerter> {
  const running = await startAlerter(setup.config, logger);
  stops.push(() => running.close());
  await running.alerter.joinedGroup();
  return running;
}

/** Alerts of this test only (its cluster label is unique). */
async function alertsOf(cluster: string, alertname: string): Promise<GettableAlert[]> {
  return am.alerts({ cluster, alertname });
}

async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  let last: T = await read();
  const deadline = Date.now() + timeoutMs;
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(last).slice(0, 1500)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    last = await read();
  }
  return last;
}

describe('alerter with a real Alertmanager', () => {
  it('the example crash loop flows signals -> correlator -> records topic -> alerter -> Alertmanager', async () => {
    const setup = setupFor('am-pipeline', 600);
    const correlator: RunningCorrelator = await startCorrelator(setup.config, logger);
    stops.push(() => correlator.close());
    await alerter(setup);
    await produceSignals(kafkaFor(setup), setup.topics, await bundleSignals(join(root, 'examples', 'host-agent-crashloop')));

    const cluster = setup.config.clusterName;
    const loop = await until('the crash-loop alert with all 7 kills', () => alertsOf(cluster, 'KilltraceProbeCrashLoop'), (a) => a[0]?.annotations.kill_count === '7', 90_000);
    expect(loop).toHaveLength(1);
    expect(loop[0]?.labels).toEqual({
      alertname: 'KilltraceProbeCrashLoop',
      severity: 'critical',
      killtrace_rule: 'probe-crash-loop',
      cluster,
      namespace: 'onecloud',
      workload: 'default-host',
      container: 'host',
    });
    // Provisional and final records of the 7 restarts (14 messages or more) counted once each.
    const init = await until('both init-kill alerts (step unknown, gpu-vfio-bind)', () => alertsOf(cluster, 'KilltraceProbeKillDuringInit'), (a) => a.length === 2 && a.reduce((n, x) => n + Number(x.annotations.kill_count), 0) === 7);
    const vfio = init.find((a) => a.labels.step === 'gpu-vfio-bind');
    expect(vfio?.annotations).toMatchObject({
      kill_count: '2',
      runbook_url: 'https://runbooks.example.com/killtrace/probe-kill-during-init',
      summary: 'liveness probe killed onecloud/default-host container host during init step gpu-vfio-bind (2 times)',
    });
    expect(vfio?.annotations.description).toMatch(/step gpu-vfio-bind had been running for/);
    expect(vfio?.annotations.startup_probe).toContain('failureThreshold: 60');
    expect(vfio?.annotations.timeline_url).toMatch(/^https:\/\/killtrace\.example\.com\/api\/v1\/timeline\?id=/);
    expect(vfio?.annotations.kibana_url).toMatch(/^https:\/\/kibana\.example\.com\/app\/discover#/);
    expect(init.find((a) => a.labels.step === undefined)?.annotations.kill_count).toBe('5');
    expect(vfio?.startsAt).toBe('2026-10-02T06:39:41.169Z');
  }, 150_000);

  it('a second kill updates the alert instead of adding one, a repeated record counts once, and it resolves after the quiet period', async () => {
    const setup = setupFor('am-update', 3);
    const cluster = setup.config.clusterName;
    const running = await alerter(setup);
    const kafka = kafkaFor(setup);
    const producer = createProducer(kafka);
    await producer.connect();
    stops.push(() => producer.disconnect());
    const records = producer.topic(setup.topics.records, recordMessageSchema);
    const send = async (r: ReturnType<typeof killRecord>): Promise<void> => {
      await records.send([{ key: r.id, value: { v: 1, id: r.id, record: { ...r.record, orchestrator: { type: 'kubernetes', cluster: { name: cluster } } } } }]);
    };
    const now = Date.now();
    const first = killRecord({ restart: 1, killedAt: now - 1_000, status: 'provisional', namespace: 'shop', daemonset: 'inventory' });
    await send(first);
    const one = await until('the first alert', () => alertsOf(cluster, 'KilltraceProbeKillDuringInit'), (a) => a.length === 1);
    expect(one[0]?.annotations.kill_count).toBe('1');
    expect(one[0]?.labels).toMatchObject({ namespace: 'shop', workload: 'inventory', severity: 'critical' });
    const startsAt = one[0]?.startsAt;
    const fingerprint = one[0]?.fingerprint;

    await send(killRecord({ restart: 1, killedAt: now - 1_000, status: 'final', namespace: 'shop', daemonset: 'inventory', message: 'final explanation' }));
    await until('the final explanation', () => alertsOf(cluster, 'KilltraceProbeKillDuringInit'), (a) => a[0]?.annotations.description === 'final explanation');
    await send(killRecord({ restart: 2, killedAt: now, namespace: 'shop', daemonset: 'inventory' }));
    const two = await until('the updated alert', () => alertsOf(cluster, 'KilltraceProbeKillDuringInit'), (a) => a[0]?.annotations.kill_count === '2');
    expect(two).toHaveLength(1);
    expect(two[0]?.fingerprint).toBe(fingerprint);
    expect(two[0]?.startsAt).toBe(startsAt);
    expect(two[0]?.status.state).toBe('active');

    // Quiet for resolveAfterSeconds (3 s): the alerter resolves it (endsAt now), and Alertmanager stops listing it as active.
    const resolved = await until(
      'the alert resolved',
      () => am.alerts({ cluster, alertname: 'KilltraceProbeKillDuringInit' }),
      (a) => a.length === 0 || a.every((x) => Date.parse(x.endsAt) <= Date.now()),
      20_000,
    );
    expect(resolved.every((x) => x.status.state !== 'active' || Date.parse(x.endsAt) <= Date.now())).toBe(true);
    // The alerter said so itself (not only Alertmanager timing out the alert at its endsAt).
    const metrics = await until(
      'the resolved notification delivered',
      () => fetch(`http://127.0.0.1:${running.httpPort}/metrics`).then((r) => r.text()),
      (text) => /killtrace_alerter_notifications_total\{[^}]*receiver="am"[^}]*kind="resolved"[^}]*outcome="delivered"[^}]*\} 1/.test(text),
    );
    expect(metrics).toMatch(/killtrace_alerter_notifications_total\{[^}]*kind="firing"[^}]*outcome="delivered"[^}]*\} 1/);
    expect(running.alerter.readiness().ok).toBe(true);
  });
});
