/**
 * The correlator's memory and scaling against the real Kafka and Elasticsearch on 127.0.0.1:
 *  - peak RSS (VmHWM) and V8 heap with 1,000 / 5,000 / 20,000 active pods (target: < 300 MB at 5,000; growth no worse
 *    than linear: MB per pod from 5,000 to 20,000 at most 1.25x that from 1,000 to 5,000). Each pod: a snapshot,
 *    `KILLTRACE_BENCH_CORRELATOR_LINES` (20) log lines in version-2 messages, and every tenth pod a liveness kill;
 *  - log lines/s with 1, 2 and 4 partitions and as many correlator processes (one consumer group), and lines per
 *    CPU-second of those processes summed, with the cores of the machine (wall clock cannot grow past them).
 * `--smoke`: 50 / 100 / 200 pods, 2,000 lines.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { ensureTopics } from '../libs/kafka/src/index.js';
import { createKafkaClient } from '../libs/kafka/src/testing.js';
import { signalKey, type Signal } from '../libs/schemas/src/index.js';
import { CorrelatorProcess } from '../test/e2e/process.js';
import type { BenchCase, BenchRow } from './lib/bench-case.js';
import { buildCorrelator, deleteAll, killSignals, message, peakRssMb, podSignal, produceAll, setup, T0, uid, until, type Setup } from './pipeline.bench.js';

/** Version-2 messages per produce call: one partition's record batch must stay under the broker's 1 MiB. */
const BATCHES_PER_SEND = 200;
const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');

/** One version-2 `logs` message with `count` lines of pod `n`. */
function logBatch(n: number, at: number, count: number): { key: string; value: string; timestamp: string } {
  const lines = Array.from({ length: count }, (_, i) => ({ at: at + i, stream: 'stdout', text: `{"level":"info","msg":"request ${i} served","dur_ms":${i % 97}}` }));
  const value = { v: 2, producer: { component: 'test', instance: 'bench' }, batch: { pod: { namespace: 'bench', name: `bench-${n}`, uid: uid(n) }, container: 'app', restartCount: 0, lines } };
  return { key: uid(n), value: JSON.stringify(value), timestamp: String(at + count - 1) };
}

function withPartitions(s: Setup, partitions: number): Setup {
  return { ...s, env: { ...s.env, KILLTRACE_KAFKA_PARTITIONS: String(partitions) } };
}

async function createTopics(s: Setup, partitions: number): Promise<void> {
  const kafka = createKafkaClient(s.config.kafka, { clientId: `topics-${s.suffix}` });
  const t = s.config.kafka.topics;
  await ensureTopics(kafka, [t.signals, t.logs, t.records, t.deadLetter].map((topic) => ({ topic, partitions, replicationFactor: 1 })));
}

interface MemoryFigure {
  pods: number;
  rssMb: number;
  heapMb: number;
  statePods: number;
  seconds: number;
}

