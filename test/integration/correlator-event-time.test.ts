import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeMessage } from '@killtrace/kafka';
import { createKafkaClient } from '../../libs/kafka/src/testing.js';
import { createLogger } from '@killtrace/logging';
import { deadLetterMessageSchema, type DeadLetterMessage, type Signal } from '@killtrace/schemas';
import { startCorrelator, type RunningCorrelator } from '../../services/correlator/src/main.js';
import { bundleSignals, cleanup, elasticDocs, elasticFor, expectedRecords, kafkaFor, pipelineSetup, produceSignals, root, waitForDocs, type PipelineSetup } from '../e2e/harness.js';
import { waitFor } from './helpers.js';

/**
 * A signal dated far in the future must not advance the watermark: it would finalize every record of the partition
 * and let eviction drop its state. The correlator refuses it (dead letter with the reason, a metric), live and on
 * replay after a restart.
 */

const FIRST = join(root, 'examples', 'host-agent-crashloop');
const SECOND = join(root, 'examples', 'shop-inventory-mixed');
const running: RunningCorrelator[] = [];
const setups: PipelineSetup[] = [];
const logger = createLogger({ name: 'correlator-event-time-it', level: 'warn', format: 'json' });

async function letters(setup: PipelineSetup, count: number): Promise<DeadLetterMessage[]> {
  const kafka = createKafkaClient(setup.config.kafka, { clientId: `dlq-${setup.suffix}` });
  const out: DeadLetterMessage[] = [];
  const consumer = kafka.consumer({ groupId: `dlq-${setup.suffix}-${out.length}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [setup.topics.deadLetter], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const decoded = decodeMessage(deadLetterMessageSchema, message.value);
      if (decoded.ok) out.push(decoded.value);
    },
  });
  try {
    await waitFor(`${count} dead letters`, () => out.length >= count, 30_000);
    // Read a little longer: a second letter for the same message would show here.
    await new Promise((r) => setTimeout(r, 2_000));
  } finally {
    await consumer.disconnect();
  }
  return out;
}

async function metric(port: number, name: string): Promise<number> {
  const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = body.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return Number(line?.split(' ').at(-1));
}

afterAll(async () => {
  for (const c of running) await c.close();
  for (const setup of setups) await cleanup(setup, kafkaFor(setup), elasticFor(setup));
});

describe('event times far in the future', () => {
  it('are dead-lettered with the reason and counted, never advance the watermark, and stay refused on replay', async () => {
    // Snapshots off: the restart below must rebuild by replay, the path that re-checks event times (decision 0016:
    // with a snapshot the outlier is simply not in the restored state).
    const setup = pipelineSetup('event-time', 1, { KILLTRACE_HTTP_PORT: '0', KILLTRACE_CORRELATOR_MAX_EVENT_TIME_AHEAD_MS: '600000', KILLTRACE_CORRELATOR_ALLOWED_LATENESS_MS: '600000', KILLTRACE_CORRELATOR_SNAPSHOTS: 'false' });
    setups.push(setup);
    const kafka = kafkaFor(setup);
    const es = elasticFor(setup);
    let correlator = await startCorrelator(setup.config, logger);
    running.push(correlator);

    const first = await bundleSignals(FIRST);
    const expected = await expectedRecords(FIRST);
    await produceSignals(kafka, setup.topics, first);
    await waitForDocs(es, setup.alias, expected, 60_000);
    // The input: the records whose end + allowed lateness lies beyond the newest evidence are still provisional.
    const newest = Math.max(...first.map((i) => i.time));
    const open = [...expected].filter(([, r]) => Date.parse(r.killtrace.finished_at ?? r['@timestamp']) + setup.config.correlator.allowedLatenessMs > newest).map(([id]) => id);
    expect(open.length).toBeGreaterThan(0);

    // A kubelet line of the same pod from a node whose clock says 2099.
    const template = first.find((i) => i.signal.kind === 'kubelet' && i.signal.pod.uid !== undefined)?.signal as Extract<Signal, { kind: 'kubelet' }>;
    const future = Date.parse('2099-01-01T00:00:00Z');
    const outlier: Signal = { ...template, at: future, text: 'a line from a clock gone wrong' };
    await produceSignals(kafka, setup.topics, [{ signal: outlier, time: future }]);
    const [letter] = await letters(setup, 1);
    expect(letter?.stage).toBe('correlator.event-time');
    expect(letter?.topic).toBe(setup.topics.signals);
    expect(letter?.reason).toContain('event time 2099-01-01T00:00:00.000Z is');
    expect(letter?.reason).toContain('correlator.maxEventTimeAheadMs (600000 ms)');
    expect(JSON.parse(Buffer.from(letter?.original ?? '', 'base64').toString('utf8')).signal.text).toBe('a line from a clock gone wrong');
    expect(await metric(correlator.httpPort, 'killtrace_correlator_event_time_outliers_total')).toBe(1);

    // The partition keeps going: the second bundle's records arrive, the first one's open records stay provisional.
    const second = await bundleSignals(SECOND);
    const both = new Map([...expected, ...(await expectedRecords(SECOND))]);
    // Its evidence is older than the first bundle's newest: it moves no watermark.
    expect(Math.max(...second.map((i) => i.time))).toBeLessThan(newest);
    await produceSignals(kafka, setup.topics, second);
    const secondIds = [...both.keys()].filter((id) => !expected.has(id));
    expect(secondIds.length).toBeGreaterThan(0);
    let docs = (await elasticDocs(es, setup.alias)).docs;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !secondIds.every((id) => docs.has(id))) {
      await new Promise((r) => setTimeout(r, 500));
      docs = (await elasticDocs(es, setup.alias)).docs;
    }
    expect(secondIds.filter((id) => !docs.has(id))).toEqual([]);
    for (const id of open) expect(docs.get(id)?.killtrace.status).toBe('provisional');
    expect(await metric(correlator.httpPort, 'killtrace_correlator_watermark_delay_seconds')).toBeGreaterThan(0);

    // Restart with nothing new to read (a quiet partition: no batch would carry the replay's seeks): replay
    // re-reads the outlier below the committed offset and refuses it again, against the commit's clock, silently.
    await correlator.close();
    running.splice(running.indexOf(correlator), 1);
    correlator = await startCorrelator(setup.config, logger);
    running.push(correlator);
    await waitFor('replayed and ready', () => correlator.pipeline.readiness().ok, 60_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${correlator.pipeline.readiness().detail}`);
    });
    expect(await metric(correlator.httpPort, 'killtrace_correlator_watermark_delay_seconds')).toBeGreaterThan(0);
    expect(await letters(setup, 1)).toHaveLength(1);
    const after = (await elasticDocs(es, setup.alias)).docs;
    for (const id of open) expect(after.get(id)?.killtrace.status).toBe('provisional');
  }, 240_000);
});
