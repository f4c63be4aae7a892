import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { createProducer } from '@killtrace/kafka';
import { createLogger } from '@killtrace/logging';
import type { AppLogSignal, Signal } from '@killtrace/schemas';
import { createPublisherMetrics, createSignalPublisher, type AppLogBatch } from '../../services/collector/src/publish/index.js';
import { startCorrelator, type RunningCorrelator } from '../../services/correlator/src/main.js';
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
});
