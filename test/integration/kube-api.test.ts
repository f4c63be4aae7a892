import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { applyManifests, KubeApiError, kubeApiServer, kubeRequest } from './kube-api.js';
import { uniqueSuffix } from './helpers.js';

/**
 * test/integration/kube-api.ts against the stack's real kube-apiserver: the manifests in deploy/kubernetes are
 * validated by the API server's own schemas and admission (server-side dry run), then applied for real.
 */

const deployDir = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url));

function manifests(): KubernetesObject[] {
  return readdirSync(deployDir)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .flatMap((file) => (loadAllYaml(readFileSync(`${deployDir}${file}`, 'utf8')) as KubernetesObject[]).filter((o) => o !== null));
}

const objectPath = (o: KubernetesObject): string => {
  const group = o.apiVersion === 'v1' ? '/api/v1' : `/apis/${o.apiVersion ?? ''}`;
  const plural = `${(o.kind ?? '').toLowerCase()}s`;
  const ns = o.metadata?.namespace === undefined ? '' : `/namespaces/${o.metadata.namespace}`;
  return `${group}${ns}/${plural === 'daemonsets' ? 'daemonsets' : plural}/${o.metadata?.name ?? ''}`;
};

describe('applyManifests against the real kube-apiserver', () => {
  it('dry-runs every manifest of deploy/kubernetes (nothing persisted), then applies them for real, idempotently', async () => {
    const server = kubeApiServer();
    const objects = manifests();
    expect(objects.map((o) => o.kind)).toEqual(expect.arrayContaining(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Deployment', 'DaemonSet', 'ConfigMap']));
    // A namespace of its own, so a dry run can prove nothing was stored there.
    const namespace = `kt-apply-${uniqueSuffix()}`;
    const namespaced = objects.map((o) => (['ClusterRole', 'ClusterRoleBinding'].includes(o.kind ?? '') ? o : { ...o, metadata: { ...o.metadata, namespace } }));
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
