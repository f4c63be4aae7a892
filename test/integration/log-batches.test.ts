import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { createConsumer, createProducer, ensureTopics } from '@killtrace/kafka';
import { createLogger } from '@killtrace/logging';
import { deadLetterMessageSchema, logMessageSignals, logsTopicMessageSchema, type AppLogSignal, type Signal } from '@killtrace/schemas';
import { createPublisherMetrics, createSignalPublisher, type AppLogBatch } from '../../services/collector/src/publish/index.js';
import { startCorrelator, type RunningCorrelator } from '../../services/correlator/src/main.js';
import { waitFor } from './helpers.js';
import { bundleSignals, cleanup, elasticFor, expectedRecords, kafkaFor, pipelineSetup, produceSignals, root, sameRecords, waitForDocs, type PipelineSetup } from '../e2e/harness.js';

/**
 * The `logs` topic during an upgrade of the node agents: version-1 messages (one line each) and version-2 messages
 * (several lines of one incarnation, from the collector's real publisher) on the same topic; the correlator decodes
 * both and writes the records the offline analysis finds for the same bundle.
 */

const EXAMPLE = join(root, 'examples', 'host-agent-crashloop');
const logger = createLogger({ name: 'log-batches-it', level: 'warn', format: 'json' });
const running: RunningCorrelator[] = [];
const setups: PipelineSetup[] = [];

afterAll(async () => {
  for (const c of running) await c.close();
  for (const setup of setups) await cleanup(setup, kafkaFor(setup), elasticFor(setup));
});

describe('logs topic with message versions 1 and 2 side by side', () => {
  it('gives the correlator every line of both versions: the records equal the offline analysis', async () => {
    const setup = pipelineSetup('log-batches', 1, { KILLTRACE_HTTP_PORT: '0' });
    setups.push(setup);
    const kafka = kafkaFor(setup);
    const items = await bundleSignals(EXAMPLE);
    const byIncarnation = new Map<string, AppLogSignal[]>();
    for (const { signal } of items) {
      if (signal.kind !== 'app_log') continue;
      const id = `${signal.pod.uid}/${signal.container}/${signal.restartCount}`;
      byIncarnation.set(id, [...(byIncarnation.get(id) ?? []), signal]);
    }
    const incarnations = [...byIncarnation.values()];
    expect(incarnations.length).toBeGreaterThan(1);
    // Every other incarnation goes as version-2 batches, the rest line by line as version 1.
    const asBatches = incarnations.filter((_, i) => i % 2 === 0);
    const batched = new Set(asBatches.flat());
    const asSingles = items.filter((i) => !(i.signal.kind === 'app_log' && batched.has(i.signal)));

    // The correlator creates the topics at start.
    running.push(await startCorrelator(setup.config, logger));
    const publisher = createSignalPublisher({
      producer: createProducer(kafka),
      topics: setup.config.kafka.topics,
      producerRef: { component: 'node-agent', instance: 'it' },
      logger,
      metrics: createPublisherMetrics(new Registry()),
    });
    await publisher.connect();
    const batches: AppLogBatch[] = asBatches.map((lines) => {
      const first = lines[0] as AppLogSignal;
      return { pod: first.pod, container: first.container, restartCount: first.restartCount, lines: lines.map((l) => ({ at: l.at, stream: l.stream, text: l.text })) };
    });
    const result = await publisher.publishLogBatches(batches);
    await publisher.close();
    expect(result).toEqual({ published: batches.reduce((n, b) => n + b.lines.length, 0), deadLettered: 0 });
    await produceSignals(kafka, setup.topics, asSingles as Array<{ signal: Signal; time: number }>);

    const expected = await expectedRecords(EXAMPLE);
    const { docs } = await waitForDocs(elasticFor(setup), setup.alias, expected, 60_000);
    expect([...docs.keys()].sort()).toEqual([...expected.keys()].sort());
    expect(sameRecords(docs, expected)).toBe(true);
  });

  it('dead-letters only the invalid line of a batch the producer refuses, and still sends the others in order', async () => {
    const setup = pipelineSetup('log-batches-invalid', 1, { KILLTRACE_HTTP_PORT: '0' });
    setups.push(setup);
    const kafka = kafkaFor(setup);
    const { logs, deadLetter } = setup.config.kafka.topics;
    await ensureTopics(kafka, [logs, deadLetter].map((topic) => ({ topic, partitions: 1, replicationFactor: 1 })));
    const publisher = createSignalPublisher({
      producer: createProducer(kafka),
      topics: setup.config.kafka.topics,
      producerRef: { component: 'node-agent', instance: 'it' },
      logger,
      metrics: createPublisherMetrics(new Registry()),
    });
    await publisher.connect();
    const pod = { namespace: 'shop', name: 'cart-1', uid: '5b9f3c1e-7a2d-4e8b-9c41-0d6e2f1a3b7c' };
    const result = await publisher.publishLogBatches(
      [{ pod, container: 'app', restartCount: 0, lines: [{ at: 1, stream: 'stdout', text: 'one' }, { at: Number.NaN, stream: 'stdout', text: 'bad' }, { at: 3, stream: 'stdout', text: 'three' }] }],
      { stage: 'collector.node-agent.cri' },
    );
    await publisher.close();
    expect(result).toEqual({ published: 2, deadLettered: 1 });
    const texts: string[] = [];
    const letters: string[] = [];
    const consumers = [
      createConsumer(kafka, { groupId: `lb-logs-${setup.suffix}`, topic: logs, schema: logsTopicMessageSchema, fromBeginning: true, onInvalid: () => undefined }),
      createConsumer(kafka, { groupId: `lb-dl-${setup.suffix}`, topic: deadLetter, schema: deadLetterMessageSchema, fromBeginning: true, onInvalid: () => undefined }),
    ] as const;
    void consumers[0].run(async (m) => void texts.push(...logMessageSignals(m.value).map((l) => l.text)));
    void consumers[1].run(async (m) => void letters.push(`${m.value.stage}: ${Buffer.from(m.value.original ?? '', 'base64').toString('utf8')}`));
    try {
      await waitFor('2 lines and 1 dead letter', () => texts.length >= 2 && letters.length >= 1);
      expect(texts).toEqual(['one', 'three']);
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatch(/^collector\.node-agent\.cri: .*"text":"bad"/);
    } finally {
      for (const c of consumers) await c.disconnect();
    }
  });
});
