import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor, uniqueSuffix } from './helpers.js';
import { compactEtcd, createNamespace, deleteNamespace, type KubeApiServer } from './kube-api.js';
import { deleteClusterRole, eventSignals, podSignals, serviceAccountWithRules, settle, shippedClusterRoleRules, startRealWatcher, type RealWatcher } from './kube-watcher-harness.js';
import { startPrivateKubeApiServer, type PrivateKubeApiServer } from './private-kube.js';
import { createCoreEvent, createEventsV1, createPod, patchConditionOnly, patchContainerStatus, repeatCoreEvent, repeatEventsV1 } from './kubelet-writes.js';

/**
 * The real cluster watcher against a real kube-apiserver (and real Kafka), running as a ServiceAccount
 * bound to the ClusterRole rules shipped in deploy/kubernetes: what a kubelet writes reaches Kafka once, through
 * bookmarks, API server restarts (graceful and SIGKILL) and an etcd compaction (410 Gone, relist). The control plane
 * is this file's own (test/integration/private-kube.ts): the restarts and the compaction must not reach the other
 * files' watchers, which run at the same time.
 */

let control: PrivateKubeApiServer;
let server: KubeApiServer;
let saNamespace: string;
let namespace: string;
const namespaces: string[] = [];
let token: string;
let clusterRole: string;
const running: RealWatcher[] = [];

beforeAll(async () => {
  control = await startPrivateKubeApiServer();
  server = control.server;
  saNamespace = `kt-cw-sa-${uniqueSuffix()}`;
  await createNamespace(server, saNamespace);
  namespaces.push(saNamespace);
  ({ token, clusterRole } = await serviceAccountWithRules(server, saNamespace, 'killtrace-cluster-watcher', shippedClusterRoleRules()));
});

afterEach(async () => {
  for (const w of running.splice(0)) await w.close();
});

afterAll(async () => {
  if (control === undefined) return;
  await deleteClusterRole(server, clusterRole);
  for (const ns of namespaces) await deleteNamespace(server, ns);
  await control.stop();
});

const published = (w: RealWatcher) => () => w.metric('killtrace_collector_published_total');

/** A watcher on a namespace of its own (so that no test sees another's pods). */
async function start(): Promise<RealWatcher> {
  namespace = `kt-cw-${uniqueSuffix()}`;
  await createNamespace(server, namespace);
  namespaces.push(namespace);
  const w = await startRealWatcher({ server, namespace, token });
  running.push(w);
  return w;
}

