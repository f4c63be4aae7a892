/**
 * The pipeline's figure (log lines/s, Kafka -> correlator) with each Kafka client, for decision 0013
 * (docs/decisions/0013-kafka-client.md): the same lines produced and consumed by the correlator's own Pipeline, once
 * all on kafkajs (the product: services/correlator/bin, the lines produced by kafkajs) and once all on
 * `@platformatic/kafka` 1.35.0 (the lines produced by its Producer, the correlator's consumer-group member
 * bench/lib/platformatic-batch-consumer.ts via bench/lib/correlator-platformatic.ts; the rest of the service, its
 * producer, topic setup and replay planning stay on kafkajs). Runs kafkajs, platformatic, platformatic, kafkajs in
 * fresh topics and groups and keeps each client's best run. Per run also the correlator's CPU seconds (from /proc),
 * so lines per correlator CPU-second compare the consuming work itself on a shared machine.
 * `KILLTRACE_BENCH_CPU_PROF=<dir>` writes a V8 CPU profile of each correlator's throughput phase into <dir>
 * (bench/lib/cpu-profiled.mjs; summarise with `node bench/lib/cpu-profile-summary.mjs <files>`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compatibilityPartitioner, ProduceAcks, Producer } from '@platformatic/kafka';
import { createKafkaClient } from '../../libs/kafka/src/testing.js';
import { CorrelatorProcess } from '../../test/e2e/process.js';
import type { BenchRow, PeerTable } from './bench-case.js';

export type PipelineClient = 'kafkajs' | 'platformatic';

/** The parts of bench/pipeline.bench.ts this module reuses (passed in, so no import cycle). */
export interface PipelineKit<S extends RunSetup = RunSetup> {
  setup(name: string): S;
  deleteAll(s: S): Promise<void>;
  until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void>;
  produceAll(kafka: ReturnType<typeof createKafkaClient>, topic: string, messages: LineMessage[]): Promise<void>;
}

/** A run's fresh topics, group and index (bench/pipeline.bench.ts `setup`). */
export interface RunSetup {
  suffix: string;
  env: Record<string, string>;
  config: { kafka: Parameters<typeof createKafkaClient>[0] };
}

export interface LineMessage {
  key: string;
  value: string;
  timestamp: string;
}

interface Run {
  client: PipelineClient;
  /** First message sent to the correlator's count reaching every line. */
  ms: number;
  /** First message sent to the last send acknowledged. */
  produceMs: number;
  /** The correlator process's user + system CPU over `ms`. */
  cpuSeconds: number;
}

