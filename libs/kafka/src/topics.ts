import type { Config } from '@killtrace/config';
import { rawClient, type KafkaConnection } from './client.js';
import { retry, RetryStopped } from '@killtrace/retry';
import { classifyKafkaError, KafkaAdapterError } from './errors.js';

/** A topic as Killtrace wants it. */
export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor: number;
  /** Topic-level configuration, e.g. `{ 'cleanup.policy': 'compact' }`; only applied at creation. */
  configEntries?: Readonly<Record<string, string>>;
}

/** An existing topic that differs from its spec; Kafka cannot shrink partitions or change replication in place. */
export interface TopicMismatch {
  topic: string;
  setting: 'partitions' | 'replicationFactor';
  expected: number;
  actual: number;
}

export interface EnsureTopicsReport {
  created: string[];
  existing: string[];
  mismatches: TopicMismatch[];
}

export interface EnsureTopicsOptions {
  /** Throw KT_ERR_KAFKA_TOPIC_MISMATCH instead of only reporting mismatches. */
  strict?: boolean;
  timeoutMs?: number;
}

/** Topic configuration of the correlator's snapshots topic (services/correlator/src/snapshots.ts, decision 0016). */
export const SNAPSHOT_TOPIC_CONFIG: Readonly<Record<string, string>> = {
  'cleanup.policy': 'compact',
  'segment.ms': '600000',
  'min.cleanable.dirty.ratio': '0.1',
  'delete.retention.ms': '3600000',
};

/** The topics Killtrace's services use, with the configured partitions and replication. */
export function killtraceTopics(config: Config['kafka']): TopicSpec[] {
  const base = { partitions: config.partitions, replicationFactor: config.replicationFactor };
  const { signals, logs, records, deadLetter, context, snapshots } = config.topics;
  return [
    { topic: signals, ...base },
    { topic: logs, ...base },
    { topic: records, ...base },
    { topic: deadLetter, ...base },
    // Compacted: the latest fact per key (pod/<uid>, node/<name>) is kept for as long as it is not tombstoned.
    { topic: context, ...base, configEntries: { 'cleanup.policy': 'compact' } },
    // Only the latest snapshot of each key matters; small segments let the cleaner keep the topic near that size.
    { topic: snapshots, ...base, configEntries: SNAPSHOT_TOPIC_CONFIG },
  ];
}

/**
 * Creates the topics that do not exist yet and reports those that exist with other partitions or replication.
 * Idempotent: safe to run at every service start and concurrently from several processes.
 */
export async function ensureTopics(kafka: KafkaConnection, specs: readonly TopicSpec[], options: EnsureTopicsOptions = {}): Promise<EnsureTopicsReport> {
  const admin = rawClient(kafka).admin();
  await admin.connect();
  try {
    const present = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !present.has(s.topic));
    const created: string[] = [];
    if (missing.length > 0) {
      // createTopics resolves false (not an error) for topics another process created in the meantime. Under load
      // its wait for leaders can fail with UNKNOWN_TOPIC_OR_PARTITION, which kafkajs does not retry there (it retries
      // only LEADER_NOT_AVAILABLE): the broker's metadata lags the creation, so another attempt succeeds.
      await retryRetriable(() => admin.createTopics({
        waitForLeaders: true,
        timeout: options.timeoutMs ?? 30_000,
        topics: missing.map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions,
          replicationFactor: s.replicationFactor,
          configEntries: Object.entries(s.configEntries ?? {}).map(([name, value]) => ({ name, value })),
        })),
      }));
      created.push(...missing.map((s) => s.topic));
    }
    const existingSpecs = specs.filter((s) => present.has(s.topic));
    const mismatches: TopicMismatch[] = [];
    if (existingSpecs.length > 0) {
      const metadata = await admin.fetchTopicMetadata({ topics: existingSpecs.map((s) => s.topic) });
      for (const spec of existingSpecs) {
        const topic = metadata.topics.find((t) => t.name === spec.topic);
        if (topic === undefined) continue;
        if (topic.partitions.length !== spec.partitions) {
          mismatches.push({ topic: spec.topic, setting: 'partitions', expected: spec.partitions, actual: topic.partitions.length });
        }
        const replicas = Math.min(...topic.partitions.map((p) => p.replicas.length));
        if (topic.partitions.length > 0 && replicas !== spec.replicationFactor) {
          mismatches.push({ topic: spec.topic, setting: 'replicationFactor', expected: spec.replicationFactor, actual: replicas });
        }
      }
    }
    if (options.strict === true && mismatches.length > 0) {
      const details = mismatches.map((m) => `${m.topic}: ${m.setting} is ${m.actual}, configured ${m.expected}`);
      throw new KafkaAdapterError('KT_ERR_KAFKA_TOPIC_MISMATCH', `existing topics differ from the configuration: ${details.join('; ')}`, {
        topic: mismatches[0]?.topic,
        details,
      });
    }
    return { created, existing: existingSpecs.map((s) => s.topic), mismatches };
  } finally {
    await admin.disconnect();
  }
}

const TOPIC_ADMIN_RETRY = { initialMs: 250, maxMs: 2_000, maxAttempts: 6 };

/** Runs an admin call again after a retriable broker error (classifyKafkaError); the last failure is rethrown as is. */
async function retryRetriable<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await retry(operation, { policy: TOPIC_ADMIN_RETRY, retriable: (error) => classifyKafkaError(error).kind === 'retriable' });
  } catch (error) {
    throw error instanceof RetryStopped ? error.cause : error;
  }
}

/** Partition count of each topic (0 for a topic that does not exist). */
export async function partitionCounts(kafka: KafkaConnection, topics: readonly string[]): Promise<Map<string, number>> {
  const admin = rawClient(kafka).admin();
  await admin.connect();
  try {
    const present = new Set(await admin.listTopics());
    const existing = topics.filter((t) => present.has(t));
    const metadata = existing.length === 0 ? { topics: [] } : await admin.fetchTopicMetadata({ topics: existing });
    return new Map(topics.map((t) => [t, metadata.topics.find((m) => m.name === t)?.partitions.length ?? 0]));
  } finally {
    await admin.disconnect();
  }
}
