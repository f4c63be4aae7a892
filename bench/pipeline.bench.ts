/**
 * The streaming pipeline (Kafka -> correlator -> Elasticsearch) against the real servers on 127.0.0.1, each
 * measurement next to the raw client doing the same work in the same run:
 *  - log lines/s through Kafka -> correlator vs raw kafkajs produce + consume of the same lines (target >= 0.5);
 *  - records/s written to Elasticsearch by the correlator's sink vs the raw bulk helper, same documents (>= 0.8);
 *  - kill-to-record latency p50/p99 while ~20k log lines/s flow, in version-2 messages of 20 lines as node agents
 *    send them (p99 < 3 s);
 *  - correlator peak RSS with 5,000 pods active (< 300 MB).
 * Bounded: fixed line and pod counts, a 20 s latency phase; topics, groups and indices are deleted afterwards.
 * `KILLTRACE_BENCH_PIPELINE_LINES` (default 100000) sets the throughput phase's size; the same lines also run through
 * each Kafka client (bench/lib/pipeline-clients.ts, decision 0013) unless `KILLTRACE_BENCH_PIPELINE_CLIENTS=0`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Correlator } from '../libs/correlation/src/index.js';
import { builtinProfiles } from '../libs/profiles/src/index.js';
import { loadConfig, type Config } from '../libs/config/src/index.js';
import { createElasticClient, installIndexTemplate, writeDocuments } from '../libs/elastic/src/index.js';
import { createProducer, createProducerGroup, ensureTopics } from '../libs/kafka/src/index.js';
import { createKafkaClient, type KafkaClient } from '../libs/kafka/src/testing.js';
import { createLogger } from '../libs/logging/src/index.js';
import { deadLetterMessageSchema, recordMessageSchema, signalKey, type RestartRecord, type Signal } from '../libs/schemas/src/index.js';
import { createRegistry } from '../libs/service-http/src/index.js';
import { RecordSink } from '../services/correlator/src/record-sink.js';
import { createTelemetry } from '../services/correlator/src/telemetry.js';
import { CORRELATOR_NODE_OPTIONS } from '../services/correlator/src/v8-heap.js';
import { CorrelatorProcess } from '../test/e2e/process.js';
import type { BenchCase, BenchRow } from './lib/bench-case.js';
import { pipelineClientRows } from './lib/pipeline-clients.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const T0 = Date.now() - 3_600_000;
const PARTITIONS = 3;

export interface Setup {
  suffix: string;
  env: Record<string, string>;
  config: Config;
}

export function setup(name: string): Setup {
  const suffix = `${name}-${Date.now().toString(36)}`;
  const env: Record<string, string> = {
    KILLTRACE_CLUSTER_NAME: 'bench',
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    ELASTICSEARCH_URL: process.env.ELASTICSEARCH_URL ?? 'http://127.0.0.1:9200',
    KILLTRACE_KAFKA_CLIENT_ID: `kt-bench-${suffix}`,
    KILLTRACE_KAFKA_PARTITIONS: String(PARTITIONS),
    KILLTRACE_KAFKA_TOPIC_SIGNALS: `kt-bench-signals-${suffix}`,
    KILLTRACE_KAFKA_TOPIC_LOGS: `kt-bench-logs-${suffix}`,
    KILLTRACE_KAFKA_TOPIC_RECORDS: `kt-bench-records-${suffix}`,
    KILLTRACE_KAFKA_TOPIC_DEAD_LETTER: `kt-bench-dead-letter-${suffix}`,
    KILLTRACE_KAFKA_TOPIC_SNAPSHOTS: `kt-bench-snapshots-${suffix}`,
    // Its own context topic: every correlator reads the whole topic at start and keeps it, so the shared default
    // (every earlier run's pods) would be measured as this run's memory and startup.
    KILLTRACE_KAFKA_TOPIC_CONTEXT: `kt-bench-context-${suffix}`,
    KILLTRACE_ELASTICSEARCH_INDEX_PREFIX: `kt-bench-${suffix}`,
    KILLTRACE_LOG_FORMAT: 'json',
    KILLTRACE_LOG_LEVEL: 'warn',
    // The correlator as the Helm chart and kustomize base ship it (decision 0024).
    NODE_OPTIONS: CORRELATOR_NODE_OPTIONS,
    ...(process.env.KILLTRACE_CORRELATOR_RECORD_PRODUCERS === undefined ? {} : { KILLTRACE_CORRELATOR_RECORD_PRODUCERS: process.env.KILLTRACE_CORRELATOR_RECORD_PRODUCERS }),
  };
  return { suffix, env, config: loadConfig({ env }) };
}

export const uid = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const podName = (n: number): string => `bench-${n}`;

export function podSignal(n: number, at: number): Signal {
  return {
    kind: 'pod',
    observedAt: at,
    pod: {
      namespace: 'bench',
      name: podName(n),
      uid: uid(n),
      nodeName: `node-${n % 50}`,
      labels: { app: 'bench' },
      owners: [{ kind: 'ReplicaSet', name: 'bench-7d5f8b9c6' }],
      startTime: T0,
      containers: [
        { name: 'app', image: 'bench:1', init: false, liveness: { handler: 'http', periodSeconds: 5, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1, initialDelaySeconds: 0 } },
      ],
      statuses: [{ name: 'app', restartCount: 0, ready: true, state: { kind: 'running', startedAt: T0 } }],
      initStatuses: [],
    },
  };
}

export function logSignal(n: number, at: number, i: number): Signal {
  return { kind: 'app_log', at, pod: { namespace: 'bench', name: podName(n), uid: uid(n) }, container: 'app', restartCount: 0, stream: 'stdout', text: `request ${i} served in ${i % 97} ms` };
}

/** A liveness kill as the kubelet journal tells it: three failures, the decision, the kill. */
export function killSignals(n: number, at: number): Signal[] {
  const pod = { namespace: 'bench', name: podName(n), uid: uid(n) };
  const failure = (t: number): Signal => ({ kind: 'kubelet', at: t, action: 'probe_failed', pod, container: 'app', probeType: 'liveness', output: 'context deadline exceeded', text: 'Probe failed' });
  return [
    failure(at - 10_000),
    failure(at - 5_000),
    failure(at),
    { kind: 'kubelet', at, action: 'kill_decision', pod, container: 'app', output: 'Container app failed liveness probe, will be restarted', text: 'Message for Container of pod' },
    { kind: 'kubelet', at: at + 1, action: 'killing', pod, container: 'app', gracePeriodSeconds: 30, text: 'Killing container with a grace period' },
  ];
}

