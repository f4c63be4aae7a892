/**
 * The Kafka client decision (docs/decisions/0013-kafka-client.md): kafkajs (through libs/kafka, as the product uses it)
 * vs `@platformatic/kafka` behind the same port (bench/lib/platformatic-port.ts), on the same real broker, same
 * messages (the `logs` topic's version-1 envelope, one line each, zod-validated on both edges):
 *  - produce: messages/s, idempotent, acks=all, 2,000 messages per send, sends awaited in turn;
 *  - consume: messages/s for a fresh group from the earliest offset (first message to last, so the group join is
 *    not counted), each message JSON-parsed and validated;
 *  - latency: one-message sends awaited in turn, p50/p99.
 * Runs kafkajs, platformatic, platformatic, kafkajs and keeps the best figure of each client.
 * Sizes: env KILLTRACE_BENCH_CLIENT_MESSAGES (100,000); `--smoke`: 2,000.
 */
import { createConsumer, createProducer, ensureTopics } from '../libs/kafka/src/index.js';
import { createKafkaClient } from '../libs/kafka/src/testing.js';
import { loadConfig } from '../libs/config/src/index.js';
import { logMessageSchema, type LogMessage } from '../libs/schemas/src/index.js';
import type { BenchCase, BenchRow } from './lib/bench-case.js';
import { platformaticConsumer, platformaticProducer, type ConsumerPort, type ProducerPort } from './lib/platformatic-port.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const PARTITIONS = 3;
const config = loadConfig({ env: { KILLTRACE_CLUSTER_NAME: 'bench', KAFKA_BROKERS: BROKERS.join(',') } });
const kafka = createKafkaClient(config.kafka, { clientId: 'kt-bench-client' });
const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const uid = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
// Recent event times: the shared broker keeps 24 h (scripts/stack.sh `log.retention.hours`), and deletes rolled
// segments whose newest timestamp is older while a consumer still reads them (a fixed date broke the case a day later).
const BASE = Date.now() - 3_600_000;
function logMessage(i: number): { key: string; value: LogMessage; timestamp: number } {
  const at = BASE + i;
  const n = i % 1_000;
  return {
    key: uid(n),
    timestamp: at,
    value: {
      v: 1,
      producer: { component: 'node-agent', instance: 'bench-node' },
      signal: { kind: 'app_log', at, pod: { namespace: 'bench', name: `svc-${n}-6d5c4b3a2-x`, uid: uid(n) }, container: 'app', restartCount: 0, stream: 'stdout', text: `{"level":"info","msg":"request ${i} served","trace_id":"${(i * 7919).toString(16)}","dur_ms":${i % 97}}`, source: { file: `/var/log/pods/bench_svc-${n}-6d5c4b3a2-x_${uid(n)}/app/0.log` } },
    },
  };
}

interface ClientFigures {
  produceRate: number;
  consumeRate: number;
  p50: number;
  p99: number;
  complete: boolean;
}

