import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '@killtrace/config';
import { createProducer, ensureTopics } from '@killtrace/kafka';
import { createLogger } from '@killtrace/logging';
import { createRegistry } from '@killtrace/service-http';
import { startElectedClusterWatcher, type ElectedClusterWatcher } from '../../services/collector/src/cluster-watcher/index.js';
import { createPublisherMetrics, createSignalPublisher, type ManagedPublisher } from '../../services/collector/src/publish/index.js';
import { integrationConfig, uniqueSuffix, waitFor } from './helpers.js';
import { createNamespace, deleteNamespace, KubeApiError, kubeApiServer, kubeConfigFor, kubeRequest, type KubeApiServer } from './kube-api.js';
import { deleteClusterRole, readSignalMessages, serviceAccountWithRules, shippedClusterRoleRules, shippedRoleRules, testKafka } from './kube-watcher-harness.js';
import { createPod, patchContainerStatus } from './kubelet-writes.js';

/**
 * Two replicas of the cluster watcher with a coordination.k8s.io Lease, against the real API server, as the
 * ServiceAccount bound to the ClusterRole and the Lease Role shipped in deploy/kubernetes: one leads and publishes,
 * the standby starts nothing; when the leader dies (stops renewing without releasing) the standby takes over after
 * the lease duration; a graceful stop releases the Lease.
 */

const LEASE = 'killtrace-cluster-watcher';
let server: KubeApiServer;
let namespace: string;
let token: string;
let clusterRole: string;
let topic: string;
const replicas: { elected: ElectedClusterWatcher; publisher: ManagedPublisher }[] = [];
const logger = createLogger({ name: 'leader-it', level: 'warn', format: 'json' });

interface LeaseSpec {
  holderIdentity?: string;
  leaseTransitions?: number;
  leaseDurationSeconds?: number;
}

beforeAll(async () => {
  server = kubeApiServer();
  namespace = `kt-lease-${uniqueSuffix()}`;
  await createNamespace(server, namespace);
  ({ token, clusterRole } = await serviceAccountWithRules(server, namespace, 'killtrace-cluster-watcher', shippedClusterRoleRules()));
  // The shipped Lease Role, in the test's namespace, bound to the same ServiceAccount.
  await kubeRequest(server, `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/roles`, {
    method: 'POST',
    body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'lease' }, rules: shippedRoleRules('killtrace-cluster-watcher-leader-election') },
  });
  await kubeRequest(server, `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`, {
    method: 'POST',
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'lease' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'lease' },
      subjects: [{ kind: 'ServiceAccount', name: 'killtrace-cluster-watcher', namespace }],
    },
  });
  topic = `kt-it-lease-signals-${uniqueSuffix()}`;
  await ensureTopics(testKafka(), [{ topic, partitions: 3, replicationFactor: 1 }]);
});

afterEach(async () => {
  for (const r of replicas.splice(0)) {
    await r.elected.close();
    await r.publisher.close();
  }
});

