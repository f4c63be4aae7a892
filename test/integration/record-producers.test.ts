import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installIndexTemplate } from '@killtrace/elastic';
import { createProducer, createProducerGroup, decodeMessage, ensureTopics, killtraceTopics, partitionOfKey, readPartitions, type KillProducer, type ProducerGroup } from '@killtrace/kafka';
import { createKafkaClient } from '../../libs/kafka/src/testing.js';
import { createLogger } from '@killtrace/logging';
import { deadLetterMessageSchema, recordMessageSchema, restartRecordId, type RecordMessage, type RestartRecord } from '@killtrace/schemas';
import { createRegistry } from '@killtrace/service-http';
import { RecordSink } from '../../services/correlator/src/record-sink.js';
import { createTelemetry } from '../../services/correlator/src/telemetry.js';
import { runAnalysis } from '../../services/cli/src/run-analysis.js';
import { cleanup, elasticDocs, elasticFor, kafkaFor, pipelineSetup, root, type PipelineSetup } from '../e2e/harness.js';

/**
 * The records topic written by several idempotent producers (libs/kafka/src/producer-group.ts), partition p through
 * producer p mod K, against the real Kafka and Elasticsearch: every record of many pods arrives, on the partition its
 * key gives (the default partitioner's, as with one producer), and a record re-emitted across flushes is read back
 * last in its latest version, in Elasticsearch too.
 */

const PARTITIONS = 8;
const PRODUCERS = 3;
const PODS = 120;
const VERSIONS = 4;

const logger = createLogger({ name: 'record-producers-it', level: 'silent', format: 'json' });
let setup: PipelineSetup;
let group: ProducerGroup;
let producer: KillProducer;
let template: RestartRecord;

beforeAll(async () => {
  setup = pipelineSetup('rprod', PARTITIONS);
  const kafka = kafkaFor(setup);
  await ensureTopics(kafka, killtraceTopics(setup.config.kafka));
  await installIndexTemplate(elasticFor(setup), { alias: setup.alias });
  group = createProducerGroup(createKafkaClient(setup.config.kafka, { clientId: `rprod-${setup.suffix}` }), { size: PRODUCERS });
  producer = createProducer(kafka);
  await Promise.all([group.connect(), producer.connect()]);
  const { records } = await runAnalysis({ dir: join(root, 'examples', 'host-agent-crashloop'), clusterName: 'it' });
  const first = records[0];
  if (first === undefined) throw new Error('the example produced no record');
  template = first;
}, 120_000);

afterAll(async () => {
  await group?.disconnect();
  await producer?.disconnect();
  await cleanup(setup, kafkaFor(setup), elasticFor(setup));
});

/** Version `version` of the record of pod `uid`: same `_id` every version, a label saying which one. */
function recordOf(uid: string, version: number): { id: string; record: RestartRecord } {
  const record: RestartRecord = { ...template, kubernetes: { ...template.kubernetes, pod: { ...template.kubernetes.pod, uid }, labels: { version: String(version) } } };
  return { id: restartRecordId(uid, record.kubernetes.container.name, record.killtrace.restart.count), record };
}

describe('records topic through a producer group', () => {
  it('delivers every record on its key partition, the latest version of each _id last, over K producers', async () => {
    expect(group.size).toBe(PRODUCERS);
    const sink = new RecordSink({
      elastic: elasticFor(setup),
      alias: setup.alias,
      records: group.topic(setup.topics.records, recordMessageSchema),
      deadLetter: producer.topic(setup.topics.deadLetter, deadLetterMessageSchema),
      telemetry: createTelemetry(createRegistry('it'), logger),
      retryInitialMs: 20,
      retryMaxMs: 100,
      onDegraded: () => undefined,
    });
    const uids = Array.from({ length: PODS }, () => randomUUID());
    // Each flush re-emits every pod's record in the next version, as the correlator does while evidence arrives.
    for (let version = 1; version <= VERSIONS; version += 1) {
      const rejected = await sink.write(uids.map((uid) => recordOf(uid, version)), new AbortController().signal);
      expect(rejected).toBe(0);
    }

    const read = await readPartitions(kafkaFor(setup), { topic: setup.topics.records, partitions: Array.from({ length: PARTITIONS }, (_, p) => p), groupId: `rprod-read-${setup.suffix}` });
    expect(read).toHaveLength(PODS * VERSIONS);
    const seen = new Map<string, number[]>();
    const partitionsUsed = new Set<number>();
    for (const message of read) {
      const decoded = decodeMessage(recordMessageSchema, message.value);
      expect(decoded.ok).toBe(true);
      if (!decoded.ok) continue;
      const value = decoded.value as RecordMessage;
      // The partition the key gives: a consumer of the records topic sees each pod where one producer would put it.
      expect(message.partition).toBe(partitionOfKey(value.record.kubernetes.pod.uid, PARTITIONS));
      partitionsUsed.add(message.partition);
      seen.set(value.id, [...(seen.get(value.id) ?? []), Number(value.record.kubernetes.labels?.['version'])]);
    }
    // Many partitions, so every producer of the group wrote some (partition p -> producer p mod K).
    expect(new Set([...partitionsUsed].map((p) => p % PRODUCERS)).size).toBe(PRODUCERS);
    expect(seen.size).toBe(PODS);
    // Per-partition order: the versions of one _id come back in the order they were written, the latest last.
    for (const versions of seen.values()) expect(versions).toEqual([1, 2, 3, 4]);

    const { total, docs } = await elasticDocs(elasticFor(setup), setup.alias);
    expect(total).toBe(PODS);
    for (const uid of uids) expect(docs.get(recordOf(uid, VERSIONS).id)?.kubernetes.labels?.['version']).toBe(String(VERSIONS));
  }, 120_000);
});
