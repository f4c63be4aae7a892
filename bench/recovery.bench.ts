/**
 * Recovery after `kill -9` (decision 0016): the correlator (a child process) holds 5,000 active pods (a pod snapshot
 * and log batches each, some of them killed), is killed with SIGKILL, and is started again. Measured: the time from
 * the new process's start to `/readyz` answering 200, with snapshots off (the whole state window is replayed) and on
 * (the latest snapshot is restored and only what follows it replayed); target under 30 s. Both runs check that no
 * record is lost or duplicated: Elasticsearch holds exactly one document per expected record id, before and after
 * kills produced while the correlator was down. Fresh topics, group and index per run, deleted afterwards.
 * `--smoke`: 100 pods, 2 log batches each. `KILLTRACE_BENCH_RECOVERY_PODS` / `_BATCHES` set the size.
 */
import { createElasticClient } from '../libs/elastic/src/index.js';
import { createKafkaClient } from '../libs/kafka/src/testing.js';
import { CorrelatorProcess } from '../test/e2e/process.js';
import type { BenchCase, BenchRow } from './lib/bench-case.js';
import { buildCorrelator, deleteAll, killSignals, logBatchMessage, message, podSignal, produceAll, setup, uid, until, type Setup } from './pipeline.bench.js';

/** Lines per `logs` message (version 2), as node agents send them. */
const LINES_PER_BATCH = 20;
/** Snapshot cadence of the "on" run: a crash loses at most about this much of snapshot age. */
const SNAPSHOT_INTERVAL_MS = 5_000;

interface RunResult {
  readyMs: number;
  /** Start to the first assignment: the dead member's session expiring (correlator.sessionTimeoutMs). */
  assignedMs: number;
  replayed: number;
  restored: number;
  snapshotBytes: number;
  inputMessages: number;
  records: number;
}

/** Documents in the run's index, and whether each of `ids` is there exactly once. */
async function recordIds(s: Setup): Promise<Map<string, number>> {
  const es = createElasticClient(s.config.elasticsearch);
  try {
    const index = `${s.config.elasticsearch.indexPrefix}*`;
    await es.indices.refresh({ index }).catch(() => undefined);
    const counts = new Map<string, number>();
    const response = await es.search<{ kubernetes: { pod: { uid: string } } }>({ index, size: 10_000, _source: ['kubernetes.pod.uid'], query: { match_all: {} } });
    for (const hit of response.hits.hits) counts.set(hit._id ?? '', (counts.get(hit._id ?? '') ?? 0) + 1);
    return counts;
  } catch {
    return new Map();
  }
}

function expectedIds(kills: readonly number[]): string[] {
  // restartRecordId(uid, container, restartCount): the first (and only) kill of each pod's `app` is restart 0.
  return kills.map((n) => `${uid(n)}:app:0`);
}

async function run(name: string, snapshots: boolean, pods: number, batches: number): Promise<RunResult> {
  const s = setup(name);
  const env = {
    ...s.env,
    KILLTRACE_CORRELATOR_SNAPSHOTS: String(snapshots),
    KILLTRACE_CORRELATOR_SNAPSHOT_INTERVAL_MS: String(SNAPSHOT_INTERVAL_MS),
    KILLTRACE_CORRELATOR_FLUSH_INTERVAL_MS: '200',
    // PartitionsAssigned (info) tells how much of the time to ready is the wait for the group.
    KILLTRACE_LOG_LEVEL: 'info',
  };
  const kafka = createKafkaClient(s.config.kafka, { clientId: `recovery-${s.suffix}` });
  const topics = s.config.kafka.topics;
  const first = new CorrelatorProcess(env);
  let second: CorrelatorProcess | undefined;
  try {
    await first.start();
    await first.ready(120_000);
    // Event times within the last hour, so everything is inside the (24 h) state window.
    const now0 = Date.now() - 1_800_000;
    await produceAll(kafka, topics.signals, Array.from({ length: pods }, (_, n) => message(podSignal(n, now0), now0)));
    const logs: Array<{ key: string; value: string; timestamp: string }> = [];
    for (let b = 0; b < batches; b += 1) for (let n = 0; n < pods; n += 1) logs.push(logBatchMessage(n, now0 + 1_000 + b * 1_000, LINES_PER_BATCH));
    await produceAll(kafka, topics.logs, logs, 1_000);
    // One pod in ten is killed before the crash, as many again while the correlator is down.
    const killedBefore = Array.from({ length: Math.ceil(pods / 10) }, (_, i) => i * 10);
    const killedDuring = Array.from({ length: Math.ceil(pods / 10) }, (_, i) => i * 10 + 5).filter((n) => n < pods);
    const killAt = now0 + 1_000 + batches * 1_000 + 60_000;
    await produceAll(kafka, topics.signals, killedBefore.flatMap((n) => killSignals(n, killAt + n).map((sig) => message(sig, killAt + n))));
    const before = expectedIds(killedBefore);
    await until('records of the kills before the crash', async () => {
      const ids = await recordIds(s);
      return before.every((id) => ids.has(id));
    }, 600_000);
    // Input not yet in a snapshot gets one within an interval (snapshots.ts SnapshotCadence): the crash comes after it,
    // as a crash at a random time mostly would. The same wait in both runs.
    await new Promise((r) => setTimeout(r, SNAPSHOT_INTERVAL_MS + 3_000));
    const snapshotBytes = snapshots ? await first.metric('killtrace_correlator_snapshot_bytes_sum') : 0;
    await first.kill9();
    await produceAll(kafka, topics.signals, killedDuring.flatMap((n) => killSignals(n, killAt + n).map((sig) => message(sig, killAt + n))));

    second = new CorrelatorProcess(env);
    const started = Date.now();
    await second.start();
    await second.ready(600_000);
    const readyMs = Date.now() - started;
    const assigned = second.output.map((line) => {
      try {
        return JSON.parse(line) as { event?: string; time?: string };
      } catch {
        return {};
      }
    }).find((l) => l.event === 'PartitionsAssigned' && l.time !== undefined);
    const assignedMs = assigned?.time === undefined ? Number.NaN : Date.parse(assigned.time) - started;
    const all = [...before, ...expectedIds(killedDuring)];
    await until('every record after the restart', async () => {
      const ids = await recordIds(s);
      return all.every((id) => ids.has(id));
    }, 300_000);
    const ids = await recordIds(s);
    const missing = all.filter((id) => !ids.has(id));
    const extra = [...ids.keys()].filter((id) => !all.includes(id));
    const duplicated = [...ids.values()].filter((c) => c > 1).length;
    if (missing.length > 0 || extra.length > 0 || duplicated > 0) {
      throw new Error(`bench ${name}: ${missing.length} records lost, ${extra.length} unexpected, ${duplicated} duplicated`);
    }
    const result: RunResult = {
      readyMs,
      assignedMs,
      replayed: await second.metric('killtrace_correlator_replayed_messages_total'),
      restored: await second.metric('killtrace_correlator_snapshots_total', { outcome: 'restored' }),
      snapshotBytes,
      inputMessages: pods + logs.length + (killedBefore.length + killedDuring.length) * 5,
      records: ids.size,
    };
    await second.stop();
    return result;
  } finally {
    if (first.running) await first.kill9();
    if (second?.running) await second.kill9();
    await deleteAll(s);
  }
}

