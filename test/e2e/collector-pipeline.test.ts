import { appendFileSync, cpSync, copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { logMessageSignals, logsTopicMessageSchema, restartRecordId, signalMessageSchema, type RestartRecord, type Signal } from '@killtrace/schemas';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { readBundle } from '@killtrace/bundle';
import { runAnalysis } from '../../services/cli/src/run-analysis.js';
import { startFakeKubeApiServer, type FakeKubeApiServer } from '../fakes/kube-api-server.js';
import { criLines, renderJournal } from '../scenarios/bundle.js';
import { hostAgentCrashloop, shopInventoryMixed } from '../scenarios/catalog.js';
import { coreV1Event } from '../scenarios/event-recorder.js';
import { rotationStamp } from '../scenarios/format.js';
import { simulate, type Simulation } from '../scenarios/simulator.js';
import type { Scenario } from '../scenarios/types.js';
import { CLUSTER, cleanup, CorrelatorProcess, elasticFor, kafkaFor, pipelineSetup, root, sortKeys, waitForDocs, withoutStatus, type PipelineSetup } from './harness.js';

/**
 * The whole pipeline with real processes: a simulated cluster (test/scenarios) is served by the fake Kubernetes API
 * (pods, then Events as ADDED/MODIFIED in time order) and written LIVE as CRI log files and kubelet journals
 * (short-precise) into one temporary log root per node, in bursts, with a log rotation mid-stream; the collector
 * runs as a child process in `cluster-watcher` mode (kubeconfig of the fake) and once per node in `node-agent` mode
 * (journal in `file` mode, own checkpoint dir), one node agent is stopped (SIGTERM) and started again from its
 * checkpoint mid-stream, and the correlator writes to Elasticsearch. Elasticsearch must end up holding exactly the
 * records `killtrace analyze` (`runAnalysis`) gives for the same inputs written as a bundle: the pods and Events the
 * fake served (pods.json, events.json in watch format), the node journals and the final log trees.
 *
 * Year-less journal timestamps (short-precise has no year): the node agent places them by the wall clock (the
 * latest year that does not put the first line after now, journal-follower.ts `notAfter`; later lines follow on),
 * there is no setting for it, so each scenario is dated relative to now (it ends ten minutes ago) rather than on the
 * catalog's fixed 2026-10-02; `runAnalysis` gets the scenario's start year as `referenceYear` (the year of its first
 * journal line), which is what it would also infer from the pods and Events. Both then agree in any year, across
 * New Year included.
 *
 * One partition per topic keeps this test about the collectors; that the output stays `killtrace analyze`'s with
 * several partitions (the context topic, decision 0017) is test/integration/context-partitions.test.ts.
 */

const BURSTS = 6;
/** The burst before which the chosen log file is rotated. */
const ROTATE_AT_BURST = 2;
/** The burst written while the restarted node agent is down (SIGTERM before it, start again after it). */
const RESTART_AT_BURST = 3;
const BURST_PAUSE_MS = 600;

const processes: CorrelatorProcess[] = [];
const setups: PipelineSetup[] = [];
const servers: FakeKubeApiServer[] = [];
const temps: string[] = [];

beforeAll(() => {
  const result = spawnSync('npx', ['tsc', '-b', 'services/collector', 'services/correlator'], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0) throw new Error(`building the collector and correlator failed:\n${result.stdout}\n${result.stderr}`);
}, 300_000);

afterAll(async () => {
  await Promise.all(processes.map((p) => (p.running ? p.stop(10_000) : undefined)));
  for (const server of servers) await server.close().catch(() => undefined);
  for (const setup of setups) await cleanup(setup, kafkaFor(setup), elasticFor(setup));
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
}, 120_000);

/** The scenario ending ten minutes ago (see the module comment on the year), whole seconds. */
function datedNearNow(scenario: Scenario): Scenario {
  const start = Math.floor((Date.now() - (scenario.durationSeconds + 600) * 1000) / 1000) * 1000;
  return { ...scenario, start: new Date(start).toISOString() };
}

type StreamItem =
  | { at: number; kind: 'cri'; file: string; text: string }
  | { at: number; kind: 'journal'; node: string; text: string }
  | { at: number; kind: 'event'; object: Record<string, unknown>; type: 'ADDED' | 'MODIFIED' };

interface Layout {
  dir: string;
  nodes: string[];
  logRoot: (node: string) => string;
  journal: (node: string) => string;
  checkpoint: (node: string) => string;
}

/** Everything the cluster and its nodes produce, in time order (stable: the simulator's order within a time). */
function streamOf(sim: Simulation, layout: Layout, nodeOfUid: Map<string, string>): StreamItem[] {
  const items: StreamItem[] = [];
  const maxLine = sim.scenario.bundle?.criMaxLineBytes ?? 16384;
  for (const f of sim.logs) {
    if (!f.kept) continue;
    const uid = f.dir.split('/')[0]?.split('_')[2] ?? '';
    const node = nodeOfUid.get(uid);
    if (node === undefined) throw new Error(`no node for log dir ${f.dir}`);
    const file = join(layout.logRoot(node), f.dir, `${f.restartCount}.log`);
    for (const l of f.lines) items.push({ at: l.at, kind: 'cri', file, text: criLines(l, maxLine) });
  }
  for (const [node, entries] of sim.journals) {
    const pid = sim.pids.get(node) ?? 2211;
    for (const e of entries) items.push({ at: e.at, kind: 'journal', node, text: renderJournal([e], node, pid, 'short-precise') });
  }
  for (const ev of sim.allEvents) {
    for (const w of ev.writes) if (w.at <= sim.endUs) items.push({ at: w.at, kind: 'event', object: coreV1Event(ev, w), type: w.type });
  }
  return items.map((item, i) => ({ item, i })).sort((a, b) => a.item.at - b.item.at || a.i - b.i).map(({ item }) => item);
}

function nodeAgentEnv(setup: PipelineSetup, layout: Layout, node: string): Record<string, string> {
  return {
    ...setup.env,
    KILLTRACE_NODE_NAME: node,
    KILLTRACE_NODE_AGENT_LOG_ROOT: layout.logRoot(node),
    KILLTRACE_NODE_AGENT_JOURNAL_MODE: 'file',
    // The simulated nodes have no kernel of their own: the host's journalctl -k is not their evidence.
    KILLTRACE_NODE_AGENT_KERNEL_JOURNAL: 'false',
    KILLTRACE_NODE_AGENT_JOURNAL_PATH: layout.journal(node),
    KILLTRACE_NODE_AGENT_CHECKPOINT_DIR: layout.checkpoint(node),
    KILLTRACE_NODE_AGENT_POLL_INTERVAL_MS: '100',
    KILLTRACE_NODE_AGENT_CHECKPOINT_INTERVAL_MS: '100',
    KILLTRACE_NODE_AGENT_ROTATE_WAIT_MS: '2000',
  };
}

function spawnService(env: Record<string, string>, script: string, args: string[] = []): CorrelatorProcess {
  const p = new CorrelatorProcess(env, script, args);
  processes.push(p);
  return p;
}

const COLLECTOR = 'services/collector/bin/killtrace-collector.js';
const CORRELATOR = 'services/correlator/bin/killtrace-correlator.js';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Names every missing, extra and differing document (the first differing one in full). */
function describeDifference(actual: Map<string, RestartRecord>, expected: Map<string, RestartRecord>): string {
  const missing = [...expected.keys()].filter((id) => !actual.has(id));
  const extra = [...actual.keys()].filter((id) => !expected.has(id));
  const differing = [...expected.keys()].filter((id) => actual.has(id) && JSON.stringify(sortKeys(withoutStatus(actual.get(id) as RestartRecord))) !== JSON.stringify(sortKeys(expected.get(id))));
  const lines = [`expected ${expected.size} documents, Elasticsearch holds ${actual.size}`, `missing: ${missing.join(', ') || '-'}`, `extra: ${extra.join(', ') || '-'}`, `differing: ${differing.join(', ') || '-'}`];
  const first = differing[0];
  if (first !== undefined) {
    lines.push(`first differing ${first}:`, `  elasticsearch: ${JSON.stringify(sortKeys(withoutStatus(actual.get(first) as RestartRecord)))}`, `  analyze:       ${JSON.stringify(sortKeys(expected.get(first)))}`);
  }
  return lines.join('\n');
}

/** Every message of a one-partition topic (read from the beginning up to its end offset at the call). */
async function readTopic(setup: PipelineSetup, topic: string, timeoutMs = 30_000): Promise<Signal[]> {
  const kafka = kafkaFor(setup);
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const end = Number(offsets[0]?.high ?? 0);
  const out: Signal[] = [];
  if (end === 0) return out;
  const consumer = kafka.consumer({ groupId: `kt-e2e-reader-${setup.suffix}-${topic}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      eachMessage: async ({ message }) => {
        // The logs topic carries version-1 messages (one line) and version-2 batches (one incarnation's lines).
        const value: unknown = JSON.parse(message.value?.toString('utf8') ?? '{}');
        if (topic === setup.topics.logs) out.push(...logMessageSignals(logsTopicMessageSchema.parse(value)));
        else out.push(signalMessageSchema.parse(value).signal);
        if (Number(message.offset) >= end - 1) done();
      },
    });
    const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`reading ${topic}: ${out.length} of ${end} messages after ${timeoutMs} ms`)), timeoutMs).unref());
    await Promise.race([finished, timer]);
  } finally {
    await consumer.disconnect();
  }
  return out;
}

/**
 * Every application line written (all incarnations, both sides of the rotation, the lines written while the node
 * agent was down) reached the logs topic, and every kubelet journal line `killtrace analyze` reads as a signal
 * reached the signals topic with the same time (the same year), at least once; returns the counts and how many
 * were published more than once (at least once delivery allows it, the record ids absorb it).
 */
async function expectEveryLinePublished(setup: PipelineSetup, sim: Simulation, bundle: string, referenceYear: number): Promise<{ lines: number; kubelet: number; duplicates: number }> {
  const count = (map: Map<string, number>, k: string): void => void map.set(k, (map.get(k) ?? 0) + 1);
  const appKey = (uid: string, container: string, restartCount: number, stream: string, text: string): string => ['app', uid, container, restartCount, stream, text].join('\u0000');
  const kubeletKey = (s: Extract<Signal, { kind: 'kubelet' }>): string =>
    ['kubelet', s.at, s.host ?? '', s.action, s.pod.namespace, s.pod.name, s.container ?? '', s.probeType ?? '', s.text].join('\u0000');
  const published = new Map<string, number>();
  for (const s of [...(await readTopic(setup, setup.topics.logs)), ...(await readTopic(setup, setup.topics.signals))]) {
    if (s.kind === 'app_log') count(published, appKey(s.pod.uid, s.container, s.restartCount, s.stream, s.text));
    else if (s.kind === 'kubelet') count(published, kubeletKey(s));
  }
  const written = new Map<string, number>();
  for (const f of sim.logs) {
    if (!f.kept) continue;
    const [podDir = '', container = ''] = f.dir.split('/');
    const uid = podDir.split('_')[2] ?? '';
    for (const l of f.lines) count(written, appKey(uid, container, f.restartCount, l.stream, l.text));
  }
  let kubelet = 0;
  await readBundle({
    paths: [bundle],
    referenceYear,
    onSignal: (s) => {
      if (s.kind !== 'kubelet') return;
      kubelet += 1;
      count(written, kubeletKey(s));
    },
  });
  const lost = [...written].filter(([k, n]) => (published.get(k) ?? 0) < n).map(([k]) => k.split('\u0000').join(' | '));
  expect(lost, `lines written but never published (${lost.length} of ${written.size})`).toEqual([]);
  let total = 0;
  let duplicates = 0;
  for (const [k, n] of written) {
    total += n;
    duplicates += (published.get(k) ?? 0) - n;
  }
  return { lines: total - kubelet, kubelet, duplicates };
}

interface RunResult {
  expected: number;
  lines: number;
  kubelet: number;
  duplicates: number;
  /** Items for the restarted node written while its agent was down. */
  whileDown: { cri: number; journal: number };
  rotated: string;
  restartedNode: string;
  elapsedMs: number;
}

/**
 * Runs one scenario through the live pipeline and compares Elasticsearch with `runAnalysis` over the same inputs.
 */
async function runScenario(name: string, make: () => Scenario, restartNode: string): Promise<RunResult> {
  const began = Date.now();
  const scenario = datedNearNow(make());
  const referenceYear = new Date(Date.parse(scenario.start)).getUTCFullYear();
  const sim = simulate(scenario);
  const dir = mkdtempSync(join(tmpdir(), `kt-e2e-collector-${name}-`));
  temps.push(dir);
  const nodeOfUid = new Map<string, string>();
  for (const pod of sim.pods) {
    const meta = pod.metadata as { uid: string };
    nodeOfUid.set(meta.uid, String((pod.spec as { nodeName?: string }).nodeName));
  }
  const layout: Layout = {
    dir,
    nodes: [...new Set(nodeOfUid.values())].sort(),
    logRoot: (node) => join(dir, 'nodes', node, 'pods'),
    journal: (node) => join(dir, 'nodes', node, 'kubelet.log'),
    checkpoint: (node) => join(dir, 'nodes', node, 'checkpoint'),
  };
  expect(layout.nodes).toContain(restartNode);
  const items = streamOf(sim, layout, nodeOfUid);
  expect(items.filter((i) => i.kind === 'cri').length).toBeGreaterThan(50);
  expect(items.filter((i) => i.kind === 'journal').length).toBeGreaterThan(20);
  expect(items.filter((i) => i.kind === 'event').length).toBeGreaterThan(5);

  // Bursts by equal slices of the scenario's time; the log file rotated is the busiest one with lines both sides.
  const span = sim.endUs - sim.startUs;
  const cut = (k: number): number => sim.startUs + (span * k) / BURSTS;
  const bursts: StreamItem[][] = Array.from({ length: BURSTS }, () => []);
  for (const item of items) bursts[Math.min(BURSTS - 1, Math.max(0, Math.floor(((item.at - sim.startUs) / span) * BURSTS)))]?.push(item);
  const down = bursts[RESTART_AT_BURST] ?? [];
  const whileDown = {
    cri: down.filter((i) => i.kind === 'cri' && i.file.startsWith(layout.logRoot(restartNode))).length,
    journal: down.filter((i) => i.kind === 'journal' && i.node === restartNode).length,
  };
  expect(whileDown.cri + whileDown.journal, `lines for ${restartNode} written while its agent is down`).toBeGreaterThan(0);
  const perFile = new Map<string, { before: number; after: number }>();
  for (const item of items) {
    if (item.kind !== 'cri') continue;
    const c = perFile.get(item.file) ?? { before: 0, after: 0 };
    if (item.at < cut(ROTATE_AT_BURST)) c.before += 1;
    else c.after += 1;
    perFile.set(item.file, c);
  }
  const rotated = [...perFile].filter(([, c]) => c.before > 0 && c.after > 0).sort((a, b) => b[1].before + b[1].after - (a[1].before + a[1].after))[0]?.[0];
  if (rotated === undefined) throw new Error('no log file has lines both before and after the rotation');

  // Every node's log root and journal exist before the agents start; pod log directories appear with the pods
  // (the kubelet creates them with the sandbox, before the first container line, so kill decisions resolve uids).
  for (const node of layout.nodes) {
    mkdirSync(layout.logRoot(node), { recursive: true });
    mkdirSync(layout.checkpoint(node), { recursive: true });
    writeFileSync(layout.journal(node), '');
  }
  for (const f of sim.logs) {
    const uid = f.dir.split('/')[0]?.split('_')[2] ?? '';
    mkdirSync(join(layout.logRoot(nodeOfUid.get(uid) ?? ''), f.dir), { recursive: true });
  }

  const server = await startFakeKubeApiServer();
  servers.push(server);
  const served: Array<{ type: 'ADDED' | 'MODIFIED'; object: Record<string, unknown> }> = [];
  const pods = sim.pods.map((pod) => server.add('pods', pod, { raw: true }));

  const setup = pipelineSetup(`collector-${name}`, 1);
  setups.push(setup);
  const es = elasticFor(setup);
  const correlator = spawnService(setup.env, CORRELATOR);
  const watcher = spawnService({ ...setup.env, KILLTRACE_CLUSTER_WATCHER_KUBECONFIG: server.writeKubeconfig(dir) }, COLLECTOR, ['cluster-watcher']);
  const agents = new Map<string, CorrelatorProcess>();
  const stoppedAgents: CorrelatorProcess[] = [];
  const all = (): CorrelatorProcess[] => [correlator, watcher, ...agents.values()];
  onTestFailed(() => {
    for (const p of all()) console.error(`--- ${p === correlator ? 'correlator' : p === watcher ? 'cluster-watcher' : `node-agent ${[...agents].find(([, a]) => a === p)?.[0] ?? ''}`} (pid ${p.pid ?? '-'}, ${p.running ? 'running' : 'exited'}) ---\n${p.tail(30)}`);
    for (const p of stoppedAgents) console.error(`--- node-agent ${restartNode} before its restart ---\n${p.tail(30)}`);
  });
  const startAgent = async (node: string): Promise<CorrelatorProcess> => {
    const agent = spawnService(nodeAgentEnv(setup, layout, node), COLLECTOR, ['node-agent']);
    agents.set(node, agent);
    await agent.start();
    await agent.ready(60_000);
    return agent;
  };

  // The correlator first (it creates the topics with one partition), then the collectors.
  await correlator.start();
  await correlator.ready(60_000);
  await watcher.start();
  await watcher.ready(60_000);
  for (const node of layout.nodes) await startAgent(node);

  // The stream: per burst, Events to the fake API, journal entries and CRI lines appended in time order.
  const written = new Map<string, number>();
  for (let b = 0; b < BURSTS; b += 1) {
    if (b === ROTATE_AT_BURST) {
      // The kubelet's rotation: rename `N.log` to `N.log.<stamp>`, the runtime reopens and writes a new `N.log`.
      renameSync(rotated, `${rotated}.${rotationStamp(written.get(rotated) ?? cut(b))}`);
    }
    if (b === RESTART_AT_BURST) {
      const agent = agents.get(restartNode) as CorrelatorProcess;
      expect(await agent.stop(), `node agent ${restartNode} exit code on SIGTERM`).toBe(0);
      stoppedAgents.push(agent);
      agents.delete(restartNode);
    }
    for (const item of bursts[b] ?? []) {
      if (item.kind === 'cri') {
        appendFileSync(item.file, item.text);
        written.set(item.file, item.at);
      } else if (item.kind === 'journal') {
        appendFileSync(layout.journal(item.node), item.text);
      } else {
        const meta = item.object.metadata as { namespace: string; name: string };
        const stored = item.type === 'ADDED' ? server.add('events', item.object, { raw: true }) : server.modify('events', meta.namespace, meta.name, () => ({ ...item.object, metadata: { ...meta } }) as never);
        served.push({ type: item.type, object: stored });
      }
    }
    await sleep(BURST_PAUSE_MS);
    if (b === RESTART_AT_BURST) await startAgent(restartNode);
  }
  const restarted = agents.get(restartNode) as CorrelatorProcess;
  expect(restarted.output.join('\n')).toMatch(/"resumed":true/);

  // The same inputs as a bundle: what the fake served, the journals, the final log trees (rotated file included).
  const bundle = join(dir, 'bundle');
  mkdirSync(bundle, { recursive: true });
  const typed = (o: Record<string, unknown>, kind: string): Record<string, unknown> => ({ apiVersion: 'v1', kind, ...o });
  writeFileSync(join(bundle, 'pods.json'), `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: pods.map((p) => typed(p, 'Pod')), metadata: { resourceVersion: '' } }, null, 2)}\n`);
  writeFileSync(join(bundle, 'events.json'), served.map((s) => `${JSON.stringify({ type: s.type, object: typed(s.object, 'Event') }, null, 2)}\n`).join(''));
  for (const node of layout.nodes) {
    copyFileSync(layout.journal(node), join(bundle, `kubelet-${node}.log`));
    cpSync(layout.logRoot(node), join(bundle, 'pods'), { recursive: true });
  }
  const { records } = await runAnalysis({ dir: bundle, clusterName: CLUSTER, referenceYear });
  const expected = new Map(records.map((r) => [restartRecordId(r.kubernetes.pod.uid, r.kubernetes.container.name, r.killtrace.restart.count), withoutStatus(r)]));
  expect(expected.size).toBeGreaterThan(3);

  const timeoutMs = 90_000;
  const { total, docs } = await waitForDocs(es, setup.alias, expected, timeoutMs);
  const difference = describeDifference(docs, expected);
  if (!difference.includes('missing: -\nextra: -\ndiffering: -')) {
    throw new Error(`Elasticsearch did not hold exactly the records of \`killtrace analyze\` within ${timeoutMs} ms:\n${difference}`);
  }
  expect(total, 'hits behind the alias (more than documents = duplicates)').toBe(expected.size);

  for (const p of [...agents.values(), watcher]) expect(await p.stop(), 'collector exit code').toBe(0);
  expect(await correlator.stop()).toBe(0);
  await server.close();
  // The collectors flushed on SIGTERM: the logs topic is complete now.
  const published = await expectEveryLinePublished(setup, sim, bundle, referenceYear);
  return { expected: expected.size, rotated, restartedNode: restartNode, elapsedMs: Date.now() - began, ...published, whileDown };
}

