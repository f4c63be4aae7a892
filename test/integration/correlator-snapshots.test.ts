import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Correlator } from '@killtrace/correlation';
import { createProducer, ensureTopics, killtraceTopics, readPartitions } from '@killtrace/kafka';
import { createLogger } from '@killtrace/logging';
import { mergeProfiles } from '@killtrace/profiles';
import { Registry } from 'prom-client';
import { compileOptions } from '../../services/correlator/src/correlator-options.js';
import { SnapshotStore, snapshotMessageSchema, snapshotSettings, type SnapshotCapture } from '../../services/correlator/src/snapshots.js';
import {
  bundleSignals,
  buildCorrelator,
  cleanup,
  CorrelatorProcess,
  elasticFor,
  kafkaFor,
  partitionedExpectation,
  pipelineSetup,
  produceSignals,
  root,
  sortKeys,
  waitForDocs,
  withoutStatus,
  type PipelineSetup,
} from '../e2e/harness.js';

/**
 * Partition state snapshots (decision 0016) against the real Kafka and Elasticsearch: the store's write, read and
 * chunking (a snapshot over Kafka's 1 MB message limit), the fallbacks (unknown version, broken chunk, other
 * settings), and the correlator as a child process killed with SIGKILL mid-stream, restarting from its snapshots:
 * nothing lost, nothing duplicated, and less replayed than without snapshots.
 */

const EXAMPLES = ['host-agent-crashloop', 'shop-inventory-mixed'].map((name) => join(root, 'examples', name));
const processes: CorrelatorProcess[] = [];
const setups: PipelineSetup[] = [];
const warnings: Array<Record<string, unknown>> = [];
// The store's warnings are what the fallback tests check: the logger writes its JSON lines here.
const recording = createLogger({
  name: 'snapshots-it',
  level: 'warn',
  format: 'json',
  destination: { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) },
});

function setupFor(name: string, partitions: number, env: Record<string, string> = {}): PipelineSetup {
  const setup = pipelineSetup(name, partitions, env);
  setups.push(setup);
  return setup;
}

async function storeFor(setup: PipelineSetup, chunkBytes?: number): Promise<{ store: SnapshotStore; close: () => Promise<void>; settings: string }> {
  const kafka = kafkaFor(setup);
  await ensureTopics(kafka, killtraceTopics(setup.config.kafka));
  const producer = createProducer(kafka);
  await producer.connect();
  const options = compileOptions(setup.config);
  const store = new SnapshotStore({ kafka, producer, topic: setup.topics.snapshots, groupId: options.groupId, logger: recording, registry: new Registry(), ...(chunkBytes === undefined ? {} : { chunkBytes }) });
  return { store, close: () => producer.disconnect(), settings: snapshotSettings(options, mergeProfiles([])) };
}

/** A capture of a core that ingested `pods` pods, each with a kubelet line of `textBytes` incompressible characters. */
function captureOf(pods: number, textBytes: number): SnapshotCapture {
  const core = new Correlator({ clusterName: 'e2e' });
  for (let i = 0; i < pods; i += 1) {
    core.ingest({
      kind: 'kubelet',
      at: 1_790_000_000_000 + i,
      action: 'probe_failed',
      pod: { namespace: 'ns', name: `pod-${i}`, uid: `uid-${i}` },
      container: 'app',
      probeType: 'liveness',
      text: randomBytes(Math.ceil(textBytes / 2)).toString('hex').slice(0, textBytes),
    });
  }
  return { watermark: 1_790_000_000_000 + pods, topics: { signals: { next: pods, maxEventTime: 1_790_000_000_000 + pods } }, core: core.saveState() };
}

