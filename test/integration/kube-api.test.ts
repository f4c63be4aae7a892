import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { applyManifests, KubeApiError, kubeApiServer, kubeRequest } from './kube-api.js';
import { uniqueSuffix } from './helpers.js';
import { overlayValuesFile, renderHelm, renderKustomize } from '../deploy/render.js';

/**
 * test/integration/kube-api.ts against the stack's real kube-apiserver: every rendered manifest (the Helm chart,
 * both kustomize overlays, the plain deploy/kubernetes files) is validated by the API server's own schemas and
 * admission (server-side dry run), then applied for real.
 */

const deployDir = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url));

/** Plain manifests kept beside the kustomize tree (deploy/kubernetes/*.yaml, e.g. the alerter's). */
function plainManifests(): KubernetesObject[] {
  return readdirSync(deployDir)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .flatMap((file) => (loadAllYaml(readFileSync(`${deployDir}${file}`, 'utf8')) as KubernetesObject[]).filter((o) => o !== null));
}

/** Everything a user can install: the Helm chart (defaults and the production values), both kustomize overlays. */
const INSTALL_KINDS = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ConfigMap', 'Deployment', 'DaemonSet', 'PodDisruptionBudget', 'NetworkPolicy'];
const renderings: Array<[string, () => KubernetesObject[], string[]]> = [
  ['helm template (defaults)', () => renderHelm({ clusterName: 'apply-test' }), INSTALL_KINDS],
  ['helm template (production values)', () => renderHelm({}, { valueFiles: [overlayValuesFile('production')] }), INSTALL_KINDS],
  ['kustomize build overlays/demo', () => renderKustomize('demo'), INSTALL_KINDS],
  ['kustomize build overlays/production', () => renderKustomize('production'), INSTALL_KINDS],
  ['deploy/kubernetes/*.yaml', plainManifests, ['StatefulSet']],
];

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);

const objectPath = (o: KubernetesObject): string => {
  const group = o.apiVersion === 'v1' ? '/api/v1' : `/apis/${o.apiVersion ?? ''}`;
  const kind = (o.kind ?? '').toLowerCase();
  const plural = kind.endsWith('y') ? `${kind.slice(0, -1)}ies` : `${kind}s`;
  const ns = o.metadata?.namespace === undefined ? '' : `/namespaces/${o.metadata.namespace}`;
  return `${group}${ns}/${plural}/${o.metadata?.name ?? ''}`;
};

describe('applyManifests against the real kube-apiserver', () => {
  it.each(renderings)('dry-runs every object of %s (nothing persisted), then applies them for real, idempotently', async (_source, render, kinds) => {
    const server = kubeApiServer();
    const objects = render().filter((o) => o.kind !== 'Namespace');
    expect(objects.map((o) => o.kind)).toEqual(expect.arrayContaining(kinds));
    // A namespace of its own, so a dry run can prove nothing was stored there.
    const namespace = `kt-apply-${uniqueSuffix()}`;
    const namespaced = objects.map((o) => (CLUSTER_SCOPED.has(o.kind ?? '') ? o : { ...o, metadata: { ...o.metadata, namespace } }));
    await applyManifests([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);

    const dry = await applyManifests(namespaced, { dryRun: true });
    expect(dry.map((o) => o.kind)).toEqual(namespaced.map((o) => o.kind));
    // The API server defaulted and admitted them (a dry run answers the object as it would be stored)...
    expect(dry.every((o) => typeof o.metadata?.uid === 'string')).toBe(true);
    // ...and stored nothing.
    for (const o of namespaced.filter((x) => x.metadata?.namespace === namespace)) {
      await expect(kubeRequest(server, objectPath(o))).rejects.toMatchObject({ status: 404 });
    }

    const applied = await applyManifests(namespaced);
    for (const o of namespaced) {
      const stored = await kubeRequest<KubernetesObject>(server, objectPath(o));
      expect(stored.metadata?.name).toBe(o.metadata?.name);
    }
    // Applying the same objects again changes nothing (server-side apply is declarative).
    const again = await applyManifests(namespaced);
    expect(again.map((o) => o.metadata?.resourceVersion)).toEqual(applied.map((o) => o.metadata?.resourceVersion));
    await kubeRequest(server, `/api/v1/namespaces/${namespace}`, { method: 'DELETE' });
  });

  it('rejects an invalid object with the API server\'s reason, naming the object', async () => {
    const bad = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'kt-invalid-deployment', namespace: 'default' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [] } } } };
    await expect(applyManifests([bad], { dryRun: true })).rejects.toThrow(/Deployment default\/kt-invalid-deployment \(server-side dry run\) failed: 422 Invalid: .*spec\.template\.spec\.containers: Required value/);
    await expect(kubeRequest(kubeApiServer(), '/apis/apps/v1/namespaces/default/deployments/kt-invalid-deployment')).rejects.toBeInstanceOf(KubeApiError);
  });
});
