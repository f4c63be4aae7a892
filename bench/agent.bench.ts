/**
 * The node agent against real log shippers, into the same real Kafka broker (127.0.0.1), in one run:
 *  - `kcat -P -l` (librdkafka) producing the same CRI lines from one file: the librdkafka ceiling on this machine;
 *  - rsyslog `imfile` + `omkafka` (a C shipper on librdkafka) tailing the same tree, started as a plain process with a
 *    configuration this file writes;
 *  - the node agent (`killtrace-collector node-agent`, the real binary) tailing the same tree.
 * The tree is `<root>/<ns>_<pod>_<uid>/app/0.log` with realistic CRI lines (80-300 bytes); the tailers start on 90 %
 * of each file, and once they run every tenth file is rotated (renamed `0.log.<date>`, a new `0.log` gets the rest)
 * while the others grow by the rest. Every shipper produces with acks=all and idempotence and is done when every
 * line is acknowledged. Figures: lines/s from spawn to the last acknowledgement, lines per CPU-second (user+system of
 * the shipper process), peak RSS (VmHWM), bytes the broker stored for the topic.
 * The agent runs twice: as shipped (NODE_OPTIONS as the DaemonSets set it, NODE_AGENT_NODE_OPTIONS of
 * services/collector/src/node-agent/v8-heap.ts; env KILLTRACE_BENCH_AGENT_NODE_OPTIONS replaces it) and with V8's own
 * heap defaults (no NODE_OPTIONS, KILLTRACE_NODE_AGENT_V8_HEAP_DEFAULTS=false), to show what the flags buy.
 * With env KILLTRACE_BENCH_AGENT_NODE set to another node binary (e.g. `"$(bash scripts/node24.sh)/node"`, the images'
 * Node 24), the agent as shipped runs once more on it (without NODE_OPTIONS it would restart itself with the same flags).
 * Sizes: env KILLTRACE_BENCH_AGENT_PODS (200) x KILLTRACE_BENCH_AGENT_LINES (10,000); `--smoke`: 6 x 300.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { once } from 'node:events';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTopics } from '../libs/kafka/src/index.js';
import { createKafkaClient } from '../libs/kafka/src/testing.js';
import { loadConfig } from '../libs/config/src/index.js';
import { rng } from '../test/scenarios/format.js';
import { CorrelatorProcess } from '../test/e2e/process.js';
import { NODE_AGENT_NODE_OPTIONS } from '../services/collector/src/node-agent/v8-heap.js';
import type { BenchCase, BenchRow } from './lib/bench-case.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const PARTITIONS = 3;
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const KAFKA_DATA = process.env.KILLTRACE_BENCH_KAFKA_DATA ?? join(homedir(), '.cache/killtrace/stack/run/kafka/data');

interface Tree {
  root: string;
  files: string[];
  /** The last 10 % of each file, written once the shippers run. */
  rest: string[];
  lines: number;
  bytes: number;
}

const WORDS = ['request', 'served', 'cache', 'miss', 'hit', 'upstream', 'latency', 'batch', 'flushed', 'rows', 'shard', 'tenant', 'session', 'token', 'refresh', 'queue', 'depth', 'retry', 'backoff', 'checkpoint'];

/** Deterministic CRI logs for `pods` pods of `linesPerPod` lines (80-300 bytes), 90 % on disk, the rest kept. */
function writeTree(dir: string, pods: number, linesPerPod: number, all?: string): Tree {
  const random = rng(7);
  const pool: string[] = [];
  for (let i = 0; i < 1024; i++) {
    const target = 40 + Math.floor(random() * random() * 220) + Math.floor(random() * 40);
    let msg = '';
    while (msg.length < target - 60) msg += `${WORDS[Math.floor(random() * WORDS.length)] ?? 'x'} `;
    pool.push(`{"level":"${random() < 0.85 ? 'info' : 'warn'}","msg":"${msg.trim()}","trace_id":"${Math.floor(random() * 2 ** 48).toString(16)}","dur_ms":${Math.floor(random() * 900)}}`);
  }
  const tree: Tree = { root: join(dir, 'pods'), files: [], rest: [], lines: 0, bytes: 0 };
  if (all !== undefined) writeFileSync(all, '');
  // Recent line times: the node agent stamps messages with them, and the broker's retention (24 h in scripts/stack.sh)
  // would delete rolled segments of older ones before their bytes are counted.
  const t0 = Math.floor(Date.now() / 1000) * 1000 - 600_000;
  for (let p = 0; p < pods; p++) {
    const uid = `${p.toString(16).padStart(8, '0')}-7a2d-4e8b-9c41-0d6e2f1a3b7c`;
    const file = join(tree.root, `bench_svc-${p}-6d5c4b3a2-x${p}_${uid}`, 'app', '0.log');
    mkdirSync(dirname(file), { recursive: true });
    let head = '';
    let rest = '';
    for (let i = 0; i < linesPerPod; i++) {
      const line = `${new Date(t0 + i * 10).toISOString()} ${i % 17 === 0 ? 'stderr' : 'stdout'} F ${pool[(p * 31 + i) % pool.length] ?? ''}\n`;
      if (i < Math.floor(linesPerPod * 0.9)) head += line;
      else rest += line;
      tree.bytes += Buffer.byteLength(line);
    }
    writeFileSync(file, head);
    if (all !== undefined) appendFileSync(all, head + rest);
    tree.files.push(file);
    tree.rest.push(rest);
    tree.lines += linesPerPod;
  }
  return tree;
}

