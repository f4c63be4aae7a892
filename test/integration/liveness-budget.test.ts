import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CorrelatorProcess } from '../e2e/process.js';
import { cleanup, elasticFor, kafkaFor, pipelineSetup, type PipelineSetup } from '../e2e/harness.js';
import { renderHelm, type KubeObject } from '../deploy/render.js';
import { uniqueSuffix } from './helpers.js';
import { createNamespace, deleteNamespace, kubeApiServer } from './kube-api.js';

/**
 * Issue 12, "probes done right": the chart gives each component a startupProbe allowance, then liveness
 * (failureThreshold x periodSeconds) before the kubelet restarts it. Each component is started here as the real
 * process against the real Kafka, Elasticsearch and kube-apiserver, its time to /healthz and to /readyz measured,
 * and the rendered chart's allowance must cover that start several times over, so a slower node does not put
 * Killtrace itself into a CrashLoopBackOff.
 */

/** How many times the measured start the startupProbe must allow (slower nodes, a busier cluster, image pulls aside). */
const MARGIN = 3;

interface Probe { initialDelaySeconds?: number; periodSeconds: number; failureThreshold: number }
interface Container { name: string; startupProbe?: Probe; livenessProbe?: Probe }

const chart = renderHelm({ alerter: { enabled: true, alertmanagerUrl: 'http://alertmanager.monitoring.svc:9093' } });

function container(kind: string, name: string): Container {
  const o = chart.find((x: KubeObject) => x.kind === kind && x.metadata.name === name);
  const c = (o as unknown as { spec: { template: { spec: { containers: Container[] } } } } | undefined)?.spec.template.spec.containers[0];
  if (c === undefined) throw new Error(`no ${kind} ${name} in the chart`);
  return c;
}

/** Seconds the kubelet lets the container start (startupProbe) and then stay unresponsive (liveness) before a restart. */
function budget(c: Container): { startup: number; liveness: number } {
  const s = c.startupProbe;
  const l = c.livenessProbe;
  if (s === undefined || l === undefined) throw new Error(`${c.name}: no startup or liveness probe`);
  // The kubelet runs liveness only once the startupProbe succeeded: pkg/kubelet/prober/worker.go (*worker).doProbe,
  // "Disable other probes until container has started".
  return { startup: (s.initialDelaySeconds ?? 0) + s.failureThreshold * s.periodSeconds, liveness: l.failureThreshold * l.periodSeconds };
}

const processes: CorrelatorProcess[] = [];
const setups: PipelineSetup[] = [];
const dirs: string[] = [];
const namespaces: string[] = [];
afterAll(async () => {
  for (const p of processes) await p.stop();
  for (const s of setups) await cleanup(s, kafkaFor(s), elasticFor(s)).catch(() => undefined);
  for (const n of namespaces) await deleteNamespace(kubeApiServer(), n).catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Starts the process and measures, in seconds, until /healthz and then /readyz first answer 200. */
async function measureStart(env: Record<string, string>, script: string, args: string[] = []): Promise<{ healthy: number; ready: number; process: CorrelatorProcess }> {
  const p = new CorrelatorProcess(env, script, args);
  processes.push(p);
  const started = performance.now();
  await p.start();
  let healthy: number | undefined;
  const deadline = started + 120_000;
  while (healthy === undefined) {
    if (!p.running) throw new Error(`${script} exited during start:\n${p.tail()}`);
    if (performance.now() > deadline) throw new Error(`${script}: no /healthz after 120 s:\n${p.tail()}`);
    const ok = await p.http('/healthz').then((r) => r.status === 200, () => false);
    if (ok) healthy = (performance.now() - started) / 1000;
    else await new Promise((r) => setTimeout(r, 50));
  }
  await p.ready(120_000);
  return { healthy, ready: (performance.now() - started) / 1000, process: p };
}

function tmp(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

const COLLECTOR = 'services/collector/bin/killtrace-collector.js';

/** Unique topics, index and group for one component (removed after the file), plus its own settings. */
function envFor(name: string, extra: Record<string, string> = {}): Record<string, string> {
  const setup = pipelineSetup(name, 1);
  setups.push(setup);
  return { ...setup.env, ...extra };
}

const components: [string, string, string, () => Promise<Record<string, string>>, string, string[]][] = [
  ['correlator', 'Deployment', 'killtrace-correlator', async () => envFor('budget-correlator'), 'services/correlator/bin/killtrace-correlator.js', []],
  [
    'cluster watcher',
    'Deployment',
    'killtrace-cluster-watcher',
    async () => {
      const server = kubeApiServer();
      const namespace = `kt-budget-${uniqueSuffix()}`;
      await createNamespace(server, namespace);
      namespaces.push(namespace);
      return envFor('budget-watcher', { KILLTRACE_CLUSTER_WATCHER_KUBECONFIG: server.kubeconfig, KILLTRACE_CLUSTER_WATCHER_NAMESPACES: namespace });
    },
    COLLECTOR,
    ['cluster-watcher'],
  ],
  [
    'node agent',
    'DaemonSet',
    'killtrace-node-agent',
    async () => {
      const dir = tmp('kt-budget-agent-');
      return envFor('budget-agent', {
        KILLTRACE_NODE_NAME: 'budget-node',
        KILLTRACE_NODE_AGENT_LOG_ROOT: dir,
        KILLTRACE_NODE_AGENT_CHECKPOINT_DIR: join(dir, 'checkpoints'),
        KILLTRACE_NODE_AGENT_JOURNAL_MODE: 'off',
        KILLTRACE_NODE_AGENT_KERNEL_JOURNAL: 'false',
      });
    },
    COLLECTOR,
    ['node-agent'],
  ],
  [
    'alerter',
    'StatefulSet',
    'killtrace-alerter',
    async () =>
      envFor('budget-alerter', {
        KILLTRACE_ALERTER_STATE_DIR: join(tmp('kt-budget-alerter-'), 'state'),
        // Deliveries are not part of starting: nothing listens here and readiness must not wait for it.
        KILLTRACE_ALERTER_ALERTMANAGER_URL: 'http://127.0.0.1:9',
      }),
    'services/alerter/bin/killtrace-alerter.js',
    [],
  ],
];

describe('each component\'s startup and liveness budget covers its measured start', () => {
  it.each(components)('%s: the chart\'s startupProbe allows several times its start to /readyz', { timeout: 180_000 }, async (name, kind, object, env, script, args) => {
    const measured = await measureStart(await env(), script, args);
    const { startup, liveness } = budget(container(kind, object));
    console.log(`${name}: /healthz after ${measured.healthy.toFixed(2)} s, /readyz after ${measured.ready.toFixed(2)} s; startupProbe allows ${startup} s, then liveness ${liveness} s`);
    expect(measured.healthy).toBeLessThanOrEqual(measured.ready);
    // The startupProbe (on /healthz) must succeed in time, with room for a node several times slower...
    expect(startup, `${name}: startupProbe allowance ${startup} s vs ${MARGIN} x ${measured.ready.toFixed(2)} s`).toBeGreaterThan(MARGIN * measured.ready);
    // ...and the whole budget before a restart (startup, then liveness) exceeds it as well.
    expect(startup + liveness).toBeGreaterThan(MARGIN * measured.ready);
    // It stays alive and ready once started (liveness never depended on a dependency's state).
    expect((await measured.process.http('/healthz')).status).toBe(200);
  });
});