describe('pipeline with real processes: fake API + live node logs -> collectors -> Kafka -> correlator -> Elasticsearch', () => {
  it('host-agent crash loop: Elasticsearch holds exactly the records of `killtrace analyze`, across a rotation and a node agent restart', async () => {
    const result = await runScenario('host', hostAgentCrashloop, 'gpu-node-1');
    console.log(`[collector-pipeline] host-agent-crashloop: ${result.expected} records equal, ${result.lines} app lines and ${result.kubelet} kubelet lines all published (${result.duplicates} more than once; ${result.whileDown.cri} app and ${result.whileDown.journal} journal lines written while the agent was down); rotated ${result.rotated}; restarted ${result.restartedNode}; ${result.elapsedMs} ms`);
  }, 240_000);

  it('shop mixed causes: Elasticsearch holds exactly the records of `killtrace analyze`, across a rotation and a node agent restart', async () => {
    const result = await runScenario('shop', shopInventoryMixed, 'worker-4');
    console.log(`[collector-pipeline] shop-inventory-mixed: ${result.expected} records equal, ${result.lines} app lines and ${result.kubelet} kubelet lines all published (${result.duplicates} more than once; ${result.whileDown.cri} app and ${result.whileDown.journal} journal lines written while the agent was down); rotated ${result.rotated}; restarted ${result.restartedNode}; ${result.elapsedMs} ms`);
  }, 240_000);
});
