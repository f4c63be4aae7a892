import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeMessage } from '@killtrace/kafka';
import { createKafkaClient } from '../../libs/kafka/src/testing.js';
import { createLogger } from '@killtrace/logging';
import { deadLetterMessageSchema, type DeadLetterMessage, type Signal } from '@killtrace/schemas';
import { startCorrelator, type RunningCorrelator } from '../../services/correlator/src/main.js';
import { bundleSignals, cleanup, elasticFor, expectedRecords, kafkaFor, pipelineSetup, produceSignals, root, waitForDocs, type PipelineSetup } from '../e2e/harness.js';
import { waitFor } from './helpers.js';

/** The correlator in-process against the real servers: dead letters and startup checks. */

const EXAMPLE = join(root, 'examples', 'host-agent-crashloop');
const KERNEL_OOM = join(root, 'test', 'fixtures', 'inputs', 'kernel-oom');
const running: RunningCorrelator[] = [];
const setups: PipelineSetup[] = [];
const logger = createLogger({ name: 'correlator-it', level: 'warn', format: 'json' });

async function start(setup: PipelineSetup): Promise<RunningCorrelator> {
  const c = await startCorrelator(setup.config, logger);
  running.push(c);
  return c;
}

function setupFor(name: string, partitions = 1): PipelineSetup {
  const setup = pipelineSetup(name, partitions, { KILLTRACE_HTTP_PORT: '0' });
  setups.push(setup);
  return setup;
}

