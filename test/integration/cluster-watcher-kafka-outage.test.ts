import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '@killtrace/config';
import { createProducer, ensureTopics } from '@killtrace/kafka';
import { createLogger } from '@killtrace/logging';
import type { EventSignal, PodSignal, SignalMessage } from '@killtrace/schemas';
import { createRegistry } from '@killtrace/service-http';
import { createKafkaClient } from '../../libs/kafka/src/testing.js';
import { startClusterWatcher, type ClusterWatcher } from '../../services/collector/src/cluster-watcher/index.js';
import { createPublisherMetrics, createSignalPublisher, type ManagedPublisher } from '../../services/collector/src/publish/index.js';
import { integrationConfig, uniqueSuffix, waitFor } from './helpers.js';
import { createNamespace, deleteNamespace, kubeApiServer, kubeConfigFor, kubeRequest, type KubeApiServer } from './kube-api.js';
import { deleteClusterRole, readSignalMessages, serviceAccountWithRules, settle, shippedClusterRoleRules, testKafka, type LogLine } from './kube-watcher-harness.js';
import { createCoreEvent, createPod, patchContainerStatus, repeatCoreEvent } from './kubelet-writes.js';
import { forwarder, hostPort, type Forwarder } from './tcp-forwarder.js';

/**
 * The cluster watcher restarted during a Kafka outage. Its publish backlog lives in memory, so a restart while Kafka
 * refuses it loses the backlog; what the restarted watcher's list re-publishes is everything the API server still
 * holds, in its current state. Lost for good: states the API server no longer holds (a pod created and deleted
 * during the outage, an intermediate count of an event that repeated since, and events past the API server's
 * `--event-ttl`, see README "The streaming pipeline"). Consumers see duplicates only within the de-dup contract:
 * what stayed unchanged comes again with the same pod (uid, resourceVersion) or event (uid, count).
 *
 * Real kube-apiserver, real Kafka; the watcher alone is cut off from the shared broker by a TCP forwarder that
 * all of its broker connections go through (libs/kafka/src/testing.ts `through`).
 */

let server: KubeApiServer;
let saNamespace: string;
let token: string;
let clusterRole: string;
let kafkaFwd: Forwarder;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  server = kubeApiServer();
  saNamespace = `kt-cwo-sa-${uniqueSuffix()}`;
  await createNamespace(server, saNamespace);
  ({ token, clusterRole } = await serviceAccountWithRules(server, saNamespace, 'killtrace-cluster-watcher', shippedClusterRoleRules()));
  kafkaFwd = await forwarder(hostPort(integrationConfig().kafka.brokers[0] ?? '127.0.0.1:9092'));
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

afterAll(async () => {
  await kafkaFwd.close();
  await deleteClusterRole(server, clusterRole);
  await deleteNamespace(server, saNamespace);
});

interface Instance {
  watcher: ClusterWatcher;
  publisher: ManagedPublisher;
  logs: LogLine[];
  published(): Promise<number>;
}

/** One run of the watcher (instance name `name`), publishing through the forwarder only. */
async function startInstance(name: string, config: Config): Promise<Instance> {
  const logs: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n').filter((l) => l !== '')) logs.push(JSON.parse(line) as LogLine);
      callback();
    },
  });
  const logger = createLogger({ name: `cwo-${name}`, level: 'info', format: 'json', destination });
  const routed = createKafkaClient(config.kafka, { clientId: `kt-it-cwo-${name}`, logger, through: { host: '127.0.0.1', port: kafkaFwd.port } });
  const registry = createRegistry(`collector-cwo-${name}`);
  const publisher = createSignalPublisher({
    producer: createProducer(routed),
    topics: config.kafka.topics,
    producerRef: { component: 'cluster-watcher', instance: name },
    logger,
    metrics: createPublisherMetrics(registry),
    attempts: 2,
  });
  // As services/collector/src/main.ts does: the watcher lists only once its producer is connected.
  await publisher.connect();
  const watcher = await startClusterWatcher({ config, logger, publisher, registry, kubeConfig: kubeConfigFor(server, token) });
  await waitFor(`${name} ready`, () => watcher.ready(), 20_000);
  return {
    watcher,
    publisher,
    logs,
    async published() {
      const metric = await registry.getSingleMetric('killtrace_collector_published_total')?.get();
      return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
    },
  };
}

