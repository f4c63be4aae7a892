import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readBundle } from '@killtrace/bundle';
import { ClusterContext, Correlator } from '@killtrace/correlation';
import { builtinProfiles } from '@killtrace/profiles';
import { createElasticClient, type ElasticClient } from '@killtrace/elastic';
import { createKafkaClient, type KafkaClient } from '../../libs/kafka/src/testing.js';
import { loadConfig, type Config } from '@killtrace/config';
import { contextFactSchema, contextKey, restartRecordId, signalKey, signalTime, type RestartRecord, type Signal } from '@killtrace/schemas';
import { inject } from 'vitest';
import { runAnalysis } from '../../services/cli/src/run-analysis.js';
import { uniqueSuffix } from '../integration/helpers.js';

export { CorrelatorProcess, freePort } from './process.js';

/**
 * Pipeline test harness: a bundle's signals produced to the topics as collectors would (keyed by pod uid, the
 * event time as the Kafka timestamp), the correlator run as a real child process, and what Elasticsearch holds
 * compared with what `killtrace analyze` gives for the same bundle.
 */

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const CLUSTER = 'e2e';

export interface PipelineSetup {
  suffix: string;
  env: Record<string, string>;
  config: Config;
  alias: string;
  topics: Config['kafka']['topics'];
}

/** Unique topics, group, index alias for one test; the environment the correlator child process gets. */
export function pipelineSetup(name: string, partitions: number, extraEnv: Record<string, string> = {}): PipelineSetup {
  const suffix = `${name}-${uniqueSuffix()}`;
  const env: Record<string, string> = {
    KILLTRACE_CLUSTER_NAME: CLUSTER,
    KAFKA_BROKERS: inject('kafkaBrokers'),
    ELASTICSEARCH_URL: inject('elasticsearchUrl'),
    KILLTRACE_KAFKA_CLIENT_ID: `kt-e2e-${suffix}`,
    KILLTRACE_KAFKA_PARTITIONS: String(partitions),
    KILLTRACE_KAFKA_TOPIC_SIGNALS: `kt-e2e-signals-${suffix}`,
    KILLTRACE_KAFKA_TOPIC_LOGS: `kt-e2e-logs-${suffix}`,
    KILLTRACE_KAFKA_TOPIC_RECORDS: `kt-e2e-records-${suffix}`,
    KILLTRACE_KAFKA_TOPIC_DEAD_LETTER: `kt-e2e-dead-letter-${suffix}`,
    KILLTRACE_KAFKA_TOPIC_CONTEXT: `kt-e2e-context-${suffix}`,
    KILLTRACE_KAFKA_TOPIC_SNAPSHOTS: `kt-e2e-snapshots-${suffix}`,
    KILLTRACE_ELASTICSEARCH_INDEX_PREFIX: `kt-e2e-${suffix}`.toLowerCase(),
    KILLTRACE_LOG_FORMAT: 'json',
    KILLTRACE_LOG_LEVEL: 'info',
    KILLTRACE_CORRELATOR_FLUSH_INTERVAL_MS: '100',
    KILLTRACE_CORRELATOR_RETRY_MAX_MS: '2000',
    ...extraEnv,
  };
  const config = loadConfig({ env });
  return { suffix, env, config, alias: config.elasticsearch.indexPrefix, topics: config.kafka.topics };
}

/**
 * The bundle's signals in event-time order, as the collectors would publish them: kubelet lines without a pod
 * uid get it from the pod of the same namespace/name (the node agent resolves it from /var/log/pods).
 */
export async function bundleSignals(dir: string): Promise<Array<{ signal: Signal; time: number }>> {
  const signals: Signal[] = [];
  await readBundle({ paths: [dir], onSignal: (s) => void signals.push(s) });
  const uids = new Map<string, string>();
  for (const s of signals) if (s.kind === 'pod') uids.set(`${s.pod.namespace}/${s.pod.name}`, s.pod.uid);
  const out: Array<{ signal: Signal; time: number }> = [];
  for (const s of signals) {
    let signal = s;
    if (s.kind === 'kubelet' && s.pod.uid === undefined) {
      const uid = uids.get(`${s.pod.namespace}/${s.pod.name}`);
      if (uid !== undefined) signal = { ...s, pod: { ...s.pod, uid } };
    }
    out.push({ signal, time: signalTime(signal) ?? podTime(signal) });
  }
  return out.sort((a, b) => a.time - b.time);
}

function podTime(signal: Signal): number {
  if (signal.kind !== 'pod') return 0;
  const p = signal.pod;
  const times = [p.startTime ?? 0];
  for (const s of p.statuses) times.push(s.lastTerminated?.finishedAt ?? 0, s.state.kind === 'running' ? (s.state.startedAt ?? 0) : 0);
  return Math.max(...times);
}

/** What `killtrace analyze` says about the same bundle, by document id, `killtrace.status` left out. */
export async function expectedRecords(dir: string): Promise<Map<string, RestartRecord>> {
  const { records } = await runAnalysis({ dir, clusterName: CLUSTER });
  return new Map(records.map((r) => [restartRecordId(r.kubernetes.pod.uid, r.kubernetes.container.name, r.killtrace.restart.count), withoutStatus(r)]));
}

export function withoutStatus(record: RestartRecord): RestartRecord {
  const { status: _status, ...killtrace } = record.killtrace;
  return { ...record, killtrace } as RestartRecord;
}

/**
 * The partition of a key, chosen by the test (FNV-1a) rather than by the client's partitioner, so the test knows
 * which signals share a correlator state; co-partitioning holds because both topics use the same function.
 */
export function partitionOf(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return hash % partitions;
}

