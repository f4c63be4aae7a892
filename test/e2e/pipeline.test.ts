import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bundleSignals,
  buildCorrelator,
  cleanup,
  CorrelatorProcess,
  elasticFor,
  expectedRecords,
  kafkaFor,
  partitionedExpectation,
  pipelineSetup,
  produceSignals,
  root,
  sortKeys,
  waitForDocs,
  withoutStatus,
  type PipelineSetup,
} from './harness.js';

const EXAMPLES = ['host-agent-crashloop', 'shop-inventory-mixed'].map((name) => join(root, 'examples', name));
const processes: CorrelatorProcess[] = [];
const setups: PipelineSetup[] = [];

function correlator(setup: PipelineSetup): CorrelatorProcess {
  const p = new CorrelatorProcess(setup.env);
  processes.push(p);
  return p;
}

function setupFor(name: string, partitions: number): PipelineSetup {
  const setup = pipelineSetup(name, partitions);
  setups.push(setup);
  return setup;
}

/** Compares what Elasticsearch holds with `killtrace analyze`, reporting the first differing document. */
function expectSame(actual: Map<string, unknown>, expected: Map<string, unknown>): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [id, record] of expected) {
    expect(sortKeys(withoutStatus(actual.get(id) as never)), id).toEqual(sortKeys(record));
  }
}

beforeAll(() => buildCorrelator(), 300_000);

afterAll(async () => {
  for (const p of processes) if (p.running) await p.kill9();
  for (const setup of setups) await cleanup(setup, kafkaFor(setup), elasticFor(setup));
});

describe('pipeline: Kafka -> correlator -> Elasticsearch', () => {
  it('writes exactly the records `killtrace analyze` gives for the same bundles', async () => {
    // One partition: one core sees every pod, as `killtrace analyze` does (see the crash test for several).
    const setup = setupFor('e2e', 1);
    const kafka = kafkaFor(setup);
    const es = elasticFor(setup);
    const signals = (await Promise.all(EXAMPLES.map(bundleSignals))).flat().sort((a, b) => a.time - b.time);
    const expected = new Map([...(await Promise.all(EXAMPLES.map(expectedRecords)))].flatMap((m) => [...m]));
    expect(expected.size).toBeGreaterThan(5);

    const p = correlator(setup);
    await p.start();
    await p.ready();
    await produceSignals(kafka, setup.topics, signals);
    const { total, docs } = await waitForDocs(es, setup.alias, expected, 60_000);
    expectSame(docs, expected);
    expect(total).toBe(expected.size);
    // Records end provisional at the kill and final once the watermark passed end + lateness.
    const statuses = [...docs.values()].map((d) => d.killtrace.status);
    expect(statuses).toContain('final');
    expect(await p.metric('killtrace_correlator_records_written_total')).toBeGreaterThanOrEqual(expected.size);
    expect(await p.stop()).toBe(0);
    expect(p.output.join('\n')).toContain('CorrelatorStopped');
  });

  it('survives kill -9 in the middle of a stream: after a restart nothing is missing and nothing duplicated', async () => {
    const setup = setupFor('crash', 3);
    const kafka = kafkaFor(setup);
    const es = elasticFor(setup);
    const signals = (await Promise.all(EXAMPLES.map(bundleSignals))).flat().sort((a, b) => a.time - b.time);
    const expected = partitionedExpectation(signals, 3);
    const chunks = chunk(signals, 12);

    const first = correlator(setup);
    await first.start();
    await first.ready();
    for (const part of chunks.slice(0, 6)) {
      await produceSignals(kafka, setup.topics, part, 3);
      await sleep(150);
    }
    await waitUntil('some records written before the crash', async () => (await first.metric('killtrace_correlator_records_written_total')) > 0, 30_000);
    await produceSignals(kafka, setup.topics, chunks[6] ?? [], 3);
    await first.kill9();
    for (const part of chunks.slice(7)) await produceSignals(kafka, setup.topics, part, 3);

    const second = correlator(setup);
    await second.start();
    const { total, docs } = await waitForDocs(es, setup.alias, expected, 90_000);
    expectSame(docs, expected);
    expect(total).toBe(expected.size);
    expect(second.output.join('\n')).toContain('ReplayFinished');
    expect(await second.metric('killtrace_correlator_replays_total')).toBeGreaterThan(0);
    await second.ready();
    expect(await second.stop()).toBe(0);
  });

  it('pauses while Elasticsearch is frozen for 30 s and catches up with nothing lost', async () => {
    const setup = setupFor('outage', 3);
    const kafka = kafkaFor(setup);
    const es = elasticFor(setup);
    const signals = (await Promise.all(EXAMPLES.map(bundleSignals))).flat().sort((a, b) => a.time - b.time);
    const expected = partitionedExpectation(signals, 3);
    const half = Math.floor(signals.length / 2);

    const p = correlator(setup);
    await p.start();
    await p.ready();
    await produceSignals(kafka, setup.topics, signals.slice(0, half), 3);
    await waitUntil('records written before the outage', async () => (await p.metric('killtrace_correlator_records_written_total')) > 0, 30_000);
    stack('es-pause');
    const frozenAt = Date.now();
    try {
      await produceSignals(kafka, setup.topics, signals.slice(half), 3);
      await waitUntil('the consumer to pause', async () => (await p.metric('killtrace_correlator_consumer_paused')) === 1, 40_000);
      expect((await p.http('/readyz')).status).toBe(503);
      await sleep(Math.max(0, frozenAt + 30_000 - Date.now()));
      expect(await p.metric('killtrace_correlator_sink_retries_total', { sink: 'elasticsearch' })).toBeGreaterThan(0);
      expect(p.running).toBe(true);
    } finally {
      stack('es-resume');
    }
    const { total, docs } = await waitForDocs(es, setup.alias, expected, 120_000);
    expectSame(docs, expected);
    expect(total).toBe(expected.size);
    await waitUntil('the consumer to resume', async () => (await p.metric('killtrace_correlator_consumer_paused')) === 0, 30_000);
    await p.ready();
    expect(await p.stop()).toBe(0);
  });
});

function chunk<T>(items: readonly T[], count: number): T[][] {
  const size = Math.ceil(items.length / count);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not answering yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

/** `bash scripts/stack.sh es-pause|es-resume`: SIGSTOP/SIGCONT of the Elasticsearch the stack started. */
function stack(command: 'es-pause' | 'es-resume'): void {
  const result = spawnSync('bash', ['scripts/stack.sh', command], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) throw new Error(`stack.sh ${command} failed: ${result.stderr}`);
}