/** utime + stime of a process, seconds (USER_HZ is 100 on Linux). */
function cpuSecondsOf(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function producePlatformatic(brokers: readonly string[], clientId: string, topic: string, messages: readonly LineMessage[], perSend = 2_000): Promise<void> {
  // As the kafkajs side (bench/pipeline.bench.ts produceAll): not idempotent, acks=all, Java-compatible partitioner.
  const producer = new Producer({ clientId, bootstrapBrokers: [...brokers], acks: ProduceAcks.ALL, partitioner: compatibilityPartitioner, autocreateTopics: false });
  try {
    for (let i = 0; i < messages.length; i += perSend) {
      await producer.send({
        messages: messages.slice(i, i + perSend).map((m) => ({ topic, key: Buffer.from(m.key), value: Buffer.from(m.value), timestamp: BigInt(m.timestamp) })),
      });
    }
  } finally {
    await producer.close();
  }
}

async function runOnce<S extends RunSetup>(kit: PipelineKit<S>, client: PipelineClient, messages: readonly LineMessage[], run: number): Promise<Run> {
  const s = kit.setup(`cl-${client}`);
  const profileDir = process.env.KILLTRACE_BENCH_CPU_PROF;
  const entry = client === 'kafkajs' ? 'services/correlator/bin/killtrace-correlator.js' : 'bench/lib/correlator-platformatic.ts';
  const profile = profileDir === undefined ? undefined : join(profileDir, `pipeline-${client}-${run}-${s.suffix}.cpuprofile`);
  const env = { ...s.env, ...(client === 'platformatic' ? { NODE_OPTIONS: '--import tsx' } : {}) };
  const p = profile === undefined ? new CorrelatorProcess(env, entry) : new CorrelatorProcess(env, 'bench/lib/cpu-profiled.mjs', [profile, entry]);
  try {
    await p.start();
    await p.ready(120_000);
    const topic = s.env.KILLTRACE_KAFKA_TOPIC_LOGS ?? '';
    const cpu0 = cpuSecondsOf(p.pid);
    if (profile !== undefined && p.pid !== undefined) process.kill(p.pid, 'SIGUSR2');
    const started = performance.now();
    if (client === 'kafkajs') {
      const kafka = createKafkaClient(s.config.kafka, { clientId: `prod-${s.suffix}` });
      await kit.produceAll(kafka, topic, [...messages]);
    } else {
      await producePlatformatic(s.config.kafka.brokers, `prod-${s.suffix}`, topic, messages);
    }
    const produceMs = performance.now() - started;
    await kit.until('correlator to consume every line', async () => (await p.metric('killtrace_correlator_messages_total', { phase: 'live' })) >= messages.length, 600_000);
    const ms = performance.now() - started;
    if (profile !== undefined && p.pid !== undefined) process.kill(p.pid, 'SIGUSR2');
    const cpuSeconds = cpuSecondsOf(p.pid) - cpu0;
    return { client, ms, produceMs, cpuSeconds };
  } catch (error) {
    throw new Error(`${client} run: ${(error as Error).message}\n${p.tail()}`, { cause: error });
  } finally {
    await p.stop();
    await kit.deleteAll(s);
  }
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');

/** Measures the pipeline's figure on both clients; rows for the summary and a side-by-side table. */
export async function pipelineClientRows<S extends RunSetup>(kit: PipelineKit<S>, messages: readonly LineMessage[], smoke: boolean, report: (table: PeerTable) => void): Promise<BenchRow[]> {
  const order: PipelineClient[] = smoke ? ['kafkajs', 'platformatic'] : ['kafkajs', 'platformatic', 'platformatic', 'kafkajs'];
  const runs: Run[] = [];
  for (const [i, client] of order.entries()) runs.push(await runOnce(kit, client, messages, i));
  const best = (client: PipelineClient): Run => runs.filter((r) => r.client === client).reduce((a, b) => (b.ms < a.ms ? b : a));
  const k = best('kafkajs');
  const pl = best('platformatic');
  const rate = (r: Run): number => messages.length / (r.ms / 1000);
  const ratio = rate(pl) / rate(k);
  const perCpu = (r: Run): number => messages.length / r.cpuSeconds;
  report({
    title: `Pipeline figure per Kafka client: ${fmt(messages.length)} log lines (version 1), produce + correlator, best of ${order.length / 2} runs each`,
    columns: ['kafkajs 2.2.4', '@platformatic/kafka 1.35.0', 'platformatic / kafkajs'],
    rows: [
      { metric: 'produce + correlator: lines/s', cells: [fmt(rate(k)), fmt(rate(pl)), `${fmt(ratio, 2)}x`] },
      { metric: 'wall time (s)', cells: [fmt(k.ms / 1000, 2), fmt(pl.ms / 1000, 2), ''] },
      { metric: 'of which producing (s)', cells: [fmt(k.produceMs / 1000, 2), fmt(pl.produceMs / 1000, 2), ''] },
      { metric: 'correlator CPU (s)', cells: [fmt(k.cpuSeconds, 2), fmt(pl.cpuSeconds, 2), ''] },
      { metric: 'lines per correlator CPU-second', cells: [fmt(perCpu(k)), fmt(perCpu(pl)), `${fmt(perCpu(pl) / perCpu(k), 2)}x`] },
    ],
    notes: [
      'all runs: ' + runs.map((r) => `${r.client} ${fmt(rate(r))} lines/s`).join(', '),
      'platformatic: its Producer sends the lines, its Consumer is the correlator\'s group member (bench/lib/platformatic-batch-consumer.ts);',
      'the correlator\'s decode, validation, PartitionState, flushes and commits are the product\'s code in both columns.',
    ],
  });
  return [
    { metric: 'kafkajs: produce + correlator lines/s', value: rate(k).toFixed(0), unit: `${messages.length} lines in ${(k.ms / 1000).toFixed(2)} s` },
    { metric: '@platformatic/kafka: produce + correlator lines/s', value: rate(pl).toFixed(0), unit: `${(pl.ms / 1000).toFixed(2)} s` },
    { metric: 'ratio platformatic / kafkajs (pipeline figure)', value: ratio.toFixed(2), unit: 'switch criterion: >= 1.5 (decision 0013)' },
  ];
}
