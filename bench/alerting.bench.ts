/**
 * Kill-to-notification latency at the receiver (p50/p99) while the pipeline carries ~20k log lines/s: kill
 * decisions go to the signals topic, the correlator (a child process) writes provisional records to the records
 * topic, the alerter (a child process, `killtrace-alerter`) fires one alert per killed pod to a JSON webhook
 * served by this process. Target: p99 < 2 s from the kill decision's arrival on Kafka.
 * `KILLTRACE_BENCH_ALERT_SECONDS` (default 20) and `KILLTRACE_BENCH_ALERT_RATE` (lines/s, default 20000) size it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafkaClient } from '../libs/kafka/src/testing.js';
import { CorrelatorProcess } from '../test/e2e/process.js';
import type { BenchCase, BenchRow } from './lib/bench-case.js';
import { buildCorrelator, deleteAll, killSignals, logSignal, message, percentile, podSignal, produceAll, setup, uid } from './pipeline.bench.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const alertingBench: BenchCase = {
  name: 'alerting',
  description: 'kill decision on Kafka -> correlator -> records topic -> alerter -> webhook, under ~20k log lines/s',
  async run({ smoke }) {
    const rows: BenchRow[] = [];
    // --smoke proves the path works at a size that keeps CI's run short (.ci/run); the figures mean nothing there.
    const seconds = smoke ? 3 : Number(process.env.KILLTRACE_BENCH_ALERT_SECONDS ?? 20);
    const rate = smoke ? 1_000 : Number(process.env.KILLTRACE_BENCH_ALERT_RATE ?? 20_000);
    const pods = smoke ? 200 : 5_000;
    buildCorrelator();
    const s = setup('alert');
    const dir = mkdtempSync(join(tmpdir(), 'killtrace-bench-alert-'));
    const killedAt = new Map<string, number>();
    const latencies: number[] = [];
    // The same kills seen on the records topic: the correlator's share of the latency.
    const recordPending = new Map<string, number>();
    const recordLatencies: number[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { kind?: string; labels?: { pod?: string } };
        const n = Number(body.labels?.pod?.replace(/^bench-/, ''));
        const sent = killedAt.get(uid(n));
        if (body.kind === 'firing' && sent !== undefined) {
          latencies.push(Date.now() - sent);
          killedAt.delete(uid(n));
        }
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const rulesFile = join(dir, 'rules.yaml');
    // One alert per killed pod, so every kill is one notification to time.
    writeFileSync(
      rulesFile,
      [
        'receivers:',
        `  - { name: hook, type: webhook, url: "http://127.0.0.1:${port}/" }`,
        'builtinRules: false',
        'rules:',
        '  - { name: bench-kill, severity: critical, match: { probeInduced: true }, groupBy: [namespace, pod, container] }',
      ].join('\n'),
    );
    const built = spawnSync('npx', ['tsc', '-b', 'services/alerter'], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`building the alerter failed: ${built.stdout}${built.stderr}`);
    const kafka = createKafkaClient(s.config.kafka, { clientId: `alert-${s.suffix}` });
    const p = new CorrelatorProcess({ ...s.env, KILLTRACE_CORRELATOR_FLUSH_INTERVAL_MS: '100' });
    const alerter = new CorrelatorProcess(
      { ...s.env, KILLTRACE_ALERTER_RULES_FILE: rulesFile, KILLTRACE_ALERTER_STATE_DIR: join(dir, 'state') },
      'services/alerter/bin/killtrace-alerter.js',
    );
    let stopReader: () => Promise<void> = async () => undefined;
    try {
      await p.start();
      await p.ready(120_000);
      await alerter.start();
      await alerter.ready(120_000);
      const reader = kafka.consumer({ groupId: `alert-reader-${s.suffix}`, maxWaitTimeInMs: 50 });
      await reader.connect();
      await reader.subscribe({ topics: [s.config.kafka.topics.records], fromBeginning: true });
      await reader.run({
        eachMessage: async ({ message: m }) => {
          const value = JSON.parse(m.value?.toString('utf8') ?? '{}') as { record?: { kubernetes: { pod: { uid: string } } } };
          const podUid = value.record?.kubernetes.pod.uid;
          const sent = podUid === undefined ? undefined : recordPending.get(podUid);
          if (podUid !== undefined && sent !== undefined) {
            recordLatencies.push(Date.now() - sent);
            recordPending.delete(podUid);
          }
        },
      });
      stopReader = () => reader.disconnect();
      const now0 = Date.now();
      await produceAll(kafka, s.config.kafka.topics.signals, Array.from({ length: pods }, (_, n) => message(podSignal(n, now0), now0)));
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      let sentLines = 0;
      let kills = 0;
      const started = Date.now();
      for (let tick = 0; tick < seconds * 10; tick += 1) {
        const at = Date.now();
        const batch = Array.from({ length: rate / 10 }, (_, i) => message(logSignal((sentLines + i) % pods, at, sentLines + i), at));
        sentLines += batch.length;
        const sends: Promise<unknown>[] = [producer.send({ topic: s.config.kafka.topics.logs, acks: 1, messages: batch })];
        if (tick % 2 === 0) {
          const n = kills % pods;
          kills += 1;
          const signals = killSignals(n, at).map((sig) => message(sig, at));
          // Latency counts from the kill decision's arrival on Kafka (the send's acknowledgement).
          sends.push(producer.send({ topic: s.config.kafka.topics.signals, acks: 1, messages: signals }).then(() => {
              killedAt.set(uid(n), Date.now());
              recordPending.set(uid(n), Date.now());
            }));
        }
        await Promise.all(sends);
        const next = started + (tick + 1) * 100;
        if (next > Date.now()) await sleep(next - Date.now());
      }
      const offered = sentLines / ((Date.now() - started) / 1000);
      const deadline = Date.now() + 60_000;
      while (killedAt.size > 0 && Date.now() < deadline) await sleep(100);
      await producer.disconnect();
      const sorted = [...latencies].sort((a, b) => a - b);
      const p99 = percentile(sorted, 99);
      rows.push({ metric: 'log lines/s offered', value: offered.toFixed(0), unit: `${pods} pods, ${kills} kills in ${seconds} s` });
      const records = [...recordLatencies].sort((a, b) => a - b);
      rows.push({ metric: 'kill-to-record (records topic) p50 / p99', value: `${percentile(records, 50).toFixed(0)} / ${percentile(records, 99).toFixed(0)}`, unit: 'ms (the correlator\'s share)' });
      rows.push({ metric: 'kill-to-notification latency p50', value: percentile(sorted, 50).toFixed(0), unit: `ms (${latencies.length}/${kills} notifications)` });
      rows.push({ metric: 'kill-to-notification latency p99', value: p99.toFixed(0), unit: 'ms', target: '< 2000', ok: latencies.length === kills && p99 < 2000 });
    } finally {
      await stopReader();
      await alerter.stop();
      await p.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await deleteAll(s);
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteGroups([`${s.config.kafka.clientId}.alerter`, `${s.config.kafka.clientId}.correlator`]).catch(() => undefined);
      await admin.disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
    return rows;
  },
};

export default alertingBench;