async function memoryAt(pods: number, linesPerPod: number): Promise<MemoryFigure> {
  const s = setup(`mem${pods}`);
  const p = new CorrelatorProcess(s.env);
  try {
    await p.start();
    await p.ready(120_000);
    const kafka = createKafkaClient(s.config.kafka, { clientId: `mem-${s.suffix}` });
    const now0 = T0 + 60_000;
    const signals: Array<{ key: string; value: string; timestamp: string }> = [];
    const logs: Array<{ key: string; value: string; timestamp: string }> = [];
    for (let n = 0; n < pods; n++) {
      signals.push(message(podSignal(n, now0), now0));
      logs.push(logBatch(n, now0 + 1_000 + n, linesPerPod));
      if (n % 10 === 0) for (const k of killSignals(n, now0 + 120_000 + n)) signals.push(message(k, now0 + 120_000 + n));
    }
    const started = Date.now();
    await produceAll(kafka, s.config.kafka.topics.signals, signals);
    await produceAll(kafka, s.config.kafka.topics.logs, logs, BATCHES_PER_SEND);
    const total = signals.length + logs.length;
    await until('the correlator to consume every message', async () => (await p.metric('killtrace_correlator_messages_total', { phase: 'live' })) >= total, 600_000);
    const seconds = (Date.now() - started) / 1000;
    return {
      pods,
      rssMb: peakRssMb(p.pid),
      heapMb: (await p.metric('killtrace_nodejs_heap_size_used_bytes')) / 1_048_576,
      statePods: await p.metric('killtrace_correlator_state_pods'),
      seconds,
    };
  } finally {
    await p.stop();
    await deleteAll(s);
  }
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** User+system CPU seconds a process has used so far (Linux /proc). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

interface ScaleFigure {
  partitions: number;
  rate: number;
  /** Lines per CPU-second of the correlator processes, summed: what a process costs, whatever the cores. */
  perCpu: number;
}

async function linesPerSecond(partitions: number, lines: number): Promise<ScaleFigure> {
  const s = withPartitions(setup(`scale${partitions}`), partitions);
  await createTopics(s, partitions);
  const processes = Array.from({ length: partitions }, () => new CorrelatorProcess(s.env));
  try {
    for (const p of processes) await p.start();
    for (const p of processes) await p.ready(120_000);
    const kafka = createKafkaClient(s.config.kafka, { clientId: `scale-${s.suffix}` });
    const pods = 1_000;
    const perMessage = 20;
    const messages = Array.from({ length: Math.ceil(lines / perMessage) }, (_, i) => logBatch(i % pods, T0 + i * perMessage, perMessage));
    const pod: Signal[] = Array.from({ length: pods }, (_, n) => podSignal(n, T0));
    await produceAll(kafka, s.config.kafka.topics.signals, pod.map((sig) => ({ key: signalKey(sig), value: JSON.stringify({ v: 1, producer: { component: 'test', instance: 'bench' }, signal: sig }), timestamp: String(T0) })));
    const consumed = async (): Promise<number> => {
      let sum = 0;
      for (const p of processes) sum += await p.metric('killtrace_correlator_messages_total', { phase: 'live', topic: s.config.kafka.topics.logs });
      return sum;
    };
    const cpuAt = (): number => processes.reduce((n, p) => n + cpuSeconds(p.pid), 0);
    const cpuBefore = cpuAt();
    const started = Date.now();
    await produceAll(kafka, s.config.kafka.topics.logs, messages, BATCHES_PER_SEND);
    await until('the correlators to consume every line', async () => (await consumed()) >= messages.length, 600_000);
    const total = messages.length * perMessage;
    return { partitions, rate: total / ((Date.now() - started) / 1000), perCpu: total / (cpuAt() - cpuBefore) };
  } finally {
    for (const p of processes) await p.stop();
    await deleteAll(s);
  }
}

const correlatorBench: BenchCase = {
  name: 'correlator',
  description: 'correlator peak RSS at 1,000/5,000/20,000 pods; lines/s with 1, 2, 4 partitions and processes',
  async run({ smoke, report }) {
    buildCorrelator();
    const sizes = smoke ? [50, 100, 200] : [1_000, 5_000, 20_000];
    const linesPerPod = Number(process.env.KILLTRACE_BENCH_CORRELATOR_LINES ?? 20);
    const figures: MemoryFigure[] = [];
    for (const pods of sizes) figures.push(await memoryAt(pods, linesPerPod));
    const [small, mid, large] = figures as [MemoryFigure, MemoryFigure, MemoryFigure];
    const perPodLow = (mid.rssMb - small.rssMb) / (mid.pods - small.pods);
    const perPodHigh = (large.rssMb - mid.rssMb) / (large.pods - mid.pods);
    report({
      title: `correlator memory: pods active (a snapshot, ${linesPerPod} log lines, a kill for every tenth)`,
      columns: figures.map((f) => `${fmt(f.pods)} pods`),
      rows: [
        { metric: 'peak RSS (VmHWM) MB', cells: figures.map((f) => fmt(f.rssMb)) },
        { metric: 'V8 heap used at the end MB', cells: figures.map((f) => fmt(f.heapMb)) },
        { metric: 'pods in state', cells: figures.map((f) => fmt(f.statePods)) },
        { metric: 'seconds to consume', cells: figures.map((f) => fmt(f.seconds, 1)) },
      ],
      notes: [`RSS per added pod: ${fmt(perPodLow * 1024, 1)} KB (${fmt(small.pods)} -> ${fmt(mid.pods)}), ${fmt(perPodHigh * 1024, 1)} KB (${fmt(mid.pods)} -> ${fmt(large.pods)})`],
    });
    const lines = smoke ? 2_000 : Number(process.env.KILLTRACE_BENCH_CORRELATOR_SCALE_LINES ?? 200_000);
    const scale: ScaleFigure[] = [];
    for (const partitions of [1, 2, 4]) scale.push(await linesPerSecond(partitions, lines));
    const cores = availableParallelism();
    const first = scale[0];
    report({
      title: `correlator scaling: ${fmt(lines)} log lines (version 2, 20 per message), N partitions and N correlator processes, ${cores} cores`,
      columns: scale.map((x) => `${x.partitions} x`),
      rows: [
        { metric: 'lines/s (wall clock)', cells: scale.map((x) => fmt(x.rate)) },
        { metric: 'vs 1 process', cells: scale.map((x) => `${fmt(x.rate / (first?.rate ?? Number.NaN), 2)}x`) },
        { metric: 'lines per CPU-second (processes summed)', cells: scale.map((x) => fmt(x.perCpu)) },
        { metric: 'per CPU-second vs 1 process', cells: scale.map((x) => `${fmt(x.perCpu / (first?.perCpu ?? Number.NaN), 2)}x`) },
      ],
      notes: [
        `${cores} cores on this machine, shared with Kafka and Elasticsearch: wall-clock lines/s cannot grow past what ${cores} cores give, whatever the process count.`,
        'Lines per CPU-second staying level as processes are added is what scaling out needs: each process does the same work per line, so with a core per process the wall-clock figure would grow with them.',
      ],
    });
    const rows: BenchRow[] = [
      { metric: `correlator peak RSS, ${fmt(mid.pods)} pods`, value: fmt(mid.rssMb), unit: 'MB', target: '< 300', ok: mid.rssMb < 300 },
      { metric: 'RSS growth per pod, high / low range', value: fmt(perPodHigh / perPodLow, 2), target: '<= 1.25 (linear)', ok: perPodHigh / perPodLow <= 1.25 },
      ...scale.map((x) => ({ metric: `lines/s, ${x.partitions} partition(s) and process(es), ${cores} cores`, value: fmt(x.rate), unit: `(${fmt(x.perCpu)} lines per CPU-second)` })),
    ];
    return rows;
  },
};

export default correlatorBench;