async function measure(name: string, producer: ProducerPort, consumerFor: (topic: string) => ConsumerPort<LogMessage>, count: number): Promise<ClientFigures> {
  const suffix = `${name}-${Date.now().toString(36)}`;
  const topic = `kt-bench-client-${suffix}`;
  const latencyTopic = `kt-bench-client-lat-${suffix}`;
  await ensureTopics(kafka, [topic, latencyTopic].map((t) => ({ topic: t, partitions: PARTITIONS, replicationFactor: 1 })));
  const messages = Array.from({ length: count }, (_, i) => logMessage(i));
  try {
    await producer.connect();
    const logs = producer.topic(topic, logMessageSchema);
    let started = performance.now();
    for (let i = 0; i < messages.length; i += 2_000) await logs.send(messages.slice(i, i + 2_000));
    const produceRate = count / ((performance.now() - started) / 1000);

    const latencies: number[] = [];
    const lat = producer.topic(latencyTopic, logMessageSchema);
    for (let i = 0; i < Math.min(200, count); i++) {
      started = performance.now();
      await lat.send([messages[i] as (typeof messages)[number]]);
      latencies.push(performance.now() - started);
    }
    latencies.sort((a, b) => a - b);
    await producer.disconnect();

    const consumer = consumerFor(topic);
    let seen = 0;
    let first = 0;
    let last = 0;
    await consumer.run(() => {
      if (seen === 0) first = performance.now();
      seen += 1;
      last = performance.now();
    });
    const deadline = Date.now() + 300_000;
    while (seen < count && Date.now() < deadline) await sleep(50);
    await consumer.disconnect();
    return {
      produceRate,
      consumeRate: seen / Math.max(0.001, (last - first) / 1000),
      p50: latencies[Math.floor(latencies.length / 2)] ?? Number.NaN,
      p99: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? Number.NaN,
      complete: seen >= count,
    };
  } finally {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic, latencyTopic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

const clientBench: BenchCase = {
  name: 'kafka-client',
  description: 'kafkajs (libs/kafka) vs @platformatic/kafka behind the same port: produce, consume, latency',
  async run({ smoke, report }) {
    const count = smoke ? 2_000 : Number(process.env.KILLTRACE_BENCH_CLIENT_MESSAGES ?? 100_000);
    const viaKafkajs = (): Promise<ClientFigures> =>
      measure(
        'kafkajs',
        createProducer(kafka),
        (topic) => {
          const consumer = createConsumer(kafka, { groupId: `kt-bench-client-kafkajs-${topic}`, topic, schema: logMessageSchema, fromBeginning: true, onInvalid: () => undefined });
          return {
            run: async (handler) => {
              void consumer.run(async (m) => handler(m.value));
              await consumer.joined();
            },
            disconnect: () => consumer.disconnect(),
          };
        },
        count,
      );
    const viaPlatformatic = (): Promise<ClientFigures> =>
      measure('platformatic', platformaticProducer(BROKERS, 'kt-bench-client-platformatic'), (topic) => platformaticConsumer(BROKERS, `kt-bench-client-platformatic-${topic}`, topic, logMessageSchema), count);
    // A B B A, the best of each: neither client gains from running first or last on a busy machine.
    const a1 = await viaKafkajs();
    const b1 = await viaPlatformatic();
    const b2 = await viaPlatformatic();
    const a2 = await viaKafkajs();
    const bestOf = (x: ClientFigures, y: ClientFigures): ClientFigures => ({
      produceRate: Math.max(x.produceRate, y.produceRate),
      consumeRate: Math.max(x.consumeRate, y.consumeRate),
      p50: Math.min(x.p50, y.p50),
      p99: Math.min(x.p99, y.p99),
      complete: x.complete && y.complete,
    });
    const kafkajs = bestOf(a1, a2);
    const platformatic = bestOf(b1, b2);
    // The pipeline moves every line through one produce and one consume: its client-bound figure.
    const pipeline = (f: ClientFigures): number => 1 / (1 / f.produceRate + 1 / f.consumeRate);
    const ratio = (a: number, b: number): string => `${fmt(a / b, 2)}x`;
    report({
      title: `Kafka clients behind the libs/kafka port: ${fmt(count)} log messages (version 1, ~600 bytes), ${PARTITIONS} partitions, acks=all, idempotent`,
      columns: ['kafkajs 2.2.4', '@platformatic/kafka 1.35.0', 'platformatic / kafkajs'],
      rows: [
        { metric: 'produce messages/s', cells: [fmt(kafkajs.produceRate), fmt(platformatic.produceRate), ratio(platformatic.produceRate, kafkajs.produceRate)] },
        { metric: 'consume messages/s (validated)', cells: [fmt(kafkajs.consumeRate), fmt(platformatic.consumeRate), ratio(platformatic.consumeRate, kafkajs.consumeRate)] },
        { metric: 'produce + consume messages/s', cells: [fmt(pipeline(kafkajs)), fmt(pipeline(platformatic)), ratio(pipeline(platformatic), pipeline(kafkajs))] },
        { metric: 'one-message send p50 ms', cells: [fmt(kafkajs.p50, 1), fmt(platformatic.p50, 1), ratio(platformatic.p50, kafkajs.p50)] },
        { metric: 'one-message send p99 ms', cells: [fmt(kafkajs.p99, 1), fmt(platformatic.p99, 1), ratio(platformatic.p99, kafkajs.p99)] },
      ],
    });
    const rows: BenchRow[] = [
      { metric: 'platformatic / kafkajs, produce + consume', value: fmt(pipeline(platformatic) / pipeline(kafkajs), 2), target: '>= 1.5 to switch', ok: pipeline(platformatic) / pipeline(kafkajs) >= 1.5 },
      { metric: 'both consumers saw every message', value: kafkajs.complete && platformatic.complete ? 'yes' : 'no', target: 'yes', ok: kafkajs.complete && platformatic.complete },
    ];
    return rows;
  },
};

export default clientBench;
