import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createElasticClient, installIndexTemplate } from '@killtrace/elastic';
import { createProducer, decodeMessage, ensureTopics, killtraceTopics, type KillProducer } from '@killtrace/kafka';
import { createKafkaClient } from '../../libs/kafka/src/testing.js';
import { createLogger } from '@killtrace/logging';
import { deadLetterMessageSchema, recordMessageSchema, restartRecordId, type DeadLetterMessage, type RecordMessage, type RestartRecord } from '@killtrace/schemas';
import { createRegistry } from '@killtrace/service-http';
import { FATAL_ATTEMPTS, RecordSink, SinkFatal } from '../../services/correlator/src/record-sink.js';
import { createTelemetry } from '../../services/correlator/src/telemetry.js';
import { runAnalysis } from '../../services/cli/src/run-analysis.js';
import { cleanup, elasticDocs, elasticFor, kafkaFor, pipelineSetup, root, type PipelineSetup } from '../e2e/harness.js';
import { waitFor } from './helpers.js';

/**
 * One bad record never stalls the others: the record sink against the real Kafka and Elasticsearch. A record failing
 * the records-topic schema, and one the broker refuses (too large), each go to the dead-letter topic alone, the
 * others are written, and the sink never reports itself degraded (which would pause every partition's consumer).
 */

const logger = createLogger({ name: 'record-sink-it', level: 'silent', format: 'json' });
let setup: PipelineSetup;
let producer: KillProducer;
let refusing: Server;
const updates: Array<{ id: string; record: RestartRecord }> = [];

async function readTopic<T>(topic: string, schema: Parameters<typeof decodeMessage>[0], count: number): Promise<T[]> {
  const consumer = createKafkaClient(setup.config.kafka, { clientId: `read-${setup.suffix}` }).consumer({ groupId: `read-${topic}-${Date.now()}` });
  const out: T[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const decoded = decodeMessage(schema, message.value);
      if (decoded.ok) out.push(decoded.value as T);
    },
  });
  try {
    await waitFor(`${count} messages on ${topic}`, () => out.length >= count, 30_000);
  } finally {
    await consumer.disconnect();
  }
  return out;
}

beforeAll(async () => {
  setup = pipelineSetup('sink', 1);
  const kafka = kafkaFor(setup);
  await ensureTopics(kafka, killtraceTopics(setup.config.kafka));
  await installIndexTemplate(elasticFor(setup), { alias: setup.alias });
  producer = createProducer(kafka);
  await producer.connect();
  const { records } = await runAnalysis({ dir: join(root, 'examples', 'host-agent-crashloop'), clusterName: 'it' });
  for (const record of records) updates.push({ id: restartRecordId(record.kubernetes.pod.uid, record.kubernetes.container.name, record.killtrace.restart.count), record });
  // Stands in for an Elasticsearch that refuses every request (403): the shared one runs without security.
  refusing = createServer((_req, res) => {
    res.writeHead(403, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
    res.end(JSON.stringify({ error: { type: 'security_exception', reason: 'action [indices:data/write/bulk] is unauthorized' }, status: 403 }));
  });
  await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
}, 120_000);

afterAll(async () => {
  await producer?.disconnect();
  await new Promise((resolve) => refusing?.close(resolve));
  await cleanup(setup, kafkaFor(setup), elasticFor(setup));
});

function sink(elasticUrl?: string): { sink: RecordSink; degraded: string[] } {
  const degraded: string[] = [];
  const elastic = elasticUrl === undefined ? elasticFor(setup) : createElasticClient({ ...setup.config.elasticsearch, url: elasticUrl }, { requestTimeoutMs: 5_000, maxRetries: 0 });
  const s = new RecordSink({
    elastic,
    alias: setup.alias,
    records: producer.topic(setup.topics.records, recordMessageSchema),
    deadLetter: producer.topic(setup.topics.deadLetter, deadLetterMessageSchema),
    telemetry: createTelemetry(createRegistry('it'), logger),
    retryInitialMs: 20,
    retryMaxMs: 100,
    onDegraded: (isDegraded, reason) => {
      if (isDegraded) degraded.push(reason);
    },
  });
  return { sink: s, degraded };
}

describe('record sink: one bad record never stalls the others', () => {
  it('dead-letters a record failing the records-topic schema and one the broker refuses as too large, alone', async () => {
    const [broken, huge, ...good] = updates;
    if (!broken || !huge) throw new Error('the example has fewer than 3 records');
    const badSchema = { id: broken.id, record: { ...broken.record, killtrace: { ...broken.record.killtrace, cause: 'gremlins' } } as unknown as RestartRecord };
    // Over the broker's 1 MiB message limit, but a fine Elasticsearch document.
    const tooLarge = { id: huge.id, record: { ...huge.record, kubernetes: { ...huge.record.kubernetes, labels: { blob: 'x'.repeat(1_200_000) } } } };
    const { sink: s, degraded } = sink();
    const rejected = await s.write([badSchema, tooLarge, ...good], new AbortController().signal);
    expect(rejected).toBe(2);
    expect(degraded).toEqual([]);

    const letters = await readTopic<DeadLetterMessage>(setup.topics.deadLetter, deadLetterMessageSchema, 2);
    const schemaLetter = letters.find((l) => l.stage === 'correlator.records-schema');
    expect(schemaLetter?.key).toBe(broken.id);
    expect(schemaLetter?.reason).toContain('killtrace.cause');
    expect(JSON.parse(Buffer.from(schemaLetter?.original ?? '', 'base64').toString('utf8')).record.killtrace.cause).toBe('gremlins');
    const sizeLetter = letters.find((l) => l.stage === 'correlator.records-topic');
    expect(sizeLetter?.key).toBe(huge.id);
    expect(sizeLetter?.reason).toContain('MESSAGE_TOO_LARGE');
    expect(sizeLetter?.reason).toContain('original cut to its first');

    const published = await readTopic<RecordMessage>(setup.topics.records, recordMessageSchema, good.length);
    expect(published.map((m) => m.id).sort()).toEqual(good.map((u) => u.id).sort());
    const { docs } = await elasticDocs(elasticFor(setup), setup.alias);
    // The schema failure reached neither sink; the oversized record is a valid document, kept in Elasticsearch.
    expect(docs.has(broken.id)).toBe(false);
    expect(docs.has(huge.id)).toBe(true);
    for (const u of good) expect(docs.has(u.id)).toBe(true);
  });

  it('gives up on an error retrying cannot fix after a bounded number of attempts, instead of retrying forever', async () => {
    const address = refusing.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const { sink: s, degraded } = sink(`http://127.0.0.1:${port}`);
    const error = await s.write(updates.slice(0, 1), new AbortController().signal).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SinkFatal);
    expect((error as SinkFatal).code).toBe('KT_ERR_CORRELATOR_SINK_FATAL');
    expect((error as Error).message).toContain(`elasticsearch failed ${FATAL_ATTEMPTS} times in a row`);
    expect((error as Error).message).toContain('403');
    expect(degraded.length).toBe(FATAL_ATTEMPTS - 1);
  });
});