describe('cluster watcher against the real kube-apiserver', () => {
  it('publishes what the kubelet writes (status subresource, core/v1 and events.k8s.io/v1 events) exactly once each', async () => {
    const w = await start();
    const t0 = Date.now() - 60_000;
    const pod = await createPod(server, namespace, 'shop-1');
    await patchContainerStatus(server, namespace, 'shop-1', { restartCount: 0, startedAt: t0 });
    // A heartbeat-like status write: nothing Killtrace reads changes, so nothing is published.
    await patchConditionOnly(server, namespace, 'shop-1', t0 + 1_000);
    await createCoreEvent(server, { name: 'shop-1.unhealthy', pod, reason: 'Unhealthy', message: 'Liveness probe failed: HTTP probe failed with statuscode: 500', type: 'Warning', at: t0 + 10_000 });
    await repeatCoreEvent(server, namespace, 'shop-1.unhealthy', 2, t0 + 20_000);
    await repeatCoreEvent(server, namespace, 'shop-1.unhealthy', 3, t0 + 30_000);
    // The same count again (only the message moved): not a new occurrence.
    await repeatCoreEvent(server, namespace, 'shop-1.unhealthy', 3, t0 + 30_000, 'Liveness probe failed: timeout');
    await createEventsV1(server, { name: 'shop-1.killing', pod, reason: 'Killing', message: 'Container app failed liveness probe, will be restarted', at: t0 + 30_500 });
    await repeatEventsV1(server, namespace, 'shop-1.killing', 2, t0 + 31_000);
    await patchContainerStatus(server, namespace, 'shop-1', { restartCount: 1, startedAt: t0 + 32_000, lastTerminated: { exitCode: 137, reason: 'Error', startedAt: t0, finishedAt: t0 + 31_000 } });
    // 3 pod snapshots (created, running, restarted) + 3 core/v1 occurrences + 2 events.k8s.io/v1 occurrences.
    await settle(published(w), 8, 'signals');
    const all = await w.signals();
    expect(all).toHaveLength(8);
    const pods = podSignals(all, namespace);
    expect(pods.map((p) => p.pod.statuses[0]?.restartCount ?? null)).toEqual([null, 0, 1]);
    expect(pods.every((p) => p.pod.uid === pod.metadata.uid)).toBe(true);
    expect(pods[2]?.pod.statuses[0]?.lastTerminated).toMatchObject({ exitCode: 137, reason: 'Error', containerId: 'shop-1-0' });
    expect(pods[0]?.pod.containers[0]?.liveness).toMatchObject({ handler: 'http', periodSeconds: 10, failureThreshold: 3 });
    const events = eventSignals(all, namespace);
    expect(events.map((e) => [e.reason, e.count])).toEqual([
      ['Unhealthy', 1],
      ['Unhealthy', 2],
      ['Unhealthy', 3],
      ['Killing', 1],
      ['Killing', 2],
    ]);
    // Written through events.k8s.io/v1, read through core/v1: the API server converts regarding/note/series.
    expect(events[4]).toMatchObject({ involved: { uid: pod.metadata.uid, name: 'shop-1' }, container: 'app', message: 'Container app failed liveness probe, will be restarted' });
    expect(events[0]).toMatchObject({ container: 'app', type: 'Warning', lastAt: Math.floor((t0 + 10_000) / 1000) * 1000 });
  });

  // The API server sends a BOOKMARK to a watch that asked for them about once a minute
  // (cacheWatcher.nextBookmarkTime, k8s.io/apiserver pkg/storage/cacher/cache_watcher.go).
  it('receives BOOKMARK events from the real watch cache', { timeout: 150_000 }, async () => {
    const w = await start();
    const deadline = Date.now() + 130_000;
    while ((await w.metric('killtrace_cluster_watcher_watch_events_total', { resource: 'pods', type: 'BOOKMARK' })) === 0) {
      if (Date.now() > deadline) throw new Error('no BOOKMARK within 130 s');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    expect(w.watcher.ready()).toBe(true);
  });

  it('is not ready while the API server is down, resumes after graceful and hard restarts and an etcd compaction (410 Gone), without duplicates', { timeout: 240_000 }, async () => {
    const w = await start();
    const t0 = Date.now() - 60_000;
    const pod = await createPod(server, namespace, 'cart-1');
    await patchContainerStatus(server, namespace, 'cart-1', { restartCount: 0, startedAt: t0 });
    await createCoreEvent(server, { name: 'cart-1.unhealthy', pod, reason: 'Unhealthy', message: 'Liveness probe failed', type: 'Warning', at: t0 + 1_000 });
    await settle(published(w), 3, 'signals before the restarts');

    // Graceful restart.
    await control.stack('kube-apiserver-stop');
    await waitFor('readiness to fail while the API server is down', () => !w.watcher.ready(), 60_000);
    expect(w.watcher.readiness().detail).toMatch(/watch not established: (list|watch) (pods|events) in namespace kt-cw-.*unreachable/);
    await control.stack('kube-apiserver-start');
    await waitFor('ready again after the graceful restart', () => w.watcher.ready(), 60_000);
    await patchContainerStatus(server, namespace, 'cart-1', { restartCount: 1, startedAt: t0 + 10_000, lastTerminated: { exitCode: 137, reason: 'OOMKilled', startedAt: t0, finishedAt: t0 + 9_000 } });
    await repeatCoreEvent(server, namespace, 'cart-1.unhealthy', 2, t0 + 9_500);
    await settle(published(w), 5, 'signals after the graceful restart');

    // SIGKILL, then etcd forgets every older revision (the API server's compactor does this every 5 minutes). The
    // restarted server's watch cache starts at the current revision and answers an older resourceVersion with 410
    // Gone (watchCache.getAllEventsSinceLocked, k8s.io/apiserver pkg/storage/cacher/watch_cache.go), which etcd could
    // no longer serve either: the watcher must relist.
    const relistsBefore = await w.metric('killtrace_cluster_watcher_relists_total');
    await control.stack('kube-apiserver-stop', 'hard');
    await waitFor('readiness to fail after SIGKILL', () => !w.watcher.ready(), 60_000);
    await compactEtcd(server);
    await control.stack('kube-apiserver-start');
    await waitFor('ready again after the hard restart', () => w.watcher.ready(), 60_000);
    await waitFor('a relist after 410 Gone', () => w.logs.some((l) => l.msg === 'watch expired (410 Gone): relisting'), 30_000);
    expect(await w.metric('killtrace_cluster_watcher_relists_total')).toBeGreaterThan(relistsBefore);
    await patchContainerStatus(server, namespace, 'cart-1', { restartCount: 2, startedAt: t0 + 20_000, lastTerminated: { exitCode: 137, reason: 'OOMKilled', startedAt: t0 + 10_000, finishedAt: t0 + 19_000 } });
    await repeatCoreEvent(server, namespace, 'cart-1.unhealthy', 3, t0 + 19_500);
    await settle(published(w), 7, 'signals after the hard restart');

    const all = await w.signals();
    // The relists re-delivered every pod and event: none of them was published again.
    expect(all).toHaveLength(7);
    expect(podSignals(all, namespace).map((p) => p.pod.statuses[0]?.restartCount ?? null)).toEqual([null, 0, 1, 2]);
    expect(eventSignals(all, namespace).map((e) => e.count)).toEqual([1, 2, 3]);
    // One line per outage and informer when it starts failing, one when it recovers: not one per retry.
    for (const path of [`/api/v1/namespaces/${namespace}/pods`, `/api/v1/namespaces/${namespace}/events`]) {
      const recovered = w.logs.filter((l) => l.msg === 'list/watch established again' && l.path === path);
      expect(recovered).toHaveLength(2);
      const failingLines = w.logs.filter((l) => l.level === 'warn' && l.path === path);
      const retries = recovered.reduce((sum, l) => sum + Number(l.failures), 0);
      expect(failingLines.length).toBeLessThan(retries);
      expect(failingLines.every((l) => typeof l.verb === 'string' && l.resource === path.split('/').pop() && l.namespace === namespace)).toBe(true);
    }
  });
});