/** Lines per `logs` message (version 2) in the latency phase. */
const LINES_PER_BATCH = 20;

/** A version-2 `logs` message: `count` lines of pod `n`'s container, the newest at `at`. */
export function logBatchMessage(n: number, at: number, count: number): { key: string; value: string; timestamp: string } {
  const lines = Array.from({ length: count }, (_, i) => ({ at: at - count + 1 + i, stream: 'stdout', text: `request ${i} served in ${i % 97} ms` }));
  const value = { v: 2, producer: { component: 'test', instance: 'bench' }, batch: { pod: { namespace: 'bench', name: podName(n), uid: uid(n) }, container: 'app', restartCount: 0, lines } };
  return { key: uid(n), value: JSON.stringify(value), timestamp: String(Math.round(at)) };
}

export function message(signal: Signal, at: number): { key: string; value: string; timestamp: string } {
  return { key: signalKey(signal), value: JSON.stringify({ v: 1, producer: { component: 'test', instance: 'bench' }, signal }), timestamp: String(Math.round(at)) };
}

export async function produceAll(kafka: KafkaClient, topic: string, messages: Array<{ key: string; value: string; timestamp: string }>, perSend = 2_000): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += perSend) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + perSend) });
  } finally {
    await producer.disconnect();
  }
}