/**
 * What an uninterrupted correlator gives: one pure core per partition over that partition's signals, all final,
 * sharing the cluster context (pod init observations, placements, node labels) as the context topic does
 * (decision 0017). The same as `killtrace analyze` whatever the partitioning (test/unit/cluster-context.test.ts).
 */
export function partitionedExpectation(items: ReadonlyArray<{ signal: Signal }>, partitions: number): Map<string, RestartRecord> {
  const cores = new Map<number, Correlator>();
  const context = new ClusterContext();
  for (const { signal } of items) {
    const p = partitionOf(signalKey(signal), partitions);
    let core = cores.get(p);
    if (!core) {
      core = new Correlator({ clusterName: CLUSTER, profiles: builtinProfiles(), context });
      cores.set(p, core);
    }
    core.ingest(signal);
  }
  // Round after round, as the context channel publishes: a pod's kills (in its fact after an analysis) can depend
  // on the learned sequence other partitions' sightings give.
  for (let round = 0; round < 5; round += 1) {
    let changed = 0;
    for (const core of cores.values()) core.records();
    for (const core of cores.values()) for (const fact of core.contextFacts()) if (context.apply(contextKey(fact), contextFactSchema.parse(fact))) changed += 1;
    if (changed === 0) break;
  }
  const out = new Map<string, RestartRecord>();
  for (const core of cores.values()) {
    for (const r of core.records()) out.set(restartRecordId(r.kubernetes.pod.uid, r.kubernetes.container.name, r.killtrace.restart.count), withoutStatus(r));
  }
  return out;
}

/** Produces signals to the signals/logs topics with the event time as the message timestamp. */
export async function produceSignals(
  kafka: KafkaClient,
  topics: Config['kafka']['topics'],
  items: ReadonlyArray<{ signal: Signal; time: number }>,
  partitions = 1,
): Promise<void> {
  if (items.length === 0) return;
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const toMessage = ({ signal, time }: { signal: Signal; time: number }) => ({
      key: signalKey(signal),
      partition: partitionOf(signalKey(signal), partitions),
      value: JSON.stringify({ v: 1, producer: { component: 'test', instance: 'e2e' }, signal }),
      timestamp: String(Math.round(time)),
    });
    const logs = items.filter((i) => i.signal.kind === 'app_log').map(toMessage);
    const others = items.filter((i) => i.signal.kind !== 'app_log').map(toMessage);
    if (others.length > 0) await producer.send({ topic: topics.signals, acks: -1, messages: others });
    if (logs.length > 0) await producer.send({ topic: topics.logs, acks: -1, messages: logs });
  } finally {
    await producer.disconnect();
  }
}

export function kafkaFor(setup: PipelineSetup): KafkaClient {
  return createKafkaClient(setup.config.kafka, { clientId: `kt-e2e-driver-${setup.suffix}` });
}

export function elasticFor(setup: PipelineSetup): ElasticClient {
  return createElasticClient(setup.config.elasticsearch, { requestTimeoutMs: 5_000, maxRetries: 0 });
}

/** Every document behind the alias by `_id`, and the total hit count (more hits than ids would mean duplicates). */
export async function elasticDocs(es: ElasticClient, alias: string): Promise<{ total: number; docs: Map<string, RestartRecord> }> {
  await es.indices.refresh({ index: alias });
  const result = await es.search<RestartRecord>({ index: alias, size: 10_000, query: { match_all: {} }, track_total_hits: true });
  const docs = new Map<string, RestartRecord>();
  for (const hit of result.hits.hits) if (hit._id !== undefined && hit._source) docs.set(hit._id, hit._source);
  const total = typeof result.hits.total === 'number' ? result.hits.total : (result.hits.total?.value ?? 0);
  return { total, docs };
}

/** Polls Elasticsearch until it holds exactly `expected` (status ignored) or the timeout passes; returns the last view. */
export async function waitForDocs(es: ElasticClient, alias: string, expected: Map<string, RestartRecord>, timeoutMs: number): Promise<{ total: number; docs: Map<string, RestartRecord> }> {
  const deadline = Date.now() + timeoutMs;
  let last = { total: 0, docs: new Map<string, RestartRecord>() };
  while (Date.now() < deadline) {
    try {
      last = await elasticDocs(es, alias);
      if (sameRecords(last.docs, expected)) return last;
    } catch {
      // the alias may not exist yet, or Elasticsearch is paused
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return last;
}

export function sameRecords(actual: Map<string, RestartRecord>, expected: Map<string, RestartRecord>): boolean {
  if (actual.size !== expected.size) return false;
  for (const [id, record] of expected) {
    const doc = actual.get(id);
    if (doc === undefined || JSON.stringify(sortKeys(withoutStatus(doc))) !== JSON.stringify(sortKeys(record))) return false;
  }
  return true;
}

export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}

let built = false;
/** Builds the correlator (incremental `tsc -b`) once per test file. */
export function buildCorrelator(): void {
  if (built) return;
  const result = spawnSync('npx', ['tsc', '-b', 'services/correlator'], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0) throw new Error(`building the correlator failed:\n${result.stdout}\n${result.stderr}`);
  built = true;
}

/** Deletes a test's topics and index (best effort). */
export async function cleanup(setup: PipelineSetup, kafka: KafkaClient, es: ElasticClient): Promise<void> {
  const admin = kafka.admin();
  await admin.connect().catch(() => undefined);
  await admin.deleteTopics({ topics: [setup.topics.signals, setup.topics.logs, setup.topics.records, setup.topics.deadLetter, setup.topics.context, setup.topics.snapshots] }).catch(() => undefined);
  await admin.deleteGroups([`${setup.config.kafka.clientId}.correlator`]).catch(() => undefined);
  await admin.disconnect().catch(() => undefined);
  await es.indices.delete({ index: `${setup.alias}-*` }).catch(() => undefined);
  await es.close().catch(() => undefined);
}