/** Reads the dead-letter topic from the beginning until `count` letters arrived. */
async function deadLetters(setup: PipelineSetup, count: number): Promise<DeadLetterMessage[]> {
  const kafka = createKafkaClient(setup.config.kafka, { clientId: `dlq-reader-${setup.suffix}` });
  const letters: DeadLetterMessage[] = [];
  const consumer = kafka.consumer({ groupId: `dlq-reader-${setup.suffix}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [setup.topics.deadLetter], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const decoded = decodeMessage(deadLetterMessageSchema, message.value);
      if (decoded.ok) letters.push(decoded.value);
    },
  });
  try {
    await waitFor(`${count} dead letters`, () => letters.length >= count, 30_000);
  } finally {
    await consumer.disconnect();
  }
  return letters;
}

afterAll(async () => {
  for (const c of running) await c.close();
  for (const setup of setups) await cleanup(setup, kafkaFor(setup), elasticFor(setup));
});

describe('correlator against real Kafka and Elasticsearch', () => {
  it('dead-letters messages that fail validation with their bytes, and keeps consuming', async () => {
    const setup = setupFor('invalid');
    const kafka = kafkaFor(setup);
    const correlator = await start(setup);
    expect(correlator.httpPort).toBeGreaterThan(0);
    const producer = kafka.producer();
    await producer.connect();
    const garbage = Buffer.from([0xff, 0x00, 0x7b, 0x6e, 0x6f]);
    const wrongVersion = JSON.stringify({ v: 2, producer: { component: 'test', instance: 'it' }, signal: { kind: 'pod' } });
    await producer.send({ topic: setup.topics.signals, messages: [{ key: 'x', value: garbage }, { key: 'y', value: wrongVersion }] });
    await producer.send({ topic: setup.topics.logs, messages: [{ key: 'z', value: '{"v":1,"producer":{"component":"test","instance":"it"},"signal":{"kind":"pod"}}' }] });
    await producer.disconnect();
    await produceSignals(kafka, setup.topics, await bundleSignals(EXAMPLE));

    const expected = await expectedRecords(EXAMPLE);
    const { docs } = await waitForDocs(elasticFor(setup), setup.alias, expected, 60_000);
    expect(docs.size).toBe(expected.size);
    const letters = await deadLetters(setup, 3);
    expect(letters).toHaveLength(3);
    expect(letters.every((l) => l.stage === 'correlator.decode')).toBe(true);
    const fromSignals = letters.filter((l) => l.topic === setup.topics.signals).sort((a, b) => Number(a.offset) - Number(b.offset));
    expect(Buffer.from(fromSignals[0]?.original ?? '', 'base64')).toEqual(garbage);
    expect(Buffer.from(fromSignals[1]?.original ?? '', 'base64').toString('utf8')).toBe(wrongVersion);
    expect(fromSignals[1]?.reason).toMatch(/v/);
    expect(letters.find((l) => l.topic === setup.topics.logs)?.key).toBe('z');
  });

  it('dead-letters a record Elasticsearch rejects (field limit) and writes the others', async () => {
    const setup = setupFor('rejected');
    const kafka = kafkaFor(setup);
    await start(setup);
    const items = await bundleSignals(EXAMPLE);
    // One pod with 1,200 labels: its records exceed the index's 1,000-field mapping limit and are refused for good.
    const all = await expectedRecords(EXAMPLE);
    const victim = items.find((i) => i.signal.kind === 'pod' && [...all.keys()].some((id) => id.startsWith(`${i.signal.kind === 'pod' ? i.signal.pod.uid : ''}:`)))
      ?.signal as Extract<Signal, { kind: 'pod' }>;
    const labels = Object.fromEntries(Array.from({ length: 1_200 }, (_, n) => [`label-${n}`, 'x']));
    const modified = items.map((i) => (i.signal === victim ? { ...i, signal: { ...victim, pod: { ...victim.pod, labels } } } : i));
    await produceSignals(kafka, setup.topics, modified);

    const expected = new Map([...all].filter(([id]) => !id.startsWith(`${victim.pod.uid}:`)));
    const rejectedCount = all.size - expected.size;
    expect(rejectedCount).toBeGreaterThan(0);
    const letters = await deadLetters(setup, rejectedCount);
    expect(letters.every((l) => l.stage === 'correlator.elasticsearch')).toBe(true);
    expect(letters[0]?.reason).toMatch(/fields/i);
    expect(letters[0]?.key?.startsWith(`${victim.pod.uid}:`)).toBe(true);
    const original = JSON.parse(Buffer.from(letters[0]?.original ?? '', 'base64').toString('utf8')) as { id: string };
    expect(original.id).toBe(letters[0]?.key);
    const { docs } = await waitForDocs(elasticFor(setup), setup.alias, expected, 60_000);
    expect([...docs.keys()].sort()).toEqual([...expected.keys()].sort());
  });

  it('joins a kernel OOM kill that crossed Kafka as a kernel_oom signal: the same oom_killed record as killtrace analyze, killtrace.oom indexed', async () => {
    const setup = setupFor('kernel-oom');
    await start(setup);
    const items = await bundleSignals(KERNEL_OOM);
    expect(items.some((i) => i.signal.kind === 'kernel_oom')).toBe(true);
    await produceSignals(kafkaFor(setup), setup.topics, items);
    const expected = await expectedRecords(KERNEL_OOM);
    expect([...expected.values()].map((r) => [r.killtrace.cause, r.killtrace.decided_by, r.killtrace.confidence, r.killtrace.oom?.process])).toEqual([['oom_killed', 'kernel', 'high', 'redis-server']]);
    const { docs } = await waitForDocs(elasticFor(setup), setup.alias, expected, 60_000);
    expect([...docs.keys()]).toEqual([...expected.keys()]);
    const hits = await elasticFor(setup).count({ index: setup.alias, query: { term: { 'killtrace.oom.memory_limit_bytes': 268435456 } } });
    expect(hits.count).toBe(1);
  });

  it('refuses to run when signals and logs are not co-partitioned', async () => {
    const setup = setupFor('copart', 3);
    const kafka = createKafkaClient(setup.config.kafka, { clientId: `copart-${setup.suffix}` });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: setup.topics.signals, numPartitions: 3 }, { topic: setup.topics.logs, numPartitions: 2 }] });
    await admin.disconnect();
    await expect(start(setup)).rejects.toMatchObject({
      code: 'KT_ERR_CORRELATOR_NOT_COPARTITIONED',
      message: expect.stringMatching(/has 3 partitions .* has 2/),
    });
  });
});