afterAll(async () => {
  await deleteClusterRole(server, clusterRole);
  await deleteNamespace(server, namespace);
  const admin = testKafka().admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

async function replica(identity: string, leaseName = LEASE): Promise<ElectedClusterWatcher> {
  const base = integrationConfig();
  const config: Config = {
    ...base,
    kafka: { ...base.kafka, topics: { ...base.kafka.topics, signals: topic } },
    clusterWatcher: { ...base.clusterWatcher, namespaces: [namespace], retryMaxMs: 1_000, leaderElection: true, leaseName, leaseNamespace: namespace, leaseIdentity: identity, leaseDurationMs: 4_000, leaseRenewDeadlineMs: 3_000, leaseRetryPeriodMs: 500 },
  };
  const registry = createRegistry(`leader-it-${identity}`);
  const publisher = createSignalPublisher({ producer: createProducer(testKafka()), topics: config.kafka.topics, producerRef: { component: 'cluster-watcher', instance: identity }, logger, metrics: createPublisherMetrics(registry) });
  await publisher.connect();
  const elected = startElectedClusterWatcher({ config, logger, publisher, registry, kubeConfig: kubeConfigFor(server, token) }, {});
  replicas.push({ elected, publisher });
  return elected;
}

const lease = async (): Promise<LeaseSpec> => (await kubeRequest<{ spec: LeaseSpec }>(server, `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${LEASE}`)).spec;

async function untilLease(what: string, check: (spec: LeaseSpec) => boolean, timeoutMs = 30_000): Promise<LeaseSpec> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spec = await lease().catch(() => ({}) as LeaseSpec);
    if (check(spec)) return spec;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; Lease is ${JSON.stringify(spec)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** [producer instance, restartCount] of every pod signal on the topic, in order. */
async function podsByProducer(): Promise<[string, number | null][]> {
  return (await readSignalMessages(topic)).flatMap((m) => (m.signal.kind === 'pod' ? [[m.producer.instance, m.signal.pod.statuses[0]?.restartCount ?? null] as [string, number | null]] : []));
}

async function published(what: string, check: (pods: [string, number | null][]) => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check(await podsByProducer())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await podsByProducer())}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe('cluster watcher leader election against the real kube-apiserver', () => {
  it('one replica leads and publishes, the standby takes over when the leader dies, a graceful stop hands over at once', { timeout: 120_000 }, async () => {
    const a = await replica('replica-a');
    await waitFor('replica-a to lead', () => a.isLeader() && a.ready(), 30_000);
    const b = await replica('replica-b');
    // The standby has seen the holder and started nothing.
    await waitFor('replica-b to see the holder', () => b.readiness().detail?.includes('held by replica-a') === true, 30_000);
    expect(b.isLeader()).toBe(false);
    expect(b.active()).toBeUndefined();
    expect(await lease()).toMatchObject({ holderIdentity: 'replica-a', leaseTransitions: 0 });

    await createPod(server, namespace, 'api-1');
    await published('replica-a to publish the pod', (pods) => pods.some((p) => p[0] === 'replica-a'));

    // The leader dies: it stops renewing and never releases; after the lease duration the standby takes over.
    await a.crash();
    await untilLease('replica-b to hold the Lease', (spec) => spec.holderIdentity === 'replica-b');
    await waitFor('replica-b to lead and be ready', () => b.isLeader() && b.ready(), 30_000);
    expect(await lease()).toMatchObject({ holderIdentity: 'replica-b', leaseTransitions: 1 });
    await patchContainerStatus(server, namespace, 'api-1', { restartCount: 0, startedAt: Date.now() - 1_000 });
    await published('replica-b to publish the status change', (pods) => pods.some((p) => p[0] === 'replica-b' && p[1] === 0));

    // A graceful stop releases the Lease (no holder), so a new replica need not wait for it to expire.
    await b.close();
    expect(await lease()).toMatchObject({ leaseDurationSeconds: 1, leaseTransitions: 1 });
    expect((await lease()).holderIdentity).toBeUndefined();
    const c = await replica('replica-c');
    await waitFor('replica-c to lead', () => c.isLeader(), 30_000);
    expect(await lease()).toMatchObject({ holderIdentity: 'replica-c', leaseTransitions: 2 });

    // Who published what (one partition per pod: in order): a while leading; b re-published the current pod on
    // taking over (its de-duplication starts empty), then the change; c re-published the current pod.
    await published('replica-c to publish the current pod', (pods) => pods.some((p) => p[0] === 'replica-c'));
    await c.active()?.idle();
    expect(await podsByProducer()).toEqual([
      ['replica-a', null],
      ['replica-b', null],
      ['replica-b', 0],
      ['replica-c', 0],
    ]);
  });

  it('a replica configured with a Lease its Role does not name stays a standby, not ready, saying why', async () => {
    const r = await replica('replica-x', 'not-my-lease');
    await waitFor('the Lease denial in /readyz', () => r.readiness().detail?.includes('403') === true, 30_000);
    expect(r.readiness()).toMatchObject({ ok: false });
    expect(r.readiness().detail).toContain('Lease ' + namespace + '/not-my-lease');
    expect(r.isLeader()).toBe(false);
    expect(r.active()).toBeUndefined();
  });

  it('the shipped Lease Role lets the watcher manage only its own Lease', async () => {
    const other = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'someone-elses-lease' }, spec: { holderIdentity: 'x' } };
    await kubeRequest(server, `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`, { method: 'POST', body: other });
    const base = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;
    for (const attempt of [
      () => kubeRequest(server, `${base}/someone-elses-lease`, { token }),
      () => kubeRequest(server, `${base}/someone-elses-lease`, { token, method: 'PUT', body: { ...other, spec: { holderIdentity: 'me' } } }),
      () => kubeRequest(server, base, { token }),
      () => kubeRequest(server, `${base}/someone-elses-lease`, { token, method: 'DELETE' }),
    ]) {
      const error = await attempt().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(KubeApiError);
      expect((error as KubeApiError).status).toBe(403);
    }
    // Its own Lease: create (unless the replica test above already did), get and update are granted.
    await kubeRequest(server, base, { token, method: 'POST', body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: LEASE }, spec: {} } }).catch((e: unknown) => {
      if (!(e instanceof KubeApiError && e.status === 409)) throw e;
    });
    const own = await kubeRequest<{ metadata: { name: string }; spec: Record<string, unknown> }>(server, `${base}/${LEASE}`, { token });
    expect(own.metadata.name).toBe(LEASE);
    await expect(kubeRequest(server, `${base}/${LEASE}`, { token, method: 'PUT', body: { ...own, spec: { ...own.spec, holderIdentity: 'rbac-test' } } })).resolves.toMatchObject({ spec: { holderIdentity: 'rbac-test' } });
  });
});