/** Messages below the group's committed offsets, over every partition of both input topics: what a full replay re-reads. */
async function committedMessages(setup: PipelineSetup): Promise<number> {
  const admin = kafkaFor(setup).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchOffsets({ groupId: compileOptions(setup.config).groupId, topics: [setup.topics.signals, setup.topics.logs] });
    return offsets.flatMap((t) => t.partitions).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Waits until the snapshots topic holds a manifest (key `<group>/<partition>`, decision 0016) for each of `partitions`. */
async function manifestsWritten(setup: PipelineSetup, partitions: number): Promise<void> {
  const groupId = compileOptions(setup.config).groupId;
  const wanted = Array.from({ length: partitions }, (_, p) => `${groupId}/${p}`);
  const deadline = Date.now() + 60_000;
  for (let round = 0; ; round += 1) {
    const messages = await readPartitions(kafkaFor(setup), { topic: setup.topics.snapshots, partitions: wanted.map((_, p) => p), groupId: `snap-manifests-${setup.suffix}-${round}` });
    const keys = new Set(messages.map((m) => m.key));
    const missing = wanted.filter((k) => !keys.has(k));
    if (missing.length === 0) return;
    if (Date.now() > deadline) throw new Error(`no snapshot manifest after 60 s for ${missing.join(', ')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Waits until `p` wrote at least `count` snapshots; fails with the process's log tail otherwise. */
async function snapshotsWritten(p: CorrelatorProcess, count: number): Promise<number> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const written = await p.metric('killtrace_correlator_snapshots_total', { outcome: 'written' });
    if (written >= count) return written;
    if (Date.now() > deadline) throw new Error(`${written} snapshots written after 60 s, expected ${count}:\n${p.tail()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function correlator(setup: PipelineSetup): CorrelatorProcess {
  const p = new CorrelatorProcess(setup.env);
  processes.push(p);
  return p;
}

function chunk<T>(items: readonly T[], parts: number): T[][] {
  const size = Math.ceil(items.length / parts);
  return Array.from({ length: parts }, (_, i) => items.slice(i * size, (i + 1) * size));
}

beforeAll(() => buildCorrelator(), 300_000);

afterAll(async () => {
  for (const p of processes) if (p.running) await p.kill9();
  for (const setup of setups) await cleanup(setup, kafkaFor(setup), elasticFor(setup));
});

describe('snapshot store against the real Kafka', () => {
  it('reads back exactly the snapshot it wrote, and the newer of two', async () => {
    const setup = setupFor('snap-store', 3);
    const { store, close, settings } = await storeFor(setup);
    try {
      const first = captureOf(5, 100);
      const second = captureOf(7, 100);
      await store.write(1, settings, first, 1000);
      await store.write(2, settings, first, 1000);
      await store.write(1, settings, second, 2000);
      const read = await store.read([0, 1, 2], settings);
      expect([...read.keys()].sort()).toEqual([1, 2]);
      expect(read.get(1)).toMatchObject({ partition: 1, takenAt: 2000, settings, ...JSON.parse(JSON.stringify(second)) });
      expect(read.get(2)).toMatchObject({ partition: 2, takenAt: 1000, ...JSON.parse(JSON.stringify(first)) });
      // A restored core from what was read has the pods the capture had.
      expect(Correlator.restore({ clusterName: 'e2e' }, read.get(1)?.core ?? first.core).stats().pods).toBe(7);
    } finally {
      await close();
    }
  });

  it('chunks a snapshot larger than the 1 MB message limit and reads it back whole', async () => {
    const setup = setupFor('snap-large', 1);
    const { store, close, settings } = await storeFor(setup);
    try {
      // ~3 MB of incompressible text: gzip cannot bring it under one message.
      const large = captureOf(300, 10_000);
      const written = await store.write(0, settings, large, 5000);
      expect(written.bytes).toBeGreaterThan(1_048_576);
      expect(written.chunks).toBeGreaterThan(2);
      const read = await store.read([0], settings);
      expect(read.get(0)?.core).toEqual(JSON.parse(JSON.stringify(large.core)));
      const messages = await readPartitions(kafkaFor(setup), { topic: setup.topics.snapshots, partitions: [0], groupId: `snap-large-check-${setup.suffix}` });
      expect(messages).toHaveLength(written.chunks + 1);
      for (const m of messages) expect(m.value?.length ?? 0).toBeLessThan(1_000_000);
    } finally {
      await close();
    }
  });

  it('ignores, with a warning each, an unknown version, a broken chunk, an invalid manifest, and other settings', async () => {
    const setup = setupFor('snap-invalid', 3);
    const { store, close, settings } = await storeFor(setup, 256);
    const kafka = kafkaFor(setup);
    const producer = kafka.producer();
    await producer.connect();
    try {
      const groupId = compileOptions(setup.config).groupId;
      // Partition 0: a manifest from a newer writer.
      await producer.send({ topic: setup.topics.snapshots, messages: [{ key: `${groupId}/0`, partition: 0, value: JSON.stringify({ v: 2, kind: 'manifest', id: 'x' }) }] });
      // Partition 1: a valid snapshot whose first chunk is then overwritten by garbage.
      await store.write(1, settings, captureOf(3, 50), 1000);
      const slot0chunk0 = `${groupId}/1/0/0`;
      await producer.send({ topic: setup.topics.snapshots, messages: [{ key: slot0chunk0, partition: 1, value: JSON.stringify({ v: 1, kind: 'chunk', id: 'other', index: 0, data: '' }) }] });
      // Partition 2: a valid snapshot taken under other settings.
      await store.write(2, 'f'.repeat(64), captureOf(3, 50), 1000);
      warnings.length = 0;
      const read = await store.read([0, 1, 2], settings);
      expect(read.size).toBe(0);
      const reasons = warnings.filter((w) => w.event === 'SnapshotIgnored').map((w) => `${String(w.partition)}: ${String(w.reason)}`).sort();
      expect(reasons).toHaveLength(3);
      expect(reasons[0]).toMatch(/^0: .*version 2; this correlator reads version 1/);
      expect(reasons[1]).toMatch(/^1: chunk .* belongs to snapshot other/);
      expect(reasons[2]).toMatch(/^2: .*other settings/);
      // A manifest that is not valid JSON of the schema at all is ignored the same way.
      await producer.send({ topic: setup.topics.snapshots, messages: [{ key: `${groupId}/0`, partition: 0, value: JSON.stringify({ v: 1, kind: 'manifest', id: '' }) }] });
      warnings.length = 0;
      expect((await store.read([0], settings)).size).toBe(0);
      expect(String(warnings.find((w) => w.event === 'SnapshotIgnored')?.reason)).toMatch(/is invalid/);
      expect(snapshotMessageSchema.safeParse({ v: 1, kind: 'manifest', id: '' }).success).toBe(false);
    } finally {
      await producer.disconnect();
      await close();
    }
  });
});

describe('correlator with snapshots, killed with SIGKILL', () => {
  // A killed member sends no LeaveGroup: the restarted one's join waits until the broker expires the dead member's
  // session (15 s by default). 8 s (the broker's minimum is 6 s) keeps heartbeats (a third of it) safe on a loaded machine.
  const session = { KILLTRACE_CORRELATOR_SESSION_TIMEOUT_MS: '8000' };

  it('restarts from its snapshots: nothing lost, nothing duplicated, only what follows the snapshots replayed', async () => {
    const setup = setupFor('snap-crash', 3, { ...session, KILLTRACE_CORRELATOR_SNAPSHOT_EVERY_MESSAGES: '20', KILLTRACE_CORRELATOR_SNAPSHOT_INTERVAL_MS: '1000' });
    const kafka = kafkaFor(setup);
    const es = elasticFor(setup);
    const signals = (await Promise.all(EXAMPLES.map(bundleSignals))).flat().sort((a, b) => a.time - b.time);
    const expected = partitionedExpectation(signals, 3);
    const parts = chunk(signals, 12);

    const first = correlator(setup);
    await first.start();
    await first.ready();
    for (const part of parts.slice(0, 8)) await produceSignals(kafka, setup.topics, part, 3);
    expect(await snapshotsWritten(first, 3)).toBeGreaterThanOrEqual(3);
    // Every partition has a snapshot before the kill: this case is the restart from snapshots. (A partition rebuilt by
    // replay instead re-reads only the state window, without the bundle's Node objects dated 0: the limit the README
    // names under "Replaying a bundle", left to its own test; it made this one fail intermittently.)
    await manifestsWritten(setup, 3);
    await produceSignals(kafka, setup.topics, parts[8] ?? [], 3);
    await first.kill9();
    const fullReplay = await committedMessages(setup);
    expect(fullReplay).toBeGreaterThan(0);
    for (const part of parts.slice(9)) await produceSignals(kafka, setup.topics, part, 3);

    const second = correlator(setup);
    await second.start();
    const { total, docs } = await waitForDocs(es, setup.alias, expected, 90_000);
    // On a mismatch, of the ids or of one record, the restarted process's own log says why (restore, replay, context,
    // flushes): this test failed intermittently with a record lacking its node class after the restart.
    const log = (): string => `restarted correlator's log:\n${second.tail(200)}`;
    expect([...docs.keys()].sort(), log()).toEqual([...expected.keys()].sort());
    for (const [id, record] of expected) expect(sortKeys(withoutStatus(docs.get(id) as never)), `${id}\n${log()}`).toEqual(sortKeys(record));
    expect(total).toBe(expected.size);
    await second.ready();
    expect(await second.metric('killtrace_correlator_snapshots_total', { outcome: 'restored' })).toBeGreaterThan(0);
    expect(second.output.join('\n')).toContain('SnapshotRestored');
    // Without snapshots the restart re-reads every committed message (all within the state window); with them, only
    // what followed the snapshots.
    expect(await second.metric('killtrace_correlator_replayed_messages_total')).toBeLessThan(fullReplay);
    expect(await second.stop()).toBe(0);
  }, 180_000);

  it('falls back to a full replay when the latest snapshot is unusable, with a warning', async () => {
    const setup = setupFor('snap-fallback', 1, { ...session, KILLTRACE_CORRELATOR_SNAPSHOT_EVERY_MESSAGES: '20', KILLTRACE_CORRELATOR_SNAPSHOT_INTERVAL_MS: '1000' });
    const kafka = kafkaFor(setup);
    const es = elasticFor(setup);
    // This example has no Node objects dated before the state window: a full replay rebuilds all of it (a window
    // replay skips such Node objects, which the live core keeps; a restored snapshot keeps them too).
    const signals = (await bundleSignals(EXAMPLES[1] as string)).sort((a, b) => a.time - b.time);
    const expected = partitionedExpectation(signals, 1);
    const [head = [], tail = []] = chunk(signals, 2);

    const first = correlator(setup);
    await first.start();
    await first.ready();
    await produceSignals(kafka, setup.topics, head, 1);
    await snapshotsWritten(first, 1);
    await first.kill9();
    const fullReplay = await committedMessages(setup);
    expect(fullReplay).toBeGreaterThan(0);
    // The latest manifest is now one from a writer of a newer format.
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: setup.topics.snapshots, messages: [{ key: `${compileOptions(setup.config).groupId}/0`, partition: 0, value: JSON.stringify({ v: 99, kind: 'manifest' }) }] });
    await producer.disconnect();
    await produceSignals(kafka, setup.topics, tail, 1);

    const second = correlator(setup);
    await second.start();
    const { total, docs } = await waitForDocs(es, setup.alias, expected, 90_000);
    expect(total).toBe(expected.size);
    for (const [id, record] of expected) expect(sortKeys(withoutStatus(docs.get(id) as never)), id).toEqual(sortKeys(record));
    await second.ready();
    expect(await second.metric('killtrace_correlator_snapshots_total', { outcome: 'ignored' })).toBe(1);
    expect(await second.metric('killtrace_correlator_snapshots_total', { outcome: 'restored' })).toBe(0);
    expect(second.output.join('\n')).toMatch(/SnapshotIgnored.*version 99/);
    expect(await second.metric('killtrace_correlator_replayed_messages_total')).toBe(fullReplay);
    expect(await second.stop()).toBe(0);
  }, 180_000);
});
