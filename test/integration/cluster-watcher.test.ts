import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Config } from '@killtrace/config';
import { createProducer, ensureTopics } from '@killtrace/kafka';
import { createKafkaClient } from '../../libs/kafka/src/testing.js';
import { createLogger } from '@killtrace/logging';
import { deadLetterMessageSchema, signalMessageSchema, type EventSignal, type PodSignal, type SignalMessage } from '@killtrace/schemas';
import { createRegistry } from '@killtrace/service-http';
import { loadKubeConfig, startClusterWatcher, type ClusterWatcher } from '../../services/collector/src/cluster-watcher/index.js';
import { createPublisherMetrics, createSignalPublisher, type ManagedPublisher } from '../../services/collector/src/publish/index.js';
import { makeEvent, makePod, startFakeKubeApiServer, type FakeKubeApiServer } from '../fakes/kube-api-server.js';
import { integrationConfig, uniqueSuffix, waitFor } from './helpers.js';

/**
 * The cluster watcher against the fake Kubernetes API server, publishing to real Kafka: each test gets its own
 * fake, its own signals/dead-letter topics, and reads back everything that was produced.
 */

const base = integrationConfig();
const kafka = createKafkaClient(base.kafka, { clientId: 'killtrace-it-cluster-watcher' });
const logger = createLogger({ name: 'collector-it', level: 'warn', format: 'json' });
const createdTopics: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'kt-cw-'));

interface Harness {
  fake: FakeKubeApiServer;
  watcher: ClusterWatcher;
  publisher: ManagedPublisher;
  registry: ReturnType<typeof createRegistry>;
  topics: { signals: string; deadLetter: string };
  /** Every message on the signals topic so far, in partition order. */
  signals(): Promise<{ message: SignalMessage; raw: KafkaMessage }[]>;
  deadLetters(): Promise<KafkaMessage[]>;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

const harnesses: Harness[] = [];

async function readAll(topic: string): Promise<KafkaMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const total = offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
    if (total === 0) return [];
    const consumer = kafka.consumer({ groupId: `kt-it-cw-reader-${uniqueSuffix()}` });
    const messages: KafkaMessage[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void messages.push(message) });
    await waitFor(`${total} messages on ${topic}`, () => messages.length >= total, 30_000);
    await consumer.disconnect();
    return messages;
  } finally {
    await admin.disconnect();
  }
}

interface StartOptions {
  /** False: the signals topic does not exist yet (the broker does not auto-create topics), so publishing fails. */
  createSignalsTopic?: boolean;
  /** The publisher's own attempts per batch (default 5). */
  publisherAttempts?: number;
}

async function start(overrides: Partial<Config['clusterWatcher']> = {}, setup?: (fake: FakeKubeApiServer) => void, options: StartOptions = {}): Promise<Harness> {
  const suffix = uniqueSuffix();
  const topics = { signals: `kt-it-cw-signals-${suffix}`, logs: `kt-it-cw-logs-${suffix}`, deadLetter: `kt-it-cw-dlq-${suffix}` };
  await ensureTopics(kafka, [
    ...(options.createSignalsTopic === false ? [] : [{ topic: topics.signals, partitions: 3, replicationFactor: 1 }]),
    { topic: topics.deadLetter, partitions: 1, replicationFactor: 1 },
  ]);
  createdTopics.push(topics.signals, topics.deadLetter);
  const fake = await startFakeKubeApiServer();
  setup?.(fake);
  const config: Config = {
    ...base,
    kafka: { ...base.kafka, topics: { ...base.kafka.topics, ...topics } },
    clusterWatcher: { ...base.clusterWatcher, retryMaxMs: 1_000, ...overrides },
  };
  const registry = createRegistry('collector-cluster-watcher-it');
  const publisher = createSignalPublisher({
    producer: createProducer(kafka),
    topics: config.kafka.topics,
    producerRef: { component: 'cluster-watcher', instance: 'integration' },
    logger,
    metrics: createPublisherMetrics(registry),
    ...(options.publisherAttempts === undefined ? {} : { attempts: options.publisherAttempts, backoffMs: 50 }),
  });
  await publisher.connect();
  const watcher = await startClusterWatcher({ config, logger, publisher, registry, kubeConfig: loadKubeConfig(fake.writeKubeconfig(mkdtempSync(join(dir, 'kc-')))) });
  const harness: Harness = {
    fake,
    watcher,
    publisher,
    registry,
    topics,
    async signals() {
      await watcher.idle();
      return (await readAll(topics.signals)).map((raw) => ({ message: signalMessageSchema.parse(JSON.parse(String(raw.value))), raw }));
    },
    async deadLetters() {
      await watcher.idle();
      return readAll(topics.deadLetter);
    },
    async metric(name, labels = {}) {
      const metric = await registry.getSingleMetric(name)?.get();
      return (metric?.values ?? [])
        .filter((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l))
        .reduce((sum, v) => sum + v.value, 0);
    },
  };
  harnesses.push(harness);
  await waitFor('informers synced', () => watcher.ready(), 10_000);
  return harness;
}