export async function deleteAll(s: Setup): Promise<void> {
  const kafka = createKafkaClient(s.config.kafka, { clientId: `cleanup-${s.suffix}` });
  const admin = kafka.admin();
  await admin.connect();
  const t = s.config.kafka.topics;
  // Only those that exist: kafkajs retries (and logs) a delete of a missing topic for seconds.
  const existing = new Set(await admin.listTopics());
  const topics = [t.signals, t.logs, t.records, t.deadLetter, t.snapshots, t.context, `kt-bench-raw-${s.suffix}`].filter((topic) => existing.has(topic));
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
  const es = createElasticClient(s.config.elasticsearch);
  await es.indices.delete({ index: `${s.config.elasticsearch.indexPrefix}*` }).catch(() => undefined);
  await es.close();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not answering yet
    }
    if (Date.now() > deadline) throw new Error(`bench: timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** Raw kafkajs: produce the lines and consume them back (JSON.parse each) with a fresh group; wall time. */
async function rawProduceConsume(s: Setup, messages: Array<{ key: string; value: string; timestamp: string }>): Promise<number> {
  const kafka = createKafkaClient(s.config.kafka, { clientId: `raw-${s.suffix}` });
  const topic = `kt-bench-raw-${s.suffix}`;
  await ensureTopics(kafka, [{ topic, partitions: PARTITIONS, replicationFactor: 1 }]);
  const consumer = kafka.consumer({ groupId: `raw-${s.suffix}`, maxWaitTimeInMs: 100 });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) if (m.value) JSON.parse(m.value.toString('utf8'));
      seen += batch.messages.length;
    },
  });
  // Like the correlator (already ready when its clock starts), the raw consumer has joined its group first.
  await until('raw consumer to join', async () => joined, 60_000);
  const started = Date.now();
  await produceAll(kafka, topic, messages);
  await until('raw consumer', async () => seen >= messages.length, 300_000);
  const ms = Date.now() - started;
  await consumer.disconnect();
  return ms;
}

export function buildCorrelator(): void {
  const r = spawnSync('npx', ['tsc', '-b', 'services/correlator'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the correlator failed: ${r.stdout}${r.stderr}`);
}

export function peakRssMb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Records of `count` killed pods, built by the pure core (the documents both writers index). */
function kills(count: number): Array<{ id: string; record: RestartRecord }> {
  const core = new Correlator({ clusterName: 'bench', profiles: builtinProfiles() });
  for (let n = 0; n < count; n += 1) {
    core.ingest(podSignal(n, T0 + 1_000));
    for (const s of killSignals(n, T0 + 60_000 + n)) core.ingest(s);
  }
  return core.poll(T0 + 3_600_000, 30_000);
}

