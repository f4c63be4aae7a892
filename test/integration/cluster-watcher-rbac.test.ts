import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uniqueSuffix, waitFor } from './helpers.js';
import { createNamespace, deleteNamespace, kubeApiServer, type KubeApiServer } from './kube-api.js';
import { deleteClusterRole, podSignals, serviceAccountWithRules, settle, shippedClusterRoleRules, startRealWatcher, type PolicyRule, type RealWatcher } from './kube-watcher-harness.js';
import { createPod } from './kubelet-writes.js';

/**
 * RBAC proven against the real API server: the watcher runs with a ServiceAccount token (TokenRequest API) bound to
 * the ClusterRole rules shipped in deploy/kubernetes/base/cluster-watcher.yaml and works; with a verb or a
 * resource taken away it is not ready and says, in one log line and in /readyz, which verb on which resource in
 * which namespace was denied.
 */

let server: KubeApiServer;
let namespace: string;
const roles: string[] = [];
const running: RealWatcher[] = [];

beforeAll(async () => {
  server = kubeApiServer();
  namespace = `kt-rbac-${uniqueSuffix()}`;
  await createNamespace(server, namespace);
  await createPod(server, namespace, 'web-1');
});
afterEach(async () => {
  for (const w of running.splice(0)) await w.close();
});
afterAll(async () => {
  for (const role of roles) await deleteClusterRole(server, role);
  await deleteNamespace(server, namespace);
});

async function watcherWith(rules: PolicyRule[], options: { namespaces?: string[]; waitReady: boolean }): Promise<RealWatcher> {
  const { token, clusterRole } = await serviceAccountWithRules(server, namespace, `watcher-${uniqueSuffix()}`, rules);
  roles.push(clusterRole);
  const w = await startRealWatcher({ server, namespace, token, waitReady: options.waitReady, ...(options.namespaces === undefined ? {} : { namespaces: options.namespaces }) });
  running.push(w);
  return w;
}

const without = (rules: PolicyRule[], drop: { verb?: string; resource?: string }): PolicyRule[] =>
  rules.map((r) => ({ ...r, verbs: r.verbs.filter((v) => v !== drop.verb), resources: r.resources.filter((x) => x !== drop.resource) }));

describe('the watcher\'s RBAC against the real kube-apiserver', () => {
  it('the shipped ClusterRole grants exactly get, list and watch on pods and events', () => {
    expect(shippedClusterRoleRules().filter((r) => r.resources.some((x) => x === 'pods' || x === 'events'))).toEqual([{ apiGroups: [''], resources: ['pods', 'events'], verbs: ['get', 'list', 'watch'] }]);
  });

  it('works cluster-wide with the shipped ClusterRole, through a TokenRequest ServiceAccount token', async () => {
    const w = await watcherWith(shippedClusterRoleRules(), { namespaces: [], waitReady: true });
    await settle(async () => podSignals(await w.signals(), namespace).length, 1, 'the pod of the test namespace');
    expect(podSignals(await w.signals(), namespace).map((p) => p.pod.name)).toEqual(['web-1']);
    expect(w.logs.filter((l) => l.code === 'KT_ERR_COLLECTOR_FORBIDDEN')).toEqual([]);
  });

  // list and watch are what an informer does (ListWatch in @kubernetes/client-node, like client-go's Reflector).
  it.each([
    { what: 'the verb list', drop: { verb: 'list' }, verb: 'list', resource: 'pods' },
    { what: 'the verb watch', drop: { verb: 'watch' }, verb: 'watch', resource: 'pods' },
    { what: 'the resource pods', drop: { resource: 'pods' }, verb: 'list', resource: 'pods' },
    { what: 'the resource events', drop: { resource: 'events' }, verb: 'list', resource: 'events' },
  ])('without $what it is not ready and names the denied $verb on $resource', async ({ drop, verb, resource }) => {
    const w = await watcherWith(without(shippedClusterRoleRules(), drop), { waitReady: false });
    const denied = (): boolean => w.logs.some((l) => l.code === 'KT_ERR_COLLECTOR_FORBIDDEN' && l.verb === verb && l.resource === resource);
    await waitFor(`a 403 naming ${verb} ${resource}`, denied, 30_000);
    const line = w.logs.find((l) => l.code === 'KT_ERR_COLLECTOR_FORBIDDEN' && l.verb === verb && l.resource === resource);
    expect(line).toMatchObject({ level: 'warn', status: 403, kind: 'forbidden', namespace });
    expect(line?.msg).toContain(`${verb} ${resource} in namespace ${namespace} answered 403 Forbidden: the watcher's ServiceAccount lacks the permission "${verb}" on "${resource}"`);
    expect(w.watcher.ready()).toBe(false);
    expect(w.watcher.readiness().detail).toContain(`lacks the permission "${verb}" on "${resource}"`);
    // Still denied on every retry, but said once: the line is not repeated per attempt.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(w.logs.filter((l) => l.code === 'KT_ERR_COLLECTOR_FORBIDDEN' && l.verb === verb && l.resource === resource)).toHaveLength(1);
  });

  it('does not use get: without it the watcher still works (list and watch are all an informer needs)', async () => {
    const w = await watcherWith(without(shippedClusterRoleRules(), { verb: 'get' }), { waitReady: true });
    await settle(async () => podSignals(await w.signals(), namespace).length, 1, 'the pod of the test namespace');
    expect(w.watcher.ready()).toBe(true);
  });
});