/**
 * Once a shipper has delivered what was on disk at its start (as a shipper that keeps up would have): every tenth file
 * rotated by rename (the rest in a new `0.log`), the others appended to.
 */
function rotateAndGrow(tree: Tree): void {
  tree.files.forEach((file, i) => {
    if (i % 10 === 3) {
      renameSync(file, `${file}.20261130-090000`);
      writeFileSync(file, tree.rest[i] ?? '');
    } else {
      appendFileSync(file, tree.rest[i] ?? '');
    }
  });
}

const headLines = (tree: Tree): number => tree.lines - tree.rest.reduce((n, r) => n + (r.match(/\n/g)?.length ?? 0), 0);

interface ProcStat {
  cpuSeconds: number;
  peakRssMb: number;
}

function procStat(pid: number): ProcStat {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);
  return { cpuSeconds, peakRssMb: kb / 1024 };
}

/** Bytes the broker stored for the topic (its partitions' segment files), when the local stack's data dir is known. */
function topicBytes(topic: string): number {
  if (!existsSync(KAFKA_DATA)) return Number.NaN;
  let sum = 0;
  for (const d of readdirSync(KAFKA_DATA)) {
    if (!/-\d+$/.test(d) || d.slice(0, d.lastIndexOf('-')) !== topic) continue;
    for (const f of readdirSync(join(KAFKA_DATA, d))) if (f.endsWith('.log')) sum += statSync(join(KAFKA_DATA, d, f)).size;
  }
  return sum;
}

/** The second agent run: V8's own heap sizing (no flags, and the agent told not to restart with its own). */
const V8_DEFAULTS = 'V8 heap defaults';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Shipped {
  name: string;
  lines: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  bytes: number;
  complete: boolean;
}

const kafka = createKafkaClient(loadConfig({ env: { KILLTRACE_CLUSTER_NAME: 'bench', KAFKA_BROKERS: BROKERS } }).kafka, { clientId: 'kt-bench-agent' });

async function topicMessages(topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

async function withTopics<T>(topics: string[], run: () => Promise<T>): Promise<T> {
  await ensureTopics(kafka, topics.map((topic) => ({ topic, partitions: PARTITIONS, replicationFactor: 1 })));
  try {
    return await run();
  } finally {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  }
}

/** Polls `count` until it reaches `total`; gives up (false) once it has not grown for `stallMs`. */
async function waitFor(what: string, count: () => Promise<number>, total: number, stallMs: number): Promise<boolean> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    let n = last;
    try {
      n = await count();
    } catch {
      // not answering yet
    }
    if (n >= total) return true;
    if (n !== last) {
      last = n;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > stallMs) {
      console.error(`bench: ${what}: stalled at ${n} of ${total} lines for ${stallMs / 1000} s; giving up`);
      return false;
    }
    await sleep(100);
  }
}

function requireTool(tool: string, pkg: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
  if (found === '') throw new Error(`${tool} not found: install the Debian package ${pkg} (.ci/run does)`);
  return found;
}

