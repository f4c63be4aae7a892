import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runAnalysis } from '../../services/cli/src/run-analysis.js';
import { startupProbeKill, writeScenario } from '../scenarios/catalog.js';
import { uniqueSuffix } from './helpers.js';
import { createNamespace, deleteNamespace, kubeApiServer, kubeRequest, type KubeApiServer } from './kube-api.js';

/**
 * Issue 13, a fix that applies: each record's `killtrace.recommendation.patch` sent to the real kube-apiserver
 * (scripts/stack-kube.sh) as a strategic merge patch (`application/strategic-merge-patch+json`, what `kubectl patch
 * --type strategic` sends) of the owning workload, created from the bundle's pod template; the API server merges and
 * validates it. The kustomize file is the same patch with the object's identity and is sent the same way.
 */

type Obj = { [key: string]: unknown };
const root = fileURLToPath(new URL('../..', import.meta.url));
let server: KubeApiServer;
const namespaces: string[] = [];
const dirs: string[] = [];

beforeAll(() => {
  server = kubeApiServer();
});
afterAll(async () => {
  for (const ns of namespaces) await deleteNamespace(server, ns);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The pod's template as the API server takes it: its labels and spec, without what only a scheduled pod has. */
function templateOf(podsFile: string, podName: string): { labels: Record<string, string>; spec: Obj } {
  const list = JSON.parse(readFileSync(podsFile, 'utf8')) as { items: Array<{ metadata: { name: string; labels?: Record<string, string> }; spec: Obj }> };
  const pod = list.items.find((p) => p.metadata.name === podName);
  if (!pod) throw new Error(`no pod ${podName}`);
  const { nodeName: _node, ...spec } = pod.spec;
  // The pod's own service account token volume belongs to the pod, not to its template.
  const volumes = ((spec.volumes as Obj[] | undefined) ?? []).filter((v) => !String(v.name).startsWith('kube-api-access-'));
  const containers = (spec.containers as Obj[]).map((c) => ({ ...c, volumeMounts: ((c.volumeMounts as Obj[] | undefined) ?? []).filter((m) => !String(m.name).startsWith('kube-api-access-')) }));
  return { labels: pod.metadata.labels ?? {}, spec: { ...spec, volumes, containers } };
}

async function patchAndRead(path: string, body: unknown): Promise<Obj> {
  return kubeRequest<Obj>(server, path, { method: 'PATCH', body, contentType: 'application/strategic-merge-patch+json' });
}

const container = (obj: Obj, name: string): Obj | undefined => (((obj.spec as Obj).template as Obj).spec as { containers: Obj[] }).containers.find((c) => c.name === name);

describe('recommendation patches on the real kube-apiserver', () => {
  it('adds the startupProbe to the host agent DaemonSet (both the kubectl patch and the kustomize file)', async () => {
    const ns = `kt-patch-${uniqueSuffix()}`;
    namespaces.push(ns);
    await createNamespace(server, ns);
    const dir = join(root, 'examples', 'host-agent-crashloop');
    const result = await runAnalysis({ dir, clusterName: 'test' });
    const record = result.records.find((r) => r.kubernetes.pod.name === 'default-host-x7k2p' && r.killtrace.restart.count === 6);
    const patch = record?.killtrace.recommendation.patch;
    if (!record || !patch?.strategic_merge_patch || !patch.kustomize) throw new Error('no patch in the record');
    const t = templateOf(join(dir, 'pods.json'), 'default-host-x7k2p');
    const created = await kubeRequest<Obj>(server, `/apis/apps/v1/namespaces/${ns}/daemonsets`, {
      method: 'POST',
      body: { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'default-host' }, spec: { selector: { matchLabels: { app: 'host' } }, template: { metadata: { labels: t.labels }, spec: t.spec } } },
    });
    const before = container(created, 'host');
    expect(before?.startupProbe).toBeUndefined();
    const path = `/apis/apps/v1/namespaces/${ns}/daemonsets/default-host`;
    const patched = await patchAndRead(path, JSON.parse(patch.strategic_merge_patch));
    const host = container(patched, 'host');
    expect(host?.startupProbe).toEqual({ httpGet: { path: '/ping', port: 8885, scheme: 'HTTP' }, periodSeconds: 5, failureThreshold: 60, timeoutSeconds: 1, successThreshold: 1 });
    expect(host?.livenessProbe).toEqual(before?.livenessProbe);
    expect(host?.image).toBe(before?.image);
    // The kustomize file names the object (in the record's namespace); sent to this one it changes nothing more.
    const kustomize = parseYaml(patch.kustomize) as Obj;
    const again = await patchAndRead(path, { ...kustomize, metadata: { name: 'default-host', namespace: ns } });
    expect(container(again, 'host')?.startupProbe).toEqual(host?.startupProbe);
    expect(patch.kubectl).toContain(`kubectl patch daemonset default-host -n onecloud --type strategic -p '${patch.strategic_merge_patch}'`);
  });

  it('raises the budget of the postgres StatefulSet\'s startupProbe, keeping its exec check', async () => {
    const ns = `kt-patch-${uniqueSuffix()}`;
    namespaces.push(ns);
    await createNamespace(server, ns);
    const dir = mkdtempSync(join(tmpdir(), 'killtrace-patch-it-'));
    dirs.push(dir);
    writeScenario(dir, startupProbeKill());
    const result = await runAnalysis({ dir, clusterName: 'test' });
    const record = result.records.find((r) => r.kubernetes.pod.name === 'ledger-0');
    const patch = record?.killtrace.recommendation.patch;
    if (!record || !patch?.strategic_merge_patch) throw new Error('no patch in the record');
    const t = templateOf(join(dir, 'pods.json'), 'ledger-0');
    await kubeRequest(server, `/apis/apps/v1/namespaces/${ns}/statefulsets`, {
      method: 'POST',
      body: { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'ledger' }, spec: { serviceName: 'ledger', selector: { matchLabels: { app: 'ledger' } }, template: { metadata: { labels: { app: 'ledger' } }, spec: t.spec } } },
    });
    const patched = await patchAndRead(`/apis/apps/v1/namespaces/${ns}/statefulsets/ledger`, JSON.parse(patch.strategic_merge_patch));
    const rec = record.killtrace.recommendation.startup_probe;
    expect(container(patched, 'postgres')?.startupProbe).toMatchObject({ exec: { command: ['/bin/sh', '-c', 'pg_isready -h 127.0.0.1 -p 5432'] }, periodSeconds: rec?.period_seconds, failureThreshold: rec?.failure_threshold });
  });
});
