import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, appendFile, writeFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Config } from '@killtrace/config';
import { createConsumer, createProducer, ensureTopics, type IncomingMessage, type KillConsumer } from '@killtrace/kafka';
import { createKafkaClient } from '../../libs/kafka/src/testing.js';
import { createLogger } from '@killtrace/logging';
import { logMessageSignals, logsTopicMessageSchema, signalMessageSchema, type LogMessage, type SignalMessage } from '@killtrace/schemas';
import type { z } from 'zod';
import { startNodeAgent, type NodeAgentHandle } from '../../services/collector/src/node-agent/index.js';
import { createPublisherMetrics, createSignalPublisher, type ManagedPublisher } from '../../services/collector/src/publish/index.js';
import type { LogBatchPublisher, SignalPublisher } from '../../services/collector/src/publish/types.js';
import { integrationConfig, uniqueSuffix, waitFor } from './helpers.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const base = integrationConfig();
const kafka = createKafkaClient(base.kafka, { clientId: 'killtrace-it-node-agent' });
const logger = createLogger({ name: 'node-agent-it', level: 'warn', format: 'json' });
const cleanups: (() => Promise<void>)[] = [];
const topicsToDelete: string[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

afterAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: topicsToDelete }).catch(() => undefined);
  await admin.disconnect();
});

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const UID = '5b9f3c1e-7a2d-4e8b-9c41-0d6e2f1a3b7c';
const POD_DIR = `shop_inventory-7d5f8b9c6-k2l9p_${UID}`;

/** One CRI line as containerd writes it. */
function cri(n: number, text: string, tag: 'P' | 'F' = 'F', stream: 'stdout' | 'stderr' = 'stdout'): string {
  return `${new Date(T0 + n).toISOString()} ${stream} ${tag} ${text}\n`;
}

/** One log line as consumed: the lines of a version-2 message are listed one by one, with that message's metadata. */
interface LogLine extends IncomingMessage<LogMessage> {
  /** Lines in the Kafka message this line came in. */
  linesInMessage: number;
  /** The newest line time of that message (its Kafka timestamp). */
  newestInMessage: number;
}

interface Env {
  dir: string;
  logRoot: string;
  checkpointDir: string;
  config: Config;
  topics: { signals: string; logs: string; deadLetter: string };
  logs: LogLine[];
  /** The `v` of every logs message consumed. */
  versions: number[];
  signals: IncomingMessage<SignalMessage>[];
  publisher: ManagedPublisher;
}

