import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uniqueSuffix, waitFor } from './helpers.js';
import { createNamespace, deleteNamespace, kubeApiServer, kubeRequest, type KubeApiServer } from './kube-api.js';
import { deleteClusterRole, serviceAccountWithRules, settle, shippedClusterRoleRules, startRealWatcher, type RealWatcher } from './kube-watcher-harness.js';

/**
 * The cluster watcher's Node watch (issue 13 section 2, decision 0017) against the stack's real kube-apiserver, as a
 * ServiceAccount bound to the shipped ClusterRole: each Node's configured class labels reach the compacted context
 * topic as `node/<name>` (only those labels), a change of other labels or of the status writes nothing, a class label
 * change writes the new fact, and a deleted Node is tombstoned. Without `nodes` in the role the watcher is not ready
 * and names the denied resource.
 */

let server: KubeApiServer;
let namespace: string;
const roles: string[] = [];
const nodes: string[] = [];
const running: RealWatcher[] = [];

beforeAll(async () => {
  server = kubeApiServer();
  namespace = `kt-nodes-${uniqueSuffix()}`;
  await createNamespace(server, namespace);
});
afterEach(async () => {
  for (const w of running.splice(0)) await w.close();
});
afterAll(async () => {
  for (const name of nodes) await kubeRequest(server, `/api/v1/nodes/${name}`, { method: 'DELETE' }).catch(() => undefined);
  for (const role of roles) await deleteClusterRole(server, role);
  await deleteNamespace(server, namespace);
});

async function createNode(name: string, labels: Record<string, string>): Promise<void> {
  nodes.push(name);
  await kubeRequest(server, '/api/v1/nodes', { method: 'POST', body: { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } } });
}

async function patchLabels(name: string, labels: Record<string, string | null>): Promise<void> {
  await kubeRequest(server, `/api/v1/nodes/${name}`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { metadata: { labels } } });
}

async function watcherWith(rules: Parameters<typeof serviceAccountWithRules>[3], waitReady: boolean): Promise<RealWatcher> {
  const { token, clusterRole } = await serviceAccountWithRules(server, namespace, `nodes-${uniqueSuffix()}`, rules);
  roles.push(clusterRole);
  const w = await startRealWatcher({ server, namespace, token, waitReady, withContext: true });
  running.push(w);
  return w;
}

describe('cluster watcher: Nodes to the context topic', () => {
  it('writes each Node\'s class labels once per change, and a tombstone when it is deleted', async () => {
    const gpu = `kt-gpu-${uniqueSuffix()}`;
    const cpu = `kt-cpu-${uniqueSuffix()}`;
    await createNode(gpu, { 'node.kubernetes.io/instance-type': 'p3dn.24xlarge', 'nvidia.com/gpu.present': 'true', 'kubernetes.io/hostname': gpu, team: 'ml' });
    const w = await watcherWith(shippedClusterRoleRules(), true);
    const mine = async () => (await w.contextMessages()).filter((m) => m.key === `node/${gpu}` || m.key === `node/${cpu}`);
    // Listed at start: only the configured class labels, keyed node/<name>, written by the cluster watcher.
    await settle(async () => (await mine()).length, 1, 'the listed node\'s fact');
    let seen = await mine();
    expect(seen).toEqual([
      {
        key: `node/${gpu}`,
        message: { v: 1, producer: { component: 'cluster-watcher', instance: 'integration' }, fact: { kind: 'node', name: gpu, labels: { 'node.kubernetes.io/instance-type': 'p3dn.24xlarge', 'nvidia.com/gpu.present': 'true' } } },
      },
    ]);
    // Added while watching.
    await createNode(cpu, { 'node.kubernetes.io/instance-type': 'm6a.8xlarge' });
    // Not a class label, and a status write: nothing new for the GPU node.
    await patchLabels(gpu, { team: 'infra' });
    await kubeRequest(server, `/api/v1/nodes/${gpu}/status`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { status: { capacity: { cpu: '96' } } } });
    // A class label changes: the new fact.
    await patchLabels(gpu, { 'nvidia.com/gpu.product': 'Tesla-V100-SXM2-32GB' });
    await kubeRequest(server, `/api/v1/nodes/${cpu}`, { method: 'DELETE' });
    // Two facts of the GPU node (listed, class label changed), the CPU node's fact and its tombstone.
    await settle(async () => (await mine()).length, 4, 'node facts');
    seen = await mine();
    const gpuFacts = seen.filter((m) => m.key === `node/${gpu}`).map((m) => (m.message?.fact.kind === 'node' ? m.message.fact.labels : null));
    expect(gpuFacts).toEqual([
      { 'node.kubernetes.io/instance-type': 'p3dn.24xlarge', 'nvidia.com/gpu.present': 'true' },
      { 'node.kubernetes.io/instance-type': 'p3dn.24xlarge', 'nvidia.com/gpu.present': 'true', 'nvidia.com/gpu.product': 'Tesla-V100-SXM2-32GB' },
    ]);
    expect(seen.filter((m) => m.key === `node/${cpu}`).map((m) => (m.message === null ? null : m.message.fact))).toEqual([
      { kind: 'node', name: cpu, labels: { 'node.kubernetes.io/instance-type': 'm6a.8xlarge' } },
      null,
    ]);
  });

  it('is not ready without get/list/watch on nodes, and says so', async () => {
    const rules = shippedClusterRoleRules().filter((r) => !r.resources.includes('nodes'));
    const w = await watcherWith(rules, false);
    await waitFor('the denied node list to be reported', () => w.logs.some((l) => l.code === 'KT_ERR_COLLECTOR_FORBIDDEN' && JSON.stringify(l).includes('nodes')), 20_000);
    expect(w.watcher.readiness().ok).toBe(false);
    expect(w.watcher.readiness().detail).toMatch(/nodes/);
  });
});