const recoveryBench: BenchCase = {
  name: 'recovery',
  description: 'correlator start-to-ready after kill -9 with 5,000 active pods, snapshots off vs on',
  async run({ smoke, report }) {
    const pods = smoke ? 100 : Number(process.env.KILLTRACE_BENCH_RECOVERY_PODS ?? 5_000);
    const batches = smoke ? 2 : Number(process.env.KILLTRACE_BENCH_RECOVERY_BATCHES ?? 10);
    buildCorrelator();
    const off = await run('rec-off', false, pods, batches);
    const on = await run('rec-on', true, pods, batches);
    const rows: BenchRow[] = [
      { metric: `start to ready after kill -9, snapshots off (${pods} pods)`, value: (off.readyMs / 1000).toFixed(1), unit: `s, ${off.replayed} messages replayed` },
      {
        metric: `start to ready after kill -9, snapshots on (${pods} pods)`,
        value: (on.readyMs / 1000).toFixed(1),
        unit: `s, ${on.replayed} messages replayed, ${on.restored} partitions restored`,
        target: '< 30 s',
        ok: on.readyMs < 30_000 && on.restored > 0,
      },
      { metric: 'records lost / duplicated (both runs)', value: '0 / 0', unit: `${on.records} records` },
    ];
    report({
      title: `Correlator recovery after kill -9, ${pods.toLocaleString('en-US')} pods, ${batches} log batches of ${LINES_PER_BATCH} lines each`,
      columns: ['snapshots off', 'snapshots on'],
      rows: [
        { metric: 'start to /readyz 200 (s)', cells: [(off.readyMs / 1000).toFixed(1), (on.readyMs / 1000).toFixed(1)] },
        { metric: '  of which waiting for the assignment (s)', cells: [(off.assignedMs / 1000).toFixed(1), (on.assignedMs / 1000).toFixed(1)] },
        { metric: '  after the assignment (s)', cells: [((off.readyMs - off.assignedMs) / 1000).toFixed(1), ((on.readyMs - on.assignedMs) / 1000).toFixed(1)] },
        { metric: 'messages replayed', cells: [String(off.replayed), String(on.replayed)] },
        { metric: 'partitions restored from a snapshot', cells: [String(off.restored), String(on.restored)] },
        { metric: 'snapshot bytes written (gzip, all)', cells: ['-', String(on.snapshotBytes)] },
        { metric: 'input messages', cells: [String(off.inputMessages), String(on.inputMessages)] },
        { metric: 'records (none lost, none duplicated)', cells: [String(off.records), String(on.records)] },
      ],
      notes: [
        `3 partitions; snapshot interval ${SNAPSHOT_INTERVAL_MS / 1000} s; the kill follows the last snapshot by about one interval.`,
        'The wait for the assignment is the killed member\'s session expiring (correlator.sessionTimeoutMs, 15 s by default).',
      ],
    });
    return rows;
  },
};

export default recoveryBench;