async function setup(nodeAgent: Partial<Config['nodeAgent']> = {}): Promise<Env> {
  const suffix = uniqueSuffix();
  const dir = await mkdtemp(join(tmpdir(), 'kt-node-agent-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const logRoot = join(dir, 'pods');
  const checkpointDir = join(dir, 'checkpoints');
  await mkdir(logRoot, { recursive: true });
  const topics = { signals: `kt-it-na-signals-${suffix}`, logs: `kt-it-na-logs-${suffix}`, deadLetter: `kt-it-na-dl-${suffix}` };
  topicsToDelete.push(...Object.values(topics));
  await ensureTopics(kafka, Object.values(topics).map((topic) => ({ topic, partitions: 3, replicationFactor: 1 })));
  const config: Config = {
    ...base,
    kafka: { ...base.kafka, topics: { ...base.kafka.topics, ...topics } },
    nodeAgent: {
      ...base.nodeAgent,
      nodeName: 'worker-3',
      logRoot,
      checkpointDir,
      pollIntervalMs: 50,
      rotateWaitMs: 300,
      checkpointIntervalMs: 0,
      journalMode: 'off',
      kernelJournal: false,
      ...nodeAgent,
    },
  };
  const logs: LogLine[] = [];
  const versions: number[] = [];
  const signals: IncomingMessage<SignalMessage>[] = [];
  await consume(topics.logs, logsTopicMessageSchema, suffix, (m) => {
    versions.push(m.value.v);
    const lines = logMessageSignals(m.value);
    const newestInMessage = Math.max(...lines.map((l) => l.at));
    for (const signal of lines) logs.push({ ...m, value: { v: 1, producer: m.value.producer, signal }, linesInMessage: lines.length, newestInMessage });
  });
  await consume(topics.signals, signalMessageSchema, suffix, (m) => signals.push(m));
  const publisher = newPublisher(config);
  await publisher.connect();
  cleanups.push(() => publisher.close());
  return { dir, logRoot, checkpointDir, config, topics, logs, versions, signals, publisher };
}

function newPublisher(config: Config): ManagedPublisher {
  return createSignalPublisher({
    producer: createProducer(kafka),
    topics: config.kafka.topics,
    producerRef: { component: 'node-agent', instance: 'worker-3' },
    logger,
    metrics: createPublisherMetrics(new Registry()),
  });
}

async function consume<S extends z.ZodType>(topic: string, schema: S, suffix: string, onMessage: (m: IncomingMessage<z.output<S>>) => void): Promise<void> {
  const consumer: KillConsumer<S> = createConsumer(kafka, {
    groupId: `kt-it-na-${topic}-${suffix}`,
    topics: [topic],
    schema,
    fromBeginning: true,
    onInvalid: () => undefined,
  });
  cleanups.push(() => consumer.disconnect());
  void consumer.run(async (m) => {
    onMessage(m);
  });
  await consumer.joined();
}

async function start(env: Env, publisher: SignalPublisher & LogBatchPublisher = env.publisher): Promise<{ agent: NodeAgentHandle; registry: Registry }> {
  const registry = new Registry();
  const agent = await startNodeAgent({ config: env.config, logger, publisher, registry });
  cleanups.push(() => agent.close());
  return { agent, registry };
}

async function containerDir(env: Env, podDir = POD_DIR, container = 'inventory'): Promise<string> {
  const d = join(env.logRoot, podDir, container);
  await mkdir(d, { recursive: true });
  return d;
}

const texts = (env: Env): string[] => env.logs.map((m) => m.value.signal.text);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('node agent (real files, real Kafka)', () => {
  it('publishes lines written live, P chunks joined across writes, in order, keyed by pod uid, redacted', async () => {
    const env = await setup();
    const dir = await containerDir(env);
    await writeFile(join(dir, '2.log'), cri(1, 'starting inventory'));
    const { agent, registry } = await start(env);
    await waitFor('agent ready', () => agent.ready());
    await appendFile(join(dir, '2.log'), cri(2, 'loading ') + cri(3, 'index ', 'P'));
    await sleep(200); // the agent reads the open P chunk and must hold it
    await appendFile(join(dir, '2.log'), cri(4, 'stderr line', 'F', 'stderr') + cri(5, 'part two ', 'P') + cri(6, 'done', 'F'));
    const split = cri(7, 'login password=hunter2 Authorization: Bearer abc.def.ghi');
    await appendFile(join(dir, '2.log'), split.slice(0, 20));
    await sleep(200); // half a physical line: not a line yet
    await appendFile(join(dir, '2.log'), split.slice(20) + cri(8, 'ready'));
    await waitFor('6 log messages', () => env.logs.length >= 6);
    await sleep(300);
    expect(texts(env)).toEqual([
      'starting inventory',
      'loading ',
      'stderr line',
      'index part two done',
      'login password=[REDACTED] Authorization: Bearer [REDACTED]',
      'ready',
    ]);
    for (const m of env.logs) {
      expect(m.key).toBe(UID);
      expect(m.value.producer).toEqual({ component: 'node-agent', instance: 'worker-3' });
      expect(m.value.signal).toMatchObject({ pod: { namespace: 'shop', name: 'inventory-7d5f8b9c6-k2l9p', uid: UID }, container: 'inventory', restartCount: 2 });
      // Version 2: the lines of one read come in one message, stamped with its newest line's time.
      expect(m.value.signal.at).toBeLessThanOrEqual(m.newestInMessage);
      expect(m.timestamp).toBe(Math.floor(m.newestInMessage));
    }
    expect(Math.max(...env.logs.map((m) => m.linesInMessage))).toBeGreaterThan(1);
    expect(env.logs[3]?.value.signal.at).toBe(T0 + 3);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/killtrace_node_agent_redactions_total 2/);
    expect(metrics).toMatch(/killtrace_node_agent_signals_published_total\{input="cri"\} 6/);
    await agent.close();
  });

  it('loses nothing across a rotation mid-stream (rename, late writes to the old file, new file, then gzip)', async () => {
    const env = await setup();
    const dir = await containerDir(env);
    const live = join(dir, '0.log');
    let n = 0;
    const lines = (count: number): string => Array.from({ length: count }, () => cri(++n, `line ${n}`)).join('');
    await writeFile(live, lines(50));
    const { agent, registry } = await start(env);
    await waitFor('first 50', () => env.logs.length >= 50);
    await appendFile(live, lines(30));
    // The kubelet renames; the runtime still writes a few lines to the old file before it reopens.
    const rotated = join(dir, '0.log.20260105-100000');
    await rename(live, rotated);
    await appendFile(rotated, lines(5) + cri(++n, `chunk-a `, 'P'));
    await writeFile(live, cri(++n, 'chunk-b') + lines(40));
    // Then it compresses the rotated file and deletes it.
    await writeFile(`${rotated}.gz`, gzipSync(await readFile(rotated)));
    await unlink(rotated);
    await appendFile(live, lines(20));
    await waitFor('all lines', () => env.logs.length >= 50 + 30 + 5 + 1 + 40 + 20, 20_000);
    await sleep(300);
    const expected = [...Array.from({ length: 85 }, (_, i) => `line ${i + 1}`), 'chunk-a chunk-b', ...Array.from({ length: 60 }, (_, i) => `line ${i + 88}`)];
    expect(texts(env)).toEqual(expected);
    expect(await registry.metrics()).toMatch(/killtrace_node_agent_rotations_total 1/);
    await agent.close();
  });

  it('resumes from its checkpoint after a restart, also when the file was rotated and gzipped meanwhile, without repeats', async () => {
    const env = await setup();
    const dir = await containerDir(env);
    const live = join(dir, '1.log');
    let n = 0;
    const lines = (count: number): string => Array.from({ length: count }, () => cri(++n, `line ${n}`)).join('');
    const hundred = lines(100);
    await writeFile(live, hundred + cri(++n, 'open ', 'P'));
    const first = await start(env);
    await waitFor('100 lines', () => env.logs.length >= 100);
    await sleep(200);
    await first.agent.close();
    const checkpoint = JSON.parse(await readFile(join(env.checkpointDir, 'node-agent-checkpoint.json'), 'utf8')) as { files: { sources: { offset: number }[] }[] };
    // The open P chunk is not acknowledged: the checkpoint stays at its start.
    expect(checkpoint.files[0]?.sources[0]?.offset).toBe(Buffer.byteLength(hundred));
    // While the agent is down: more lines, rotation, compression, a new file.
    await appendFile(live, cri(++n, 'closed') + lines(20));
    const rotated = join(dir, '1.log.20260105-101500');
    await rename(live, rotated);
    await writeFile(`${rotated}.gz`, gzipSync(await readFile(rotated)));
    await unlink(rotated);
    await writeFile(live, lines(30));
    const second = await start(env);
    await waitFor('all lines', () => env.logs.length >= 100 + 1 + 20 + 30, 20_000);
    await sleep(500);
    const expected = [...Array.from({ length: 100 }, (_, i) => `line ${i + 1}`), 'open closed', ...Array.from({ length: 50 }, (_, i) => `line ${i + 103}`)];
    expect(texts(env)).toEqual(expected);
    await second.agent.close();
  });

  it('does not checkpoint what Kafka did not acknowledge: lines refused by a failing publisher are sent after a restart', async () => {
    const env = await setup();
    const dir = await containerDir(env);
    let n = 0;
    const lines = (count: number): string => Array.from({ length: count }, () => cri(++n, `line ${n}`)).join('');
    await writeFile(join(dir, '0.log'), lines(10));
    let failing = false;
    let refused = 0;
    const flaky: SignalPublisher & LogBatchPublisher = {
      publish: async (signals, options) => {
        if (failing) {
          refused += signals.length;
          throw new Error('broker unavailable');
        }
        return env.publisher.publish(signals, options);
      },
      publishLogBatches: async (batches, options) => {
        if (failing) {
          refused += batches.reduce((n, b) => n + b.lines.length, 0);
          throw new Error('broker unavailable');
        }
        return env.publisher.publishLogBatches(batches, options);
      },
      deadLetter: (entry) => env.publisher.deadLetter(entry),
      connected: () => env.publisher.connected(),
    };
    const first = await start(env, flaky);
    await waitFor('10 lines', () => env.logs.length >= 10);
    failing = true;
    await appendFile(join(dir, '0.log'), lines(10));
    await waitFor('refused publishes', () => refused >= 10);
    await first.agent.close();
    expect(env.logs.length).toBe(10);
    const second = await start(env);
    await waitFor('20 lines', () => env.logs.length >= 20);
    await sleep(300);
    expect(texts(env)).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i + 1}`));
    await second.agent.close();
  });

  it('flushes a line cut off by a dying container once a newer incarnation exists, and lets go of a deleted pod', async () => {
    const env = await setup();
    const dir = await containerDir(env);
    await writeFile(join(dir, '0.log'), cri(1, 'first') + cri(2, 'cut off mid-', 'P'));
    const { agent, registry } = await start(env);
    await waitFor('first line', () => env.logs.length >= 1);
    await sleep(500);
    expect(texts(env)).toEqual(['first']);
    await writeFile(join(dir, '1.log'), cri(3, 'restarted'));
    await waitFor('3 lines', () => env.logs.length >= 3);
    expect(texts(env).sort()).toEqual(['cut off mid-', 'first', 'restarted']);
    expect(env.logs.find((m) => m.value.signal.text === 'cut off mid-')?.value.signal.restartCount).toBe(0);
    const followed = async (): Promise<number> => Number(/killtrace_node_agent_files_followed (\d+)/.exec(await registry.metrics())?.[1]);
    expect(await followed()).toBe(2);
    await rm(join(env.logRoot, POD_DIR), { recursive: true, force: true });
    const deadline = Date.now() + 10_000;
    while ((await followed()) !== 0 && Date.now() < deadline) await sleep(100);
    expect(await followed()).toBe(0);
    const checkpoint = JSON.parse(await readFile(join(env.checkpointDir, 'node-agent-checkpoint.json'), 'utf8')) as { files: unknown[] };
    expect(checkpoint.files).toEqual([]);
    await agent.close();
  });

  it('journal file mode: publishes a kill decision with the pod uid resolved from the log tree', async () => {
    const env = await setup({ journalMode: 'file' });
    const journal = join(env.dir, 'kubelet.log');
    env.config.nodeAgent.journalPath = journal;
    await containerDir(env);
    await writeFile(join(env.logRoot, POD_DIR, 'inventory', '0.log'), cri(1, 'hello'));
    await writeFile(
      journal,
      [
        `Jan 05 10:00:01.700000 worker-3 kubelet[2211]: I0105 10:00:01.700000    2211 prober.go:107] "Probe failed" probeType="Liveness" pod="shop/inventory-7d5f8b9c6-k2l9p" podUID="${UID}" containerName="inventory" probeResult="failure" output="Get \\"http://10.0.0.5:8080/ping?token=abc123\\": context deadline exceeded"`,
        'Jan 05 10:00:01.750711 worker-3 kubelet[2211]: I0105 10:00:01.750711    2211 kuberuntime_manager.go:1027] "Message for Container of pod" containerName="inventory" containerStatusID={"Type":"containerd","ID":"0e8e"} pod="shop/inventory-7d5f8b9c6-k2l9p" containerMessage="Container inventory failed liveness probe, will be restarted"',
        'Jan 05 10:00:01.800000 worker-3 kubelet[2211]: I0105 10:00:01.800000    2211 kuberuntime_manager.go:1027] "Message for Container of pod" containerName="web" containerStatusID={"Type":"containerd","ID":"0e8f"} pod="shop/unknown-pod" containerMessage="Container web failed startup probe, will be restarted"',
        '',
      ].join('\n'),
    );
    const { agent } = await start(env);
    await waitFor('3 kubelet signals', () => env.signals.length >= 3);
    // Different keys, different partitions: find each by pod name.
    const byName = (name: string) =>
      env.signals.find((m) => m.value.signal.kind === 'kubelet' && m.value.signal.action === 'kill_decision' && m.value.signal.pod.name === name);
    const resolved = byName('inventory-7d5f8b9c6-k2l9p');
    const unresolved = byName('unknown-pod');
    expect(resolved?.key).toBe(UID);
    expect(resolved?.value.signal).toMatchObject({ kind: 'kubelet', action: 'kill_decision', probeType: 'liveness', container: 'inventory', pod: { namespace: 'shop', name: 'inventory-7d5f8b9c6-k2l9p', uid: UID } });
    expect(unresolved?.key).toBe('shop/unknown-pod');
    const probe = env.signals.find((m) => m.value.signal.kind === 'kubelet' && m.value.signal.action === 'probe_failed')?.value.signal;
    expect(probe).toMatchObject({ probeType: 'liveness', output: 'Get "http://10.0.0.5:8080/ping?token=[REDACTED]": context deadline exceeded' });
    // More lines after a rotation of the kubelet log (logrotate: rename + new file).
    await rename(journal, `${journal}.1`);
    await writeFile(
      journal,
      'Jan 05 10:00:02.000001 worker-3 kubelet[2211]: I0105 10:00:02.000001    2211 kuberuntime_container.go:808] "Killing container with a grace period" pod="shop/inventory-7d5f8b9c6-k2l9p" podUID="' +
        UID +
        '" containerName="inventory" containerID="containerd://0e8e" gracePeriod=30\n',
    );
    await waitFor('4 kubelet signals', () => env.signals.length >= 4);
    expect(env.signals.find((m) => m.value.signal.kind === 'kubelet' && m.value.signal.action === 'killing')?.value.signal).toMatchObject({ gracePeriodSeconds: 30, pod: { uid: UID } });
    await agent.close();
  });

  it('journalctl mode: runs the configured command as JSON, publishes, and resumes after the acknowledged cursor', async () => {
    const env = await setup({ journalMode: 'journalctl' });
    const argsLog = join(env.dir, 'args.log');
    const script = join(env.dir, 'fake-journalctl.sh');
    const entry = (cursor: string, usec: number, msg: string): string =>
      JSON.stringify({ __CURSOR: cursor, __REALTIME_TIMESTAMP: String(usec), _HOSTNAME: 'worker-3', MESSAGE: msg });
    const kill = `I0105 10:00:01.750711    2211 kuberuntime_manager.go:1027] "Message for Container of pod" containerName="inventory" containerStatusID={"Type":"containerd","ID":"0e8e"} pod="shop/inventory-7d5f8b9c6-k2l9p" containerMessage="Container inventory failed liveness probe, will be restarted"`;
    const lines = [entry('s=1;i=1', (T0 + 1000) * 1000, 'I0105 10:00:00.000000    2211 kubelet.go:1] "unrelated"'), entry('s=1;i=2', (T0 + 1750) * 1000, kill)];
    await writeFile(join(env.dir, 'journal.json'), `${lines.join('\n')}\n`);
    await writeFile(
      script,
      `#!/bin/sh\necho "$@" >> '${argsLog}'\ncase "$*" in *after-cursor*) ;; *) cat '${join(env.dir, 'journal.json')}' ;; esac\nexec sleep 600\n`,
    );
    await chmod(script, 0o755);
    env.config.nodeAgent.journalctlCommand = script;
    await containerDir(env);
    await writeFile(join(env.logRoot, POD_DIR, 'inventory', '0.log'), '');
    const first = await start(env);
    await waitFor('kill decision', () => env.signals.length >= 1);
    expect(env.signals[0]?.key).toBe(UID);
    expect(env.signals[0]?.value.signal).toMatchObject({ action: 'kill_decision', container: 'inventory', host: 'worker-3' });
    expect(env.signals[0]?.value.signal.kind === 'kubelet' ? env.signals[0].value.signal.at : 0).toBeCloseTo(T0 + 1750.711, 3);
    await sleep(200);
    await first.agent.close();
    const second = await start(env);
    await waitFor('second journalctl run', () => second.agent.ready());
    await sleep(300);
    await second.agent.close();
    const runs = (await readFile(argsLog, 'utf8')).trim().split('\n');
    expect(runs[0]).toBe('-u kubelet -f -o json --no-pager --since=-1h');
    expect(runs[1]).toBe('-u kubelet -f -o json --no-pager --after-cursor=s=1;i=2');
    expect(env.signals).toHaveLength(1);
  });

  it('kernel journal: follows journalctl -k -o json, publishes the OOM kill keyed by the pod uid of its cgroup, and resumes after the acknowledged cursor', async () => {
    const env = await setup({ kernelJournal: true });
    const argsLog = join(env.dir, 'args.log');
    const script = join(env.dir, 'fake-journalctl.sh');
    const id = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    const cgroup = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID.replace(/-/g, '_')}.slice/cri-containerd-${id}.scope`;
    const entry = (cursor: string, usec: number, msg: string): string =>
      JSON.stringify({ __CURSOR: cursor, __REALTIME_TIMESTAMP: String(usec), _HOSTNAME: 'worker-3', _TRANSPORT: 'kernel', MESSAGE: msg });
    // One memcg OOM report in mm/oom_kill.c's order: dump_header, mem_cgroup_print_oom_meminfo, dump_oom_summary, __oom_kill_process.
    const lines = [
      entry('k=1', (T0 + 1000) * 1000, 'inventory invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=985'),
      entry('k=2', (T0 + 1001) * 1000, 'memory: usage 131072kB, limit 131072kB, failcnt 77'),
      entry('k=3', (T0 + 1002) * 1000, `oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-${id}.scope,mems_allowed=0,oom_memcg=${cgroup},task_memcg=${cgroup},task=inventory,pid=3141,uid=1000`),
      entry('k=4', (T0 + 1003) * 1000, 'Memory cgroup out of memory: Killed process 3141 (inventory) total-vm:400000kB, anon-rss:130000kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:400kB oom_score_adj:985'),
      entry('k=5', (T0 + 2000) * 1000, 'e1000e: eth0 NIC Link is Up'),
    ];
    await writeFile(join(env.dir, 'kernel.json'), `${lines.join('\n')}\n`);
    await writeFile(script, `#!/bin/sh\necho "$@" >> '${argsLog}'\ncase "$*" in *after-cursor*) ;; *) cat '${join(env.dir, 'kernel.json')}' ;; esac\nexec sleep 600\n`);
    await chmod(script, 0o755);
    env.config.nodeAgent.journalctlCommand = script;
    const first = await start(env);
    await waitFor('kernel OOM kill', () => env.signals.length >= 1);
    expect(env.signals[0]?.key).toBe(UID);
    expect(env.signals[0]?.value.signal).toEqual({
      kind: 'kernel_oom',
      at: T0 + 1003,
      host: 'worker-3',
      podUid: UID,
      containerId: id,
      cgroup,
      limitCgroup: cgroup,
      constraint: 'CONSTRAINT_MEMCG',
      process: 'inventory',
      pid: 3141,
      memoryLimitBytes: 131072 * 1024,
      memoryUsageBytes: 131072 * 1024,
      anonRssBytes: 130000 * 1024,
      text: 'Memory cgroup out of memory: Killed process 3141 (inventory) total-vm:400000kB, anon-rss:130000kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:400kB oom_score_adj:985',
      source: { file: 'journalctl -k', line: 4 },
    });
    await sleep(200);
    await first.agent.close();
    const second = await start(env);
    await waitFor('second journalctl -k run', () => second.agent.ready());
    await sleep(300);
    await second.agent.close();
    const runs = (await readFile(argsLog, 'utf8')).trim().split('\n');
    expect(runs[0]).toBe('-k -f -o json --no-pager --since=-1h');
    expect(runs[1]).toBe('-k -f -o json --no-pager --after-cursor=k=5');
    expect(env.signals).toHaveLength(1);
  });

  it('as a real process killed with SIGKILL mid-stream: a restart loses no line and repeats at most the unacknowledged tail', async () => {
    const env = await setup();
    const dir = await containerDir(env);
    const live = join(dir, '0.log');
    await writeFile(live, '');
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      TSX_TSCONFIG_PATH: join(repoRoot, 'tsconfig.check.json'),
      KILLTRACE_CLUSTER_NAME: 'integration',
      KAFKA_BROKERS: env.config.kafka.brokers.join(','),
      KILLTRACE_KAFKA_TOPIC_SIGNALS: env.topics.signals,
      KILLTRACE_KAFKA_TOPIC_LOGS: env.topics.logs,
      KILLTRACE_KAFKA_TOPIC_DEAD_LETTER: env.topics.deadLetter,
      KILLTRACE_KAFKA_PARTITIONS: '3',
      KILLTRACE_HTTP_PORT: '0',
      KILLTRACE_LOG_LEVEL: 'warn',
      KILLTRACE_LOG_FORMAT: 'json',
      KILLTRACE_NODE_NAME: 'worker-3',
      KILLTRACE_NODE_AGENT_LOG_ROOT: env.logRoot,
      KILLTRACE_NODE_AGENT_CHECKPOINT_DIR: env.checkpointDir,
      KILLTRACE_NODE_AGENT_POLL_INTERVAL_MS: '50',
      KILLTRACE_NODE_AGENT_CHECKPOINT_INTERVAL_MS: '0',
      KILLTRACE_NODE_AGENT_JOURNAL_MODE: 'off',
      KILLTRACE_NODE_AGENT_KERNEL_JOURNAL: 'false',
    };
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', `import { main } from ${JSON.stringify(join(repoRoot, 'services/collector/src/main.ts'))}; process.exitCode = await main(['node', 'collector', 'node-agent']);`],
      { cwd: repoRoot, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout?.on('data', (d: Buffer) => (stderr += d.toString()));
    cleanups.push(async () => void child.kill('SIGKILL'));
    let n = 0;
    let writing = true;
    cleanups.push(async () => {
      writing = false;
    });
    const writer = (async () => {
      while (writing) {
        await appendFile(live, Array.from({ length: 20 }, () => cri(++n, `line ${n}`)).join(''));
        await sleep(20);
      }
    })();
    await waitFor('the child to publish', () => env.logs.length >= 200, 45_000).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; child output:\n${stderr}`);
    });
    const killed = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await killed;
    const seenAtKill = env.logs.length;
    await sleep(200);
    writing = false;
    await writer;
    const total = n;
    const { agent } = await start(env);
    await waitFor('every line', () => new Set(texts(env)).size >= total, 30_000);
    await sleep(500);
    await agent.close();
    const all = texts(env);
    expect(new Set(all)).toEqual(new Set(Array.from({ length: total }, (_, i) => `line ${i + 1}`)));
    // Repeats are one contiguous run: the tail that was sent but not yet checkpointed when the process died.
    const firstRepeat = all.findIndex((t, i) => all.indexOf(t) !== i);
    const repeats = all.length - total;
    if (repeats > 0) {
      const start = Number(all[firstRepeat]?.slice(5));
      expect(all.slice(firstRepeat, firstRepeat + repeats)).toEqual(Array.from({ length: repeats }, (_, i) => `line ${start + i}`));
      expect(repeats).toBeLessThanOrEqual(seenAtKill);
    }
    // Each pass is in order.
    expect(all.slice(0, firstRepeat < 0 ? all.length : firstRepeat)).toEqual(Array.from({ length: firstRepeat < 0 ? all.length : firstRepeat }, (_, i) => `line ${i + 1}`));
  });
  it('with nodeAgent.logMessageVersion 1, sends one line per message in the version-1 format (for correlators not yet upgraded)', async () => {
    const env = await setup({ logMessageVersion: 1 });
    const dir = await containerDir(env);
    await writeFile(join(dir, '0.log'), cri(1, 'one') + cri(2, 'two') + cri(3, 'three'));
    const { agent } = await start(env);
    await waitFor('3 lines', () => env.logs.length >= 3);
    await sleep(300);
    expect(texts(env)).toEqual(['one', 'two', 'three']);
    expect(env.logs.map((m) => m.linesInMessage)).toEqual([1, 1, 1]);
    expect(env.logs.map((m) => m.timestamp)).toEqual([T0 + 1, T0 + 2, T0 + 3]);
    expect(env.versions).toEqual([1, 1, 1]);
    await agent.close();
  });
  it('writes checkpoints while it catches up over many files, not only once the whole backlog is published', async () => {
    const env = await setup({ checkpointIntervalMs: 0 });
    const files = 12;
    for (let f = 0; f < files; f++) {
      const uid = `5b9f3c1e-7a2d-4e8b-9c41-${String(f).padStart(12, '0')}`;
      const dir = await containerDir(env, `shop_inventory-${f}_${uid}`);
      await writeFile(join(dir, '0.log'), Array.from({ length: 200 }, (_, i) => cri(i, `file ${f} line ${i}`)).join(''));
    }
    const { agent, registry } = await start(env);
    await waitFor('every line', () => env.logs.length >= files * 200, 30_000);
    const writes = Number(/killtrace_node_agent_checkpoint_writes_total (\d+)/.exec(await registry.metrics())?.[1]);
    await agent.close();
    // One poll cycle read the whole backlog: a checkpoint once per cycle would have been written once.
    expect(writes).toBeGreaterThanOrEqual(files / 3);
    const saved = JSON.parse(await readFile(join(env.checkpointDir, 'node-agent-checkpoint.json'), 'utf8')) as { files: unknown[] };
    expect(saved.files).toHaveLength(files);
  });
});