async function runKcat(dir: string, pods: number, linesPerPod: number, suffix: string): Promise<Shipped> {
  const kcat = requireTool('kcat', 'kcat');
  const all = join(dir, 'all.log');
  const tree = writeTree(dir, pods, linesPerPod, all);
  const topic = `kt-bench-agent-kcat-${suffix}`;
  return withTopics([topic], async () => {
    const started = performance.now();
    const args = ['-f', 'KT_TIME %U %S %M', kcat, '-P', '-b', BROKERS, '-t', topic, '-X', 'acks=all', '-X', 'enable.idempotence=true', '-l', all];
    const child = spawn(requireTool('time', 'time'), args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const [code] = (await once(child, 'exit')) as [number | null];
    const seconds = (performance.now() - started) / 1000;
    const m = /KT_TIME (\S+) (\S+) (\d+)/.exec(err);
    if (code !== 0 || !m) throw new Error(`kcat failed (exit ${code}): ${err.slice(-2000)}`);
    const lines = await topicMessages(topic);
    return { name: '`kcat -P` (librdkafka)', lines, seconds, cpuSeconds: Number(m[1]) + Number(m[2]), peakRssMb: Number(m[3]) / 1024, bytes: topicBytes(topic), complete: lines >= tree.lines };
  });
}

async function runRsyslog(dir: string, pods: number, linesPerPod: number, suffix: string, stallMs: number): Promise<Shipped> {
  const rsyslogd = requireTool('rsyslogd', 'rsyslog');
  const modules = ['/usr/lib/x86_64-linux-gnu/rsyslog', '/usr/lib/rsyslog', '/usr/lib64/rsyslog'].find((d) => existsSync(join(d, 'omkafka.so')));
  if (modules === undefined) throw new Error('omkafka.so not found: install the Debian package rsyslog-kafka (.ci/run does)');
  const tree = writeTree(dir, pods, linesPerPod);
  const topic = `kt-bench-agent-rsyslog-${suffix}`;
  const work = join(dir, 'rsyslog-work');
  mkdirSync(work, { recursive: true });
  const conf = join(dir, 'rsyslog.conf');
  writeFileSync(
    conf,
    [
      `global(workDirectory="${work}" maxMessageSize="64k")`,
      `module(load="${modules}/imfile.so" mode="inotify")`,
      `module(load="${modules}/omkafka.so")`,
      `template(name="line" type="string" string="%msg%")`,
      `input(type="imfile" file="${tree.root}/*/*/*.log" tag="kt" ruleset="kafka" reopenOnTruncate="on")`,
      `ruleset(name="kafka") {`,
      `  action(type="omkafka" broker=["${BROKERS}"] topic="${topic}" template="line" partitions.auto="on"`,
      `         confParam=["enable.idempotence=true"] topicConfParam=["request.required.acks=-1"])`,
      `}`,
      '',
    ].join('\n'),
  );
  return withTopics([topic], async () => {
    const started = performance.now();
    const child = spawn(rsyslogd, ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    try {
      const count = (): Promise<number> => topicMessages(topic);
      const caughtUp = await waitFor('rsyslog catch-up', count, headLines(tree), stallMs);
      rotateAndGrow(tree);
      const complete = caughtUp && (await waitFor('rsyslog', count, tree.lines, stallMs));
      const seconds = (performance.now() - started) / 1000;
      if (child.pid === undefined || child.exitCode !== null) throw new Error(`rsyslogd exited: ${out.slice(-2000)}`);
      const stat = procStat(child.pid);
      const lines = await topicMessages(topic);
      return { name: 'rsyslog imfile + omkafka', lines, seconds, ...stat, bytes: topicBytes(topic), complete };
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
}

/** The `--version` of a node binary. */
const nodeVersion = (node: string): string => spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();

async function runAgent(dir: string, pods: number, linesPerPod: number, suffix: string, stallMs: number, nodeOptions: string, node = process.execPath): Promise<Shipped & { checkpoints: number }> {
  const tree = writeTree(dir, pods, linesPerPod);
  const v8Defaults = nodeOptions === V8_DEFAULTS;
  const other = node === process.execPath ? '' : `-${nodeVersion(node).replace(/\W/g, '')}`;
  const tag = `${v8Defaults ? `${suffix}-v8` : suffix}${other}`;
  const topics = { signals: `kt-bench-agent-signals-${tag}`, logs: `kt-bench-agent-logs-${tag}`, deadLetter: `kt-bench-agent-dl-${tag}` };
  return withTopics(Object.values(topics), async () => {
    const env = {
      KILLTRACE_CLUSTER_NAME: 'bench',
      KAFKA_BROKERS: BROKERS,
      KILLTRACE_KAFKA_PARTITIONS: String(PARTITIONS),
      KILLTRACE_KAFKA_TOPIC_SIGNALS: topics.signals,
      KILLTRACE_KAFKA_TOPIC_LOGS: topics.logs,
      KILLTRACE_KAFKA_TOPIC_DEAD_LETTER: topics.deadLetter,
      KILLTRACE_KAFKA_TOPIC_RECORDS: `kt-bench-agent-records-${tag}`,
      KILLTRACE_NODE_AGENT_LOG_ROOT: tree.root,
      KILLTRACE_NODE_AGENT_CHECKPOINT_DIR: join(dir, 'checkpoints'),
      KILLTRACE_NODE_AGENT_JOURNAL_MODE: 'off',
      KILLTRACE_NODE_AGENT_NODE_NAME: 'bench-node',
      KILLTRACE_LOG_LEVEL: 'warn',
      KILLTRACE_LOG_FORMAT: 'json',
      // KILLTRACE_BENCH_AGENT_NODE_OPTIONS may add e.g. `--heapsnapshot-signal=SIGUSR2` (`--cpu-prof` is refused there).
      ...(v8Defaults ? { KILLTRACE_NODE_AGENT_V8_HEAP_DEFAULTS: 'false' } : { NODE_OPTIONS: nodeOptions }),
    };
    const agent = new CorrelatorProcess(env, 'services/collector/bin/killtrace-collector.js', ['node-agent'], node);
    const started = performance.now();
    await agent.start();
    try {
      const published = (): Promise<number> => agent.metric('killtrace_node_agent_signals_published_total', { input: 'cri' });
      const caughtUp = await waitFor('node agent catch-up', published, headLines(tree), stallMs);
      rotateAndGrow(tree);
      const complete = caughtUp && (await waitFor('node agent', published, tree.lines, stallMs));
      const seconds = (performance.now() - started) / 1000;
      if (agent.pid === undefined || !agent.running) throw new Error(`the node agent exited:\n${agent.tail()}`);
      const stat = procStat(agent.pid);
      const lines = await published();
      const checkpoints = await agent.metric('killtrace_node_agent_checkpoint_writes_total');
      const on = `Node ${nodeVersion(node)}`;
      return { name: v8Defaults ? `node agent, V8 heap defaults (no NODE_OPTIONS), ${on}` : `node agent as shipped (NODE_OPTIONS=${nodeOptions}), ${on}`, lines, seconds, ...stat, bytes: topicBytes(topics.logs), complete, checkpoints };
    } finally {
      await agent.stop();
    }
  });
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');

const agentBench: BenchCase = {
  name: 'node-agent',
  description: 'node agent vs rsyslog imfile+omkafka and kcat -P, CRI logs into the same broker',
  async run({ smoke, keep, report }) {
    const pods = smoke ? 6 : Number(process.env.KILLTRACE_BENCH_AGENT_PODS ?? 200);
    const linesPerPod = smoke ? 300 : Number(process.env.KILLTRACE_BENCH_AGENT_LINES ?? 10_000);
    const stallMs = 20_000;
    const built = spawnSync('npx', ['tsc', '-b', 'services/collector'], { cwd: root, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`building the collector failed: ${built.stdout}${built.stderr}`);
    const base = join(process.env.KILLTRACE_BENCH_DIR ?? tmpdir(), `kt-bench-agent-${Date.now().toString(36)}`);
    const suffix = Date.now().toString(36);
    const results: Shipped[] = [];
    let checkpoints = Number.NaN;
    let otherAgent: Shipped | undefined;
    try {
      const dirOf = (name: string): string => {
        const d = join(base, name);
        mkdirSync(d, { recursive: true });
        return d;
      };
      console.error('bench: node-agent: kcat...');
      results.push(await runKcat(dirOf('kcat'), pods, linesPerPod, suffix));
      rmSync(join(base, 'kcat'), { recursive: true, force: true });
      console.error('bench: node-agent: rsyslog...');
      results.push(await runRsyslog(dirOf('rsyslog'), pods, linesPerPod, suffix, stallMs));
      rmSync(join(base, 'rsyslog'), { recursive: true, force: true });
      console.error('bench: node-agent: the node agent...');
      const shipped = process.env.KILLTRACE_BENCH_AGENT_NODE_OPTIONS ?? NODE_AGENT_NODE_OPTIONS;
      const agent = await runAgent(dirOf('agent'), pods, linesPerPod, suffix, stallMs, shipped);
      checkpoints = agent.checkpoints;
      results.push(agent);
      rmSync(join(base, 'agent'), { recursive: true, force: true });
      const otherNode = process.env.KILLTRACE_BENCH_AGENT_NODE;
      if (otherNode !== undefined && otherNode !== '') {
        console.error(`bench: node-agent: the node agent on ${nodeVersion(otherNode)}...`);
        otherAgent = await runAgent(dirOf('agent-other-node'), pods, linesPerPod, suffix, stallMs, shipped, otherNode);
        rmSync(join(base, 'agent-other-node'), { recursive: true, force: true });
      }
      // The same agent on V8's own heap sizing: what the shipped flags buy (and cost).
      console.error('bench: node-agent: the node agent with V8 heap defaults...');
      results.push(
        await runAgent(dirOf('agent-v8-defaults'), pods, linesPerPod, suffix, stallMs, V8_DEFAULTS).catch((error: unknown) => {
          console.error(`bench: node-agent: the agent on V8 heap defaults failed: ${String(error).slice(0, 2000)}`);
          return { name: 'node agent, V8 heap defaults (FAILED)', lines: 0, seconds: Number.NaN, cpuSeconds: Number.NaN, peakRssMb: Number.NaN, bytes: Number.NaN, complete: false };
        }),
      );
    } finally {
      if (!keep) rmSync(base, { recursive: true, force: true });
    }
    const total = pods * linesPerPod;
    const rate = (r: Shipped): number => r.lines / r.seconds;
    const perCpu = (r: Shipped): number => r.lines / r.cpuSeconds;
    const [kcat, rsyslog, agent, v8] = results as [Shipped, Shipped, Shipped, Shipped];
    // The other Node's row goes after the shipped one, so the table reads shipped, shipped elsewhere, V8 defaults.
    if (otherAgent !== undefined) results.splice(3, 0, otherAgent);
    report({
      title: `node agent vs peers: ${pods} pods x ${linesPerPod.toLocaleString('en-US')} CRI lines (${total.toLocaleString('en-US')} lines), rotation during the run, acks=all`,
      columns: ['lines/s', 'lines per CPU-second', 'peak RSS MB', 'bytes produced MB', 'lines acked', 'lines/CPU-s vs rsyslog'],
      rows: results.map((r) => ({
        metric: r.name,
        cells: [fmt(rate(r)), fmt(perCpu(r)), fmt(r.peakRssMb), fmt(r.bytes / 1e6, 1), `${fmt(r.lines)}${r.complete ? '' : ' INCOMPLETE'}`, Number.isFinite(perCpu(r) / perCpu(rsyslog)) ? `${fmt(perCpu(r) / perCpu(rsyslog), 2)}x` : 'n/a'],
      })),
      notes: [`node agent checkpoint writes during the run: ${fmt(checkpoints)} in ${fmt(agent.seconds, 1)} s`],
    });
    const rows: BenchRow[] = [
      { metric: 'node agent lines/s', value: fmt(rate(agent)), unit: `(${fmt(agent.seconds, 1)} s, ${fmt(agent.cpuSeconds, 1)} CPU-s)` },
      { metric: 'node agent lines per CPU-second / rsyslog', value: fmt(perCpu(agent) / perCpu(rsyslog), 2), target: '>= 1.0', ok: perCpu(agent) >= perCpu(rsyslog) },
      { metric: 'node agent lines per CPU-second', value: fmt(perCpu(agent)), target: '>= 50,000', ok: perCpu(agent) >= 50_000 },
      { metric: `node agent peak RSS (VmHWM, ${process.version})`, value: fmt(agent.peakRssMb), unit: 'MB', target: '<= 104.9 (100 MiB)', ok: agent.peakRssMb <= 104.9 },
      { metric: 'node agent lines/s / kcat', value: fmt(rate(agent) / rate(kcat), 2) },
      ...(otherAgent === undefined
        ? []
        : [
            { metric: `node agent on ${otherAgent.name.slice(otherAgent.name.lastIndexOf('Node '))}: lines per CPU-second / rsyslog`, value: fmt(perCpu(otherAgent) / perCpu(rsyslog), 2), target: '>= 1.0', ok: perCpu(otherAgent) >= perCpu(rsyslog) },
            { metric: `node agent on ${otherAgent.name.slice(otherAgent.name.lastIndexOf('Node '))}: peak RSS (VmHWM)`, value: fmt(otherAgent.peakRssMb), unit: 'MB', target: '<= 104.9 (100 MiB)', ok: otherAgent.peakRssMb <= 104.9 },
          ]),
      { metric: 'node agent on V8 heap defaults: lines per CPU-second, peak RSS', value: `${fmt(perCpu(v8))}, ${fmt(v8.peakRssMb)} MB` },
      { metric: 'every shipper delivered every line', value: results.every((r) => r.complete) ? 'yes' : results.filter((r) => !r.complete).map((r) => r.name).join(', '), target: 'yes', ok: results.every((r) => r.complete) },
    ];
    return rows;
  },
};

export default agentBench;