/** Waits until the watcher has handled everything up to the fake's current version (it saw a later event). */
async function settle(h: Harness, published: () => Promise<number>, expected: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await published()) < expected) {
    if (Date.now() > deadline) throw new Error(`expected ${expected} published signals, have ${await published()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Give a duplicate the chance to show up before asserting there is none.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await h.watcher.idle();
}

const publishedCount = (h: Harness) => () => h.metric('killtrace_collector_published_total');
const pods = (list: { message: SignalMessage }[]): PodSignal[] => list.map((m) => m.message.signal).filter((s): s is PodSignal => s.kind === 'pod');
const events = (list: { message: SignalMessage }[]): EventSignal[] => list.map((m) => m.message.signal).filter((s): s is EventSignal => s.kind === 'event');

afterEach(async () => {
  for (const h of harnesses.splice(0)) {
    await h.watcher.close();
    await h.publisher.close();
    await h.fake.close();
  }
});
afterAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: createdTopics }).catch(() => undefined);
  await admin.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe('cluster watcher against the fake API server and real Kafka', () => {
  it('publishes pod snapshots and events keyed by pod uid, stamped with their event time, and skips irrelevant updates', async () => {
    const h = await start({}, (fake) => {
      fake.add('pods', makePod({ namespace: 'shop', name: 'inventory-1', uid: 'uid-inv-1', owner: { kind: 'ReplicaSet', name: 'inventory-7d5' }, containers: [{ name: 'inventory', liveness: { httpGet: { path: '/livez', port: 8080 }, periodSeconds: 10 } }] }));
    });
    const firstAt = Date.UTC(2026, 9, 2, 6, 31, 0);
    h.fake.add('events', makeEvent({ name: 'ev-unhealthy', namespace: 'shop', pod: { name: 'inventory-1', uid: 'uid-inv-1' }, container: 'inventory', reason: 'Unhealthy', message: 'Liveness probe failed: HTTP probe failed with statuscode: 500', type: 'Warning', firstAt }));
    // An update Killtrace does not read (an annotation): no new snapshot.
    h.fake.modify('pods', 'shop', 'inventory-1', (p) => void (p.metadata.annotations = { touched: 'yes' }));
    // A restart: restartCount and lastState.terminated change.
    h.fake.modify('pods', 'shop', 'inventory-1', (p) => {
      const status = (p.status as { containerStatuses: Record<string, unknown>[] }).containerStatuses[0] as Record<string, unknown>;
      status.restartCount = 1;
      status.lastState = { terminated: { exitCode: 137, reason: 'Error', startedAt: '2026-10-02T06:30:00Z', finishedAt: '2026-10-02T06:31:30Z', containerID: 'containerd://abc' } };
    });
    await settle(h, publishedCount(h), 3);
    const all = await h.signals();
    expect(all).toHaveLength(3);
    const snapshots = pods(all);
    expect(snapshots.map((s) => s.pod.statuses[0]?.restartCount)).toEqual([0, 1]);
    expect(snapshots[1]?.pod.statuses[0]?.lastTerminated).toMatchObject({ exitCode: 137, reason: 'Error', containerId: 'abc' });
    expect(snapshots[0]?.pod).toMatchObject({ namespace: 'shop', name: 'inventory-1', uid: 'uid-inv-1', owners: [{ kind: 'ReplicaSet', name: 'inventory-7d5' }] });
    expect(snapshots[0]?.pod.containers[0]?.liveness).toMatchObject({ handler: 'http', periodSeconds: 10, failureThreshold: 3 });
    const [event] = events(all);
    expect(event).toMatchObject({ reason: 'Unhealthy', container: 'inventory', count: 1, involved: { uid: 'uid-inv-1' }, lastAt: firstAt });
    for (const { message, raw } of all) {
      expect(String(raw.key)).toBe('uid-inv-1');
      expect(message.producer).toEqual({ component: 'cluster-watcher', instance: 'integration' });
      const signal = message.signal;
      const expectedTime = signal.kind === 'event' ? signal.lastAt : signal.kind === 'pod' ? signal.observedAt : undefined;
      expect(Number(raw.timestamp)).toBe(expectedTime);
    }
    expect(await h.metric('killtrace_cluster_watcher_unchanged_total', { resource: 'pods' })).toBe(1);
  });

  it('publishes an event MODIFIED only when its count rises (count or series.count)', async () => {
    const h = await start();
    const pod = { name: 'web-1', uid: 'uid-web-1' };
    h.fake.add('events', makeEvent({ name: 'ev-backoff', pod, reason: 'BackOff', message: 'Back-off restarting failed container', type: 'Warning', count: 1 }));
    h.fake.modify('events', 'default', 'ev-backoff', (e) => void (e.count = 2));
    h.fake.modify('events', 'default', 'ev-backoff', (e) => void (e.message = 'Back-off restarting failed container web')); // same count
    h.fake.modify('events', 'default', 'ev-backoff', (e) => void (e.count = 2)); // no-op bump of the version
    h.fake.modify('events', 'default', 'ev-backoff', (e) => void (e.series = { count: 5, lastObservedTime: '2026-10-02T06:40:00.000000Z' }));
    await settle(h, publishedCount(h), 3);
    const counts = events(await h.signals()).map((e) => e.count);
    expect(counts).toEqual([1, 2, 5]);
    expect(await h.metric('killtrace_cluster_watcher_unchanged_total', { resource: 'events' })).toBe(2);
  });

  it('resumes from its last resourceVersion after dropped connections, without duplicates, and handles bookmarks', async () => {
    const h = await start({}, (fake) => {
      fake.add('pods', makePod({ name: 'api-1', uid: 'uid-api-1' }));
      fake.add('events', makeEvent({ name: 'ev-1', pod: { name: 'api-1', uid: 'uid-api-1' }, reason: 'Started', message: 'Started container app' }));
    });
    await settle(h, publishedCount(h), 2);
    h.fake.bookmark();
    const versionBefore = String(h.fake.resourceVersion());
    // Disconnect, change the world while the watcher cannot see it, reconnect.
    h.fake.suspendWatches();
    h.fake.modify('pods', 'default', 'api-1', (p) => void ((p.status as { phase: string }).phase = 'Failed'));
    h.fake.add('events', makeEvent({ name: 'ev-2', pod: { name: 'api-1', uid: 'uid-api-1' }, reason: 'Killing', message: 'Stopping container app' }));
    h.fake.resumeWatches();
    await settle(h, publishedCount(h), 4);
    // An abrupt drop too.
    h.fake.dropWatches({ abort: true });
    await waitFor('watches re-established', () => h.fake.watchCount() === 2, 10_000);
    h.fake.modify('events', 'default', 'ev-2', (e) => void (e.count = 3));
    await settle(h, publishedCount(h), 5);
    const all = await h.signals();
    expect(all.map((m) => (m.message.signal.kind === 'pod' ? `pod ${m.message.signal.pod.phase}` : `event ${(m.message.signal as EventSignal).reason} ${(m.message.signal as EventSignal).count}`)).sort()).toEqual(
      ['event Killing 1', 'event Killing 3', 'event Started 1', 'pod Failed', 'pod Running'].sort(),
    );
    const lists = h.fake.requests.filter((r) => !r.watch);
    expect(lists).toHaveLength(2); // one initial LIST per informer: every reconnect was a resumed watch
    const resumed = h.fake.requests.filter((r) => r.watch && r.query.resourceVersion === versionBefore);
    expect(resumed.length).toBeGreaterThanOrEqual(1);
    expect(h.fake.requests.filter((r) => r.watch).every((r) => r.query.allowWatchBookmarks === 'true')).toBe(true);
    expect(await h.metric('killtrace_cluster_watcher_watch_events_total', { type: 'BOOKMARK' })).toBe(2);
    expect(await h.metric('killtrace_cluster_watcher_relists_total')).toBe(0);
  });

  it('relists after 410 Gone and publishes only what changed meanwhile', async () => {
    const h = await start({}, (fake) => {
      for (const name of ['a', 'b', 'c']) fake.add('pods', makePod({ name, uid: `uid-${name}` }));
      fake.add('events', makeEvent({ name: 'ev-a', pod: { name: 'a', uid: 'uid-a' }, reason: 'Pulled', message: 'image present', count: 1 }));
    });
    await settle(h, publishedCount(h), 4);
    h.fake.suspendWatches();
    // Meanwhile: one pod restarts, one gets a meaningless update, one is deleted, one is created; the event repeats.
    h.fake.modify('pods', 'default', 'a', (p) => void ((p.status as { containerStatuses: { restartCount: number }[] }).containerStatuses[0]!.restartCount = 4));
    h.fake.modify('pods', 'default', 'b', (p) => void (p.metadata.annotations = { heartbeat: '1' }));
    h.fake.remove('pods', 'default', 'c');
    h.fake.add('pods', makePod({ name: 'd', uid: 'uid-d' }));
    h.fake.modify('events', 'default', 'ev-a', (e) => void (e.message = 'image present again'));
    h.fake.compact();
    h.fake.resumeWatches();
    await settle(h, publishedCount(h), 6);
    const all = await h.signals();
    const snapshots = pods(all);
    expect(snapshots.map((s) => `${s.pod.name}:${s.pod.statuses[0]?.restartCount}`).sort()).toEqual(['a:0', 'a:4', 'b:0', 'c:0', 'd:0'].sort());
    expect(events(all).map((e) => e.count)).toEqual([1]);
    expect(await h.metric('killtrace_cluster_watcher_relists_total')).toBe(2);
    expect(await h.metric('killtrace_cluster_watcher_watch_events_total', { type: 'ERROR' })).toBe(2);
    expect(h.fake.requests.filter((r) => !r.watch)).toHaveLength(4);
  });

  it('sends an object the parsers reject to the dead-letter topic with the reason and its original bytes', async () => {
    const h = await start();
    const broken = makePod({ name: 'no-uid' });
    h.fake.add('pods', broken, { raw: true }); // as stored: no uid
    h.fake.add('pods', makePod({ name: 'fine', uid: 'uid-fine' }));
    await settle(h, publishedCount(h), 1);
    const letters = await h.deadLetters();
    expect(letters).toHaveLength(1);
    const letter = deadLetterMessageSchema.parse(JSON.parse(String(letters[0]?.value)));
    expect(letter.stage).toBe('collector.cluster-watcher.parse');
    expect(letter.reason).toContain('no metadata.name/uid');
    const original = JSON.parse(Buffer.from(letter.original ?? '', 'base64').toString('utf8')) as { metadata: { name: string } };
    expect(original.metadata.name).toBe('no-uid');
    expect(pods(await h.signals()).map((s) => s.pod.name)).toEqual(['fine']);
    expect(await h.metric('killtrace_collector_dead_letters_total', { stage: 'collector.cluster-watcher.parse' })).toBe(1);
  });

  it('watches only the configured namespaces and label selector', async () => {
    const h = await start({ namespaces: ['shop'], labelSelector: 'tier=front' }, (fake) => {
      fake.add('pods', makePod({ namespace: 'shop', name: 'front', uid: 'uid-front', labels: { tier: 'front' } }));
      fake.add('pods', makePod({ namespace: 'shop', name: 'back', uid: 'uid-back', labels: { tier: 'back' } }));
      fake.add('pods', makePod({ namespace: 'ops', name: 'other', uid: 'uid-other', labels: { tier: 'front' } }));
      fake.add('events', makeEvent({ namespace: 'ops', name: 'ev-ops', pod: { name: 'other', uid: 'uid-other' }, reason: 'Started', message: 'x' }));
      fake.add('events', makeEvent({ namespace: 'shop', name: 'ev-shop', pod: { name: 'back', uid: 'uid-back' }, reason: 'Started', message: 'y' }));
    });
    await settle(h, publishedCount(h), 2);
    const all = await h.signals();
    expect(pods(all).map((s) => s.pod.name)).toEqual(['front']);
    expect(events(all).map((e) => e.involved.name)).toEqual(['back']);
    expect(h.fake.requests.every((r) => r.path.startsWith('/api/v1/namespaces/shop/'))).toBe(true);
  });

  it('keeps what Kafka refused and publishes it once Kafka accepts it again, not ready meanwhile', async () => {
    // The signals topic does not exist yet and the broker does not create topics on demand: every publish fails.
    const h = await start({ publishRetryMaxMs: 1_000 }, (fake) => fake.add('pods', makePod({ name: 'early', uid: 'uid-early' })), { createSignalsTopic: false, publisherAttempts: 1 });
    h.fake.add('events', makeEvent({ name: 'ev-early', pod: { name: 'early', uid: 'uid-early' }, reason: 'Killing', message: 'Stopping container app' }));
    h.fake.modify('pods', 'default', 'early', (p) => void ((p.status as { containerStatuses: { restartCount: number }[] }).containerStatuses[0]!.restartCount = 1));
    await waitFor('a failed publish attempt', () => /not yet accepted by Kafka/.test(h.watcher.readiness().detail ?? '') && h.watcher.backlog() === 2, 60_000);
    expect(await h.metric('killtrace_cluster_watcher_publish_retries_total')).toBeGreaterThanOrEqual(1);
    expect(h.watcher.ready()).toBe(false);
    expect(h.watcher.readiness().detail).toMatch(/not yet accepted by Kafka/);
    // Coalesced by object: the pod's two snapshots wait as one entry (its newest), next to the event.
    expect(h.watcher.backlog()).toBe(2);
    expect(await h.metric('killtrace_cluster_watcher_publish_backlog')).toBe(2);
    // A relist or a new delivery is not what brings them back: nothing else happens in the cluster from here on.
    await ensureTopics(kafka, [{ topic: h.topics.signals, partitions: 3, replicationFactor: 1 }]);
    createdTopics.push(h.topics.signals);
    await waitFor('the backlog published', () => h.watcher.backlog() === 0, 60_000);
    await waitFor('ready again', () => h.watcher.ready(), 5_000);
    expect(await h.metric('killtrace_cluster_watcher_publish_backlog')).toBe(0);
    const all = await h.signals();
    expect(pods(all).map((s) => `${s.pod.name}:${s.pod.statuses[0]?.restartCount}`)).toEqual(['early:1']);
    expect(events(all).map((e) => e.reason)).toEqual(['Killing']);
    expect(h.fake.requests.filter((r) => !r.watch)).toHaveLength(2); // no relist was needed
  });

  it('pauses its informers when the backlog reaches its bound, and resumes from their resourceVersion once Kafka drains it', async () => {
    const h = await start({ maxBacklog: 4, publishRetryMaxMs: 1_000 }, undefined, { createSignalsTopic: false, publisherAttempts: 1 });
    for (let i = 0; i < 4; i += 1) h.fake.add('pods', makePod({ name: `p${i}`, uid: `uid-p${i}` }));
    await waitFor('informers paused by back-pressure', () => h.fake.watchCount() === 0 && /not yet accepted by Kafka/.test(h.watcher.readiness().detail ?? ''), 60_000);
    expect(await h.metric('killtrace_cluster_watcher_backpressure')).toBe(1);
    expect(h.watcher.backlog()).toBe(4);
    // Changes while paused wait in the API server, not in the collector's memory.
    h.fake.modify('pods', 'default', 'p0', (p) => void ((p.status as { containerStatuses: { restartCount: number }[] }).containerStatuses[0]!.restartCount = 1));
    h.fake.add('pods', makePod({ name: 'p4', uid: 'uid-p4' }));
    await ensureTopics(kafka, [{ topic: h.topics.signals, partitions: 3, replicationFactor: 1 }]);
    createdTopics.push(h.topics.signals);
    await settle(h, publishedCount(h), 6);
    await waitFor('ready again', () => h.watcher.ready(), 10_000);
    expect(await h.metric('killtrace_cluster_watcher_backpressure')).toBe(0);
    const snapshots = pods(await h.signals());
    expect(snapshots.map((s) => `${s.pod.name}:${s.pod.statuses[0]?.restartCount}`).sort()).toEqual(['p0:0', 'p0:1', 'p1:0', 'p2:0', 'p3:0', 'p4:0']);
    expect(h.fake.requests.filter((r) => !r.watch)).toHaveLength(2); // resumed by watch, no relist
  });
});