const pipelineBench: BenchCase = {
  name: 'pipeline',
  description: 'Kafka -> correlator -> Elasticsearch vs raw kafkajs and the raw bulk helper',
  async run({ smoke, report }) {
    const rows: BenchRow[] = [];
    const lines = smoke ? 2_000 : Number(process.env.KILLTRACE_BENCH_PIPELINE_LINES ?? 100_000);
    buildCorrelator();

    // 1. Log lines/s: the same lines through raw produce+consume, and through produce + the correlator.
    {
      const s = setup('tput');
      const pods = smoke ? 50 : 1_000;
      const logMessages = Array.from({ length: lines }, (_, i) => {
        const at = T0 + i;
        return message(logSignal(i % pods, at, i), at);
      });
      try {
        const rawMs = await rawProduceConsume(s, logMessages);
        const p = new CorrelatorProcess(s.env);
        await p.start();
        await p.ready(120_000);
        const kafka = createKafkaClient(s.config.kafka, { clientId: `prod-${s.suffix}` });
        const started = Date.now();
        await produceAll(kafka, s.config.kafka.topics.logs, logMessages);
        await until('correlator to consume every line', async () => (await p.metric('killtrace_correlator_messages_total', { phase: 'live' })) >= lines, 600_000);
        const ms = Date.now() - started;
        await p.stop();
        const rawRate = lines / (rawMs / 1000);
        const rate = lines / (ms / 1000);
        rows.push({ metric: 'raw kafkajs produce+consume: lines/s', value: rawRate.toFixed(0), unit: `${lines} lines in ${(rawMs / 1000).toFixed(2)} s` });
        rows.push({ metric: 'produce + correlator: lines/s', value: rate.toFixed(0), unit: `${(ms / 1000).toFixed(2)} s` });
        rows.push({ metric: 'ratio correlator / raw kafkajs', value: (rate / rawRate).toFixed(2), target: '>= 0.5', ok: rate / rawRate >= 0.5 });
      } finally {
        await deleteAll(s);
      }
    }

    // 1b. The same figure with each Kafka client, kafkajs vs @platformatic/kafka (decision 0013; bench/lib/pipeline-clients.ts).
    if (process.env.KILLTRACE_BENCH_PIPELINE_CLIENTS !== '0') {
      const pods = smoke ? 50 : 1_000;
      const logMessages = Array.from({ length: lines }, (_, i) => message(logSignal(i % pods, T0 + i, i), T0 + i));
      rows.push(...(await pipelineClientRows({ setup, deleteAll, until, produceAll }, logMessages, smoke, report)));
    }

    // 2. Records/s into Elasticsearch: the correlator's sink (Elasticsearch + records topic, retries, dead letters)
    //    vs the raw bulk helper (Elasticsearch only), and vs the raw clients doing both writes, same documents in
    //    the same 1,000-document flushes, interleaved.
    {
      const s = setup('es');
      const docs = kills(smoke ? 100 : 5_000);
      const es = createElasticClient(s.config.elasticsearch, { requestTimeoutMs: 30_000, maxRetries: 0 });
      const kafka = createKafkaClient(s.config.kafka, { clientId: `sink-${s.suffix}` });
      try {
        await ensureTopics(kafka, [{ topic: s.config.kafka.topics.records, partitions: PARTITIONS, replicationFactor: 1 }, { topic: s.config.kafka.topics.deadLetter, partitions: PARTITIONS, replicationFactor: 1 }]);
        const rawAlias = `${s.config.elasticsearch.indexPrefix}-raw`;
        const sinkAlias = `${s.config.elasticsearch.indexPrefix}-sink`;
        await installIndexTemplate(es, { alias: rawAlias });
        await installIndexTemplate(es, { alias: sinkAlias });
        const chunks: Array<typeof docs> = [];
        for (let i = 0; i < docs.length; i += 1_000) chunks.push(docs.slice(i, i + 1_000));
        const producer = createProducer(kafka);
        await producer.connect();
        const logger = createLogger({ name: 'bench', level: 'warn', format: 'json' });
        // The sink as the correlator runs it (correlator.recordProducers, default 1; KILLTRACE_CORRELATOR_RECORD_PRODUCERS
        // overrides), and beside it the same sink with another producer count, so both figures come from one run.
        const recordProducers = s.config.correlator.recordProducers;
        const otherProducers = recordProducers === 1 ? 2 : 1;
        const groups = [createProducerGroup(kafka, { size: recordProducers }), createProducerGroup(kafka, { size: otherProducers })];
        await Promise.all(groups.map((g) => g.connect()));
        const sinkOf = (group: (typeof groups)[number], alias: string): RecordSink =>
          new RecordSink({
            elastic: es,
            alias,
            records: group.topic(s.config.kafka.topics.records, recordMessageSchema),
            deadLetter: producer.topic(s.config.kafka.topics.deadLetter, deadLetterMessageSchema),
            telemetry: createTelemetry(createRegistry('bench'), logger),
            retryInitialMs: 250,
            retryMaxMs: 5_000,
            onDegraded: () => undefined,
          });
        const sink = sinkOf(groups[0] as (typeof groups)[number], sinkAlias);
        const oneAlias = `${s.config.elasticsearch.indexPrefix}-sink1`;
        await installIndexTemplate(es, { alias: oneAlias });
        const sinkOne = sinkOf(groups[1] as (typeof groups)[number], oneAlias);
        let oneMs = 0;
        const abort = new AbortController();
        // Interleaved, chunk by chunk, the order alternating: on a machine shared with other work (and with Kafka),
        // both writers see the same Elasticsearch state and load, instead of one running in a quiet minute.
        let rawMs = 0;
        let sinkMs = 0;
        const timed = async (run: () => Promise<unknown>): Promise<number> => {
          const t = performance.now();
          await run();
          return performance.now() - t;
        };
        // The fair peer of the sink's two writes: the raw bulk helper and a raw idempotent kafkajs producer writing
        // the same records (JSON, keyed by pod uid, acks=all, requests of at most 960 KiB) at the same time.
        const bothAlias = `${s.config.elasticsearch.indexPrefix}-both`;
        await installIndexTemplate(es, { alias: bothAlias });
        const rawProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false });
        await rawProducer.connect();
        const rawBoth = async (chunk: typeof docs): Promise<void> => {
          const produce = async (): Promise<void> => {
            const messages = chunk.map((d) => ({ key: d.record.kubernetes.pod.uid, value: JSON.stringify({ v: 1, id: d.id, record: d.record }) }));
            for (let at = 0, bytes = 0, from = 0; at <= messages.length; at += 1) {
              const size = at < messages.length ? Buffer.byteLength(messages[at]?.value ?? '') + 128 : Infinity;
              if (at > from && bytes + size > 960 * 1024) {
                await rawProducer.send({ topic: s.config.kafka.topics.records, acks: -1, messages: messages.slice(from, at) });
                from = at;
                bytes = 0;
              }
              bytes += size;
            }
          };
          await Promise.all([writeDocuments(es, chunk.map((d) => ({ id: d.id, document: d.record })), { index: bothAlias }), produce()]);
        };
        let bothMs = 0;
        for (const [i, chunk] of chunks.entries()) {
          const writers = [
            async (): Promise<void> => {
              rawMs += await timed(() => writeDocuments(es, chunk.map((d) => ({ id: d.id, document: d.record })), { index: rawAlias }));
            },
            async (): Promise<void> => {
              sinkMs += await timed(() => sink.write(chunk, abort.signal));
            },
            async (): Promise<void> => {
              bothMs += await timed(() => rawBoth(chunk));
            },
            async (): Promise<void> => {
              oneMs += await timed(() => sinkOne.write(chunk, abort.signal));
            },
          ];
          for (let k = 0; k < writers.length; k += 1) await writers[(i + k) % writers.length]?.();
        }
        await rawProducer.disconnect();
        await Promise.all(groups.map((g) => g.disconnect()));
        await producer.disconnect();
        const rawRate = docs.length / (rawMs / 1000);
        const rate = docs.length / (sinkMs / 1000);
        rows.push({ metric: 'raw bulk helper: records/s', value: rawRate.toFixed(0), unit: `${docs.length} records in ${(rawMs / 1000).toFixed(2)} s` });
        rows.push({ metric: 'correlator sink (ES + records topic): records/s', value: rate.toFixed(0), unit: `${(sinkMs / 1000).toFixed(2)} s, ${recordProducers} records producers` });
        rows.push({ metric: 'ratio correlator sink / raw bulk', value: (rate / rawRate).toFixed(2), target: '>= 0.8', ok: rate / rawRate >= 0.8 });
        const oneRate = docs.length / (oneMs / 1000);
        rows.push({ metric: `ratio correlator sink with ${otherProducers} records producer(s) / raw bulk`, value: (oneRate / rawRate).toFixed(2), unit: `${(oneMs / 1000).toFixed(2)} s` });
        const bothRate = docs.length / (bothMs / 1000);
        rows.push({ metric: 'raw bulk + raw kafkajs produce of the same records: records/s', value: bothRate.toFixed(0), unit: `${(bothMs / 1000).toFixed(2)} s` });
        rows.push({ metric: 'ratio correlator sink / raw bulk + raw produce', value: (rate / bothRate).toFixed(2) });
      } finally {
        await es.close();
        await deleteAll(s);
      }
    }

    // 3+4. Kill-to-record latency under ~20k log lines/s, with 5,000 pods active; the correlator's peak RSS.
    {
      const s = setup('lat');
      const pods = smoke ? 100 : 5_000;
      const rate = smoke ? 1_000 : 20_000;
      const seconds = smoke ? 3 : 20;
      const kafka = createKafkaClient(s.config.kafka, { clientId: `lat-${s.suffix}` });
      const p = new CorrelatorProcess({ ...s.env, KILLTRACE_CORRELATOR_FLUSH_INTERVAL_MS: '100' });
      try {
        await p.start();
        await p.ready(120_000);
        const now0 = Date.now();
        await produceAll(kafka, s.config.kafka.topics.signals, Array.from({ length: pods }, (_, n) => message(podSignal(n, now0), now0)));
        const killedAt = new Map<string, number>();
        const latencies: number[] = [];
        const consumer = kafka.consumer({ groupId: `lat-reader-${s.suffix}`, maxWaitTimeInMs: 50 });
        await consumer.connect();
        await consumer.subscribe({ topics: [s.config.kafka.topics.records], fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ message: m }) => {
            const value = JSON.parse(m.value?.toString('utf8') ?? '{}') as { record?: RestartRecord };
            const uidOf = value.record?.kubernetes.pod.uid;
            const sent = uidOf === undefined ? undefined : killedAt.get(uidOf);
            if (uidOf !== undefined && sent !== undefined) {
              latencies.push(Date.now() - sent);
              killedAt.delete(uidOf);
            }
          },
        });
        const producer = kafka.producer({ allowAutoTopicCreation: false });
        await producer.connect();
        let sentLines = 0;
        let kill = 0;
        const started = Date.now();
        for (let tick = 0; tick < seconds * 10; tick += 1) {
          const at = Date.now();
          // As node agents send them: version-2 messages of LINES_PER_BATCH lines of one pod's container.
          const batch = Array.from({ length: rate / 10 / LINES_PER_BATCH }, (_, i) => logBatchMessage((sentLines / LINES_PER_BATCH + i) % pods, at, LINES_PER_BATCH));
          sentLines += batch.length * LINES_PER_BATCH;
          const sends = [producer.send({ topic: s.config.kafka.topics.logs, acks: 1, messages: batch })];
          if (tick % 2 === 0) {
            const n = kill % pods;
            kill += 1;
            killedAt.set(uid(n), Date.now());
            sends.push(producer.send({ topic: s.config.kafka.topics.signals, acks: 1, messages: killSignals(n, at).map((sig) => message(sig, at)) }));
          }
          await Promise.all(sends);
          const next = started + (tick + 1) * 100;
          if (next > Date.now()) await sleep(next - Date.now());
        }
        const offered = sentLines / ((Date.now() - started) / 1000);
        await until('every kill to show as a record', async () => killedAt.size === 0, 60_000).catch(() => undefined);
        const rss = peakRssMb(p.pid);
        await producer.disconnect();
        await consumer.disconnect();
        const sorted = [...latencies].sort((a, b) => a - b);
        const p99 = percentile(sorted, 99);
        rows.push({ metric: 'log lines/s offered during latency phase', value: offered.toFixed(0), unit: `${pods} pods, ${kill} kills` });
        rows.push({ metric: 'kill-to-record latency p50', value: percentile(sorted, 50).toFixed(0), unit: `ms (${latencies.length}/${kill} kills seen)` });
        rows.push({ metric: 'kill-to-record latency p99', value: p99.toFixed(0), unit: 'ms', target: '< 3000', ok: latencies.length === kill && p99 < 3000 });
        rows.push({ metric: `correlator peak RSS (VmHWM), ${pods.toLocaleString('en-US')} pods`, value: rss.toFixed(0), unit: 'MB', target: '< 300', ok: rss < 300 });
        rows.push({ metric: 'correlator state pods', value: await p.metric('killtrace_correlator_state_pods') });
        rows.push({ metric: 'correlator V8 heap used at the end', value: ((await p.metric('killtrace_nodejs_heap_size_used_bytes')) / 1_048_576).toFixed(0), unit: 'MB' });
      } finally {
        await p.stop();
        await deleteAll(s);
      }
    }
    return rows;
  },
};

export default pipelineBench;