const podKey = (s: PodSignal): string => `pod ${s.pod.uid}@${s.resourceVersion ?? '?'}`;
const eventKey = (s: EventSignal): string => `event ${s.uid ?? '?'}#${s.count}`;
const keyOf = (m: SignalMessage): string | undefined => (m.signal.kind === 'pod' ? podKey(m.signal) : m.signal.kind === 'event' ? eventKey(m.signal) : undefined);

interface Listed<T> {
  items: T[];
}
type ApiPod = { metadata: { uid: string; name: string; resourceVersion: string } };
type ApiEvent = { metadata: { uid: string; name: string }; count?: number };

describe('cluster watcher restarted during a Kafka outage', () => {
  it('loses only what the API server no longer holds: the relist re-publishes the rest, de-duplicated by uid and count', { timeout: 240_000 }, async () => {
    const base = integrationConfig();
    const namespace = `kt-cwo-${uniqueSuffix()}`;
    await createNamespace(server, namespace);
    cleanups.push(() => deleteNamespace(server, namespace));
    const suffix = uniqueSuffix();
    const topics = { signals: `kt-it-cwo-signals-${suffix}`, logs: `kt-it-cwo-logs-${suffix}`, deadLetter: `kt-it-cwo-dlq-${suffix}` };
    await ensureTopics(testKafka(), [
      { topic: topics.signals, partitions: 3, replicationFactor: 1 },
      { topic: topics.deadLetter, partitions: 1, replicationFactor: 1 },
    ]);
    cleanups.push(async () => {
      const admin = testKafka().admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [topics.signals, topics.deadLetter] }).catch(() => undefined);
      await admin.disconnect();
    });
    const config: Config = {
      ...base,
      kafka: { ...base.kafka, topics: { ...base.kafka.topics, ...topics } },
      clusterWatcher: { ...base.clusterWatcher, retryMaxMs: 1_000, namespaces: [namespace] },
    };
    const t0 = Date.now() - 60_000;

    // Kafka reachable: the first watcher publishes pod A (created, running), pod D (created), events E1 and E3 (count 1).
    // D and E3 stay unchanged until the end.
    await kafkaFwd.open();
    const first = await startInstance('watcher-1', config);
    let firstClosed = false;
    cleanups.push(async () => {
      if (!firstClosed) await first.watcher.close(0);
      await first.publisher.close();
    });
    const podA = await createPod(server, namespace, 'cart-a');
    await patchContainerStatus(server, namespace, 'cart-a', { restartCount: 0, startedAt: t0 });
    const podD = await createPod(server, namespace, 'cart-d');
    await createCoreEvent(server, { name: 'cart-a.unhealthy', pod: podA, reason: 'Unhealthy', message: 'Liveness probe failed', type: 'Warning', at: t0 + 1_000 });
    await createCoreEvent(server, { name: 'cart-d.pulled', pod: podD, reason: 'Pulled', message: 'Container image "registry.example/app:1.0" already present on machine', at: t0 + 2_000 });
    await settle(() => first.published(), 5, 'signals before the outage');

    // Kafka cut off for the watcher: everything it sees now waits in its in-memory backlog.
    await kafkaFwd.close();
    await patchContainerStatus(server, namespace, 'cart-a', { restartCount: 1, startedAt: t0 + 10_000, lastTerminated: { exitCode: 137, reason: 'Error', startedAt: t0, finishedAt: t0 + 9_000 } });
    await repeatCoreEvent(server, namespace, 'cart-a.unhealthy', 2, t0 + 9_000);
    const podB = await createPod(server, namespace, 'cart-b');
    await createCoreEvent(server, { name: 'cart-b.killing', pod: podB, reason: 'Killing', message: 'Container app failed liveness probe, will be restarted', at: t0 + 12_000 });
    const podC = await createPod(server, namespace, 'cart-c');
    await kubeRequest(server, `/api/v1/namespaces/${namespace}/pods/cart-c?gracePeriodSeconds=0`, { method: 'DELETE' });
    await waitFor('the outage changes in the backlog', () => first.watcher.backlog() >= 5, 30_000);
    await waitFor('readiness failing while Kafka refuses the backlog', () => /not yet accepted by Kafka/.test(first.watcher.readiness().detail ?? ''), 120_000);

    // Restart during the outage: the backlog cannot be drained and is gone with the process.
    await first.watcher.close(500);
    firstClosed = true;
    const lost = first.logs.find((l) => l.msg.startsWith('stopped with signals Kafka never accepted'));
    expect(Number(lost?.lost)).toBeGreaterThanOrEqual(5);

    // While no watcher runs: E1 repeats again, pod B starts running.
    await repeatCoreEvent(server, namespace, 'cart-a.unhealthy', 3, t0 + 19_000);
    await patchContainerStatus(server, namespace, 'cart-b', { restartCount: 0, startedAt: t0 + 13_000 });

    // Kafka back; the restarted watcher lists and publishes the current state of pods A, B, D and events E1, E2, E3.
    await kafkaFwd.open();
    const second = await startInstance('watcher-2', config);
    cleanups.push(async () => {
      await second.watcher.close();
      await second.publisher.close();
    });
    await settle(() => second.published(), 6, 'the relist after the restart');
    await second.watcher.idle();
    expect(await second.published()).toBe(6);

    const messages = await readSignalMessages(topics.signals);
    const keys = messages.map(keyOf).filter((k): k is string => k !== undefined);

    // Nothing the API server still holds is lost: every pod's and event's current state is on the topic.
    const pods = await kubeRequest<Listed<ApiPod>>(server, `/api/v1/namespaces/${namespace}/pods`);
    const events = await kubeRequest<Listed<ApiEvent>>(server, `/api/v1/namespaces/${namespace}/events`);
    expect(pods.items.map((p) => p.metadata.name).sort()).toEqual(['cart-a', 'cart-b', 'cart-d']);
    expect(events.items.map((e) => e.metadata.name).sort()).toEqual(['cart-a.unhealthy', 'cart-b.killing', 'cart-d.pulled']);
    for (const pod of pods.items) expect(keys).toContain(`pod ${pod.metadata.uid}@${pod.metadata.resourceVersion}`);
    for (const event of events.items) expect(keys).toContain(`event ${event.metadata.uid}#${event.count ?? 1}`);
    const fromSecond = messages.filter((m) => m.producer.instance === 'watcher-2');
    expect(fromSecond.map(keyOf).sort()).toEqual([
      ...pods.items.map((p) => `pod ${p.metadata.uid}@${p.metadata.resourceVersion}`),
      ...events.items.map((e) => `event ${e.metadata.uid}#${e.count ?? 1}`),
    ].sort());

    // Lost: what the API server no longer holds. Pod C lived only during the outage; E1's count 2 and pod B's
    // first snapshot were superseded before the restart listed them.
    expect(messages.some((m) => m.signal.kind === 'pod' && m.signal.pod.uid === podC.metadata.uid)).toBe(false);
    const e1 = messages.filter((m): m is SignalMessage & { signal: EventSignal } => m.signal.kind === 'event' && m.signal.involved.uid === podA.metadata.uid);
    expect(e1.map((m) => m.signal.count)).toEqual([1, 3]);

    // Duplicates only within the de-dup contract: what stayed unchanged across the restart (pod D with the same uid
    // and resourceVersion, event E3 with the same uid and count) comes once more, which the correlator folds into
    // the version it has (one per uid, the higher count: newerEvent in libs/correlation/src/evidence.ts). Every other
    // state is on the topic once, and each run published each state once.
    const counts = new Map<string, number>();
    for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
    const repeated = [...counts].filter(([, n]) => n > 1).map(([key]) => key).sort();
    const unchangedD = pods.items.find((p) => p.metadata.uid === podD.metadata.uid);
    const unchangedE3 = events.items.find((e) => e.metadata.name === 'cart-d.pulled');
    expect(repeated).toEqual([`event ${unchangedE3?.metadata.uid}#1`, `pod ${podD.metadata.uid}@${unchangedD?.metadata.resourceVersion}`].sort());
    expect(repeated.map((key) => counts.get(key))).toEqual([2, 2]);
    for (const instance of ['watcher-1', 'watcher-2']) {
      const own = messages.filter((m) => m.producer.instance === instance).map(keyOf);
      expect(new Set(own).size).toBe(own.length);
    }
  });
});
