import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHART_DIR, ROOT, lintHelm, objectKey, overlayValuesFile, renderHelm, renderHelmNotes, renderKustomize, renderKustomizeDir, toolPath, type KubeObject } from '../deploy/render.js';
import { valuesSchemaText } from '../deploy/values-schema.js';
import { loadConfig } from '@killtrace/config';
import { parseProfileFile } from '@killtrace/profiles';
import { loadRuleSet } from '../../services/alerter/src/load-rules.js';

/**
 * The install manifests (deploy/helm/killtrace, deploy/kubernetes), rendered by the real Helm and kustomize:
 * both paths give the same objects for the same settings, and every rendering keeps the least-privilege and probe
 * rules of the README's "Install on Kubernetes".
 */

const OVERLAYS = ['demo', 'production'] as const;

// Resolved (and on a fresh machine built, minutes once) while the file is collected, outside any test's timeout.
toolPath('helm');
toolPath('kustomize');

/** Labels only Helm writes (release bookkeeping); everything else must match kustomize's output exactly. */
const HELM_ONLY_LABELS = ['helm.sh/chart', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/instance', 'app.kubernetes.io/version'];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Lists whose members carry a `name` are sets by name in the API (env, volumes, mounts, ports): sort them. */
function normalize(value: Json): Json {
  if (Array.isArray(value)) {
    const items = value.map(normalize);
    const named = items.every((i) => typeof i === 'object' && i !== null && !Array.isArray(i) && typeof i.name === 'string');
    return named && items.length > 0 ? [...items].sort((a, b) => String((a as Record<string, Json>).name).localeCompare(String((b as Record<string, Json>).name))) : items;
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  }
  return value;
}

function comparable(objects: KubeObject[]): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const o of objects) {
    const copy = JSON.parse(JSON.stringify(o)) as KubeObject;
    for (const label of HELM_ONLY_LABELS) delete copy.metadata.labels?.[label];
    out[objectKey(copy)] = normalize(copy as unknown as Json);
  }
  return out;
}

interface Container {
  name: string;
  image: string;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[]; add?: string[] }; privileged?: boolean; runAsUser?: number };
  startupProbe?: { httpGet?: { path: string } };
  livenessProbe?: { httpGet?: { path: string }; periodSeconds?: number; failureThreshold?: number };
  readinessProbe?: { httpGet?: { path: string } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  hostNetwork?: boolean;
  hostPID?: boolean;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string }; supplementalGroups?: number[] };
  containers: Container[];
  initContainers?: Container[];
  tolerations?: { operator?: string; key?: string; effect?: string }[];
  volumes?: { name: string; hostPath?: { path: string; type?: string } }[];
}

const WORKLOAD_KINDS = new Set(['Deployment', 'DaemonSet', 'StatefulSet', 'Job', 'CronJob', 'Pod']);

function podSpec(o: KubeObject): PodSpec {
  const spec = (o as unknown as { spec: { template: { spec: PodSpec } } }).spec;
  return spec.template.spec;
}

function workloads(objects: KubeObject[]): KubeObject[] {
  return objects.filter((o) => WORKLOAD_KINDS.has(o.kind));
}

function find(objects: KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name} in the rendering (has: ${objects.map(objectKey).join(', ')})`);
  return found;
}

const renderings: { name: string; objects: () => KubeObject[] }[] = [
  { name: 'helm (chart defaults)', objects: () => renderHelm() },
  ...OVERLAYS.flatMap((overlay) => [
    { name: `helm (ci/${overlay}-values.yaml)`, objects: () => renderHelm({}, { valueFiles: [overlayValuesFile(overlay)] }) },
    { name: `kustomize (overlays/${overlay})`, objects: () => renderKustomize(overlay) },
  ]),
];

describe('Helm chart and kustomize overlays render the same objects', () => {
  for (const overlay of OVERLAYS) {
    it(`helm -f ci/${overlay}-values.yaml equals kustomize build overlays/${overlay}`, () => {
      const helm = comparable(renderHelm({}, { valueFiles: [overlayValuesFile(overlay)] }));
      const kustomize = comparable(renderKustomize(overlay));
      expect(Object.keys(helm).sort()).toEqual(Object.keys(kustomize).sort());
      for (const key of Object.keys(kustomize)) expect({ key, object: helm[key] }).toEqual({ key, object: kustomize[key] });
    });
  }
});

describe('another namespace', () => {
  it('moves every namespaced object and the bindings\' ServiceAccount subjects, on both paths', () => {
    const dir = mkdtempSync(join(tmpdir(), 'killtrace-kustomize-'));
    try {
      // What a user does: copy the manifests, change the namespace in the overlay's namespace.yaml.
      cpSync(join(ROOT, 'deploy/kubernetes'), join(dir, 'kubernetes'), { recursive: true });
      const transformer = join(dir, 'kubernetes/overlays/demo/namespace.yaml');
      writeFileSync(transformer, readFileSync(transformer, 'utf8').replace('  namespace: killtrace\n', '  namespace: monitoring\n'));
      const kustomize = renderKustomizeDir(join(dir, 'kubernetes/overlays/demo'));
      const helm = renderHelm({}, { namespace: 'monitoring', valueFiles: [overlayValuesFile('demo')] });
      const text = JSON.stringify(kustomize);
      expect(text).not.toMatch(/"namespace":"killtrace"/);
      for (const binding of kustomize.filter((o) => o.kind.endsWith('Binding'))) {
        expect((binding as unknown as { subjects: { namespace: string }[] }).subjects[0]?.namespace, binding.metadata.name).toBe('monitoring');
      }
      expect(comparable(helm)).toEqual(comparable(kustomize));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(renderings)('policy: $name', ({ objects: render }) => {
  const objects = render();

  it('has the components, one ServiceAccount each, Services, PodDisruptionBudgets and a NetworkPolicy', () => {
    const keys = objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    for (const component of ['cluster-watcher', 'node-agent', 'correlator']) {
      expect(keys).toContain(`ServiceAccount/killtrace-${component}`);
      expect(keys).toContain(`Service/killtrace-${component}`);
    }
    expect(keys).toContain('DaemonSet/killtrace-node-agent');
    expect(keys).toContain('Deployment/killtrace-cluster-watcher');
    expect(keys).toContain('Deployment/killtrace-correlator');
    expect(keys).toContain('PodDisruptionBudget/killtrace-cluster-watcher');
    expect(keys).toContain('PodDisruptionBudget/killtrace-correlator');
    expect(keys).toContain('NetworkPolicy/killtrace');
    for (const w of workloads(objects)) expect(podSpec(w).serviceAccountName).toBe(w.metadata.name);
    const watcher = find(objects, 'Deployment', 'killtrace-cluster-watcher');
    expect((watcher as unknown as { spec: { replicas: number } }).spec.replicas).toBe(2);
    // Two replicas publish once only because one holds the Lease (clusterWatcher.leaderElection).
    const env = (podSpec(watcher).containers[0] as unknown as { env: { name: string; value?: string }[] }).env;
    expect(env.find((e) => e.name === 'KILLTRACE_CLUSTER_WATCHER_LEADER_ELECTION')?.value).toBe('true');
  });

  it('pins every image to a release tag (no latest, no untagged image)', () => {
    for (const w of workloads(objects)) {
      for (const c of [...podSpec(w).containers, ...(podSpec(w).initContainers ?? [])]) {
        const tag = /:([^/:@]+)$/.exec(c.image)?.[1];
        expect(tag, `${w.metadata.name}/${c.name} image ${c.image}`).toMatch(/^\d+\.\d+\.\d+/);
      }
    }
  });

  it('sets requests (cpu, memory) and limits (cpu, memory) on every container', () => {
    for (const w of workloads(objects)) {
      for (const c of podSpec(w).containers) {
        expect(Object.keys(c.resources?.requests ?? {}).sort(), `${w.metadata.name}/${c.name} requests`).toEqual(['cpu', 'memory']);
        expect(Object.keys(c.resources?.limits ?? {}).sort(), `${w.metadata.name}/${c.name} limits`).toEqual(['cpu', 'memory']);
      }
    }
  });

  it('runs every container non-root, read-only, without privilege escalation, capabilities or a host namespace', () => {
    for (const w of workloads(objects)) {
      const spec = podSpec(w);
      expect(spec.securityContext?.runAsNonRoot, w.metadata.name).toBe(true);
      expect(spec.securityContext?.runAsUser, w.metadata.name).toBeGreaterThan(0);
      expect(spec.securityContext?.seccompProfile?.type, w.metadata.name).toBe('RuntimeDefault');
      expect(spec.hostNetwork ?? false).toBe(false);
      expect(spec.hostPID ?? false).toBe(false);
      for (const c of spec.containers) {
        expect(c.securityContext, `${w.metadata.name}/${c.name}`).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      }
    }
  });

  it('gives an API token to the cluster watcher alone', () => {
    for (const sa of objects.filter((o) => o.kind === 'ServiceAccount')) {
      const automount = (sa as unknown as { automountServiceAccountToken?: boolean }).automountServiceAccountToken;
      expect(automount, sa.metadata.name).toBe(sa.metadata.name === 'killtrace-cluster-watcher');
    }
    for (const w of workloads(objects)) expect(podSpec(w).automountServiceAccountToken, w.metadata.name).toBe(w.metadata.name === 'killtrace-cluster-watcher');
  });

  it('grants exactly get/list/watch on pods, events and nodes cluster-wide, and the watcher\'s own Lease', () => {
    const rbac = objects.filter((o) => ['ClusterRole', 'Role', 'ClusterRoleBinding', 'RoleBinding'].includes(o.kind));
    expect(rbac.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ClusterRole/killtrace-cluster-watcher',
      'ClusterRoleBinding/killtrace-cluster-watcher',
      'Role/killtrace-cluster-watcher-leader-election',
      'RoleBinding/killtrace-cluster-watcher-leader-election',
    ]);
    expect((find(objects, 'ClusterRole', 'killtrace-cluster-watcher') as unknown as { rules: unknown }).rules).toEqual([
      { apiGroups: [''], resources: ['pods', 'events'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
    ]);
    // create cannot be limited by resourceNames (the authorizer sees no name on a create), hence two rules.
    expect((find(objects, 'Role', 'killtrace-cluster-watcher-leader-election') as unknown as { rules: unknown }).rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['killtrace-cluster-watcher'], verbs: ['get', 'update'] },
    ]);
    for (const binding of rbac.filter((o) => o.kind.endsWith('Binding'))) {
      expect((binding as unknown as { subjects: unknown }).subjects, binding.metadata.name).toEqual([{ kind: 'ServiceAccount', name: 'killtrace-cluster-watcher', namespace: 'killtrace' }]);
    }
  });

  it('gives every container a startup, a liveness (/healthz) and a readiness (/readyz) probe, startup no shorter than liveness', () => {
    for (const w of workloads(objects)) {
      for (const c of podSpec(w).containers) {
        const where = `${w.metadata.name}/${c.name}`;
        expect(c.startupProbe?.httpGet?.path, where).toBe('/healthz');
        expect(c.livenessProbe?.httpGet?.path, where).toBe('/healthz');
        expect(c.readinessProbe?.httpGet?.path, where).toBe('/readyz');
        const startup = c.startupProbe as { periodSeconds: number; failureThreshold: number };
        const liveness = c.livenessProbe as { periodSeconds: number; failureThreshold: number };
        expect(startup.periodSeconds * startup.failureThreshold, where).toBeGreaterThanOrEqual(liveness.periodSeconds * liveness.failureThreshold);
      }
    }
    const correlator = podSpec(find(objects, 'Deployment', 'killtrace-correlator')).containers[0]?.startupProbe as { periodSeconds: number; failureThreshold: number };
    // The correlator's state rebuild replays its state window before it serves: minutes, not seconds.
    expect(correlator.periodSeconds * correlator.failureThreshold).toBeGreaterThanOrEqual(600);
  });

  it('mounts host paths in the node agent only, read-only except its checkpoints, on every node', () => {
    for (const w of workloads(objects)) {
      const spec = podSpec(w);
      const hostPaths = (spec.volumes ?? []).filter((v) => v.hostPath !== undefined);
      if (w.metadata.name !== 'killtrace-node-agent') {
        expect(hostPaths, w.metadata.name).toEqual([]);
        continue;
      }
      expect(hostPaths.map((v) => v.hostPath?.path).sort()).toEqual(['/etc/machine-id', '/var/lib/killtrace/node-agent', '/var/log/journal', '/var/log/pods']);
      const mounts = spec.containers[0]?.volumeMounts ?? [];
      for (const v of hostPaths) {
        const mount = mounts.find((m) => m.name === v.name);
        expect(mount?.readOnly ?? false, v.name).toBe(v.name !== 'checkpoints');
      }
      expect(spec.tolerations).toEqual([{ operator: 'Exists' }]);
      expect(spec.securityContext?.supplementalGroups).toEqual([4]);
    }
  });
});

describe('chart values', () => {
  it('passes helm lint --strict with the defaults and with every overlay\'s values', () => {
    for (const file of [undefined, ...OVERLAYS.map(overlayValuesFile)]) expect(lintHelm(file)).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('values.schema.json is generated from the configuration schema and current (npm run deploy:schema)', () => {
    expect(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')).toBe(valuesSchemaText());
  });

  it('rejects what the services would reject, naming the value', () => {
    expect(() => renderHelm({ kafka: { brokers: ['kafka.example'] } })).toThrow(/kafka\/brokers\/0|kafka\.brokers/);
    expect(() => renderHelm({ kafka: { sasl: { mechanism: 'kerberos' } } })).toThrow(/mechanism/);
    expect(() => renderHelm({ clusterName: '' })).toThrow(/clusterName/);
    expect(() => renderHelm({ clusterWatcher: { replica: 3 } })).toThrow(/replica/);
  });

  it('NOTES.txt tells how to check the install: pods ready, the Lease holder, a record for a restart made on purpose', () => {
    const notes = renderHelmNotes({}, { valueFiles: [overlayValuesFile('production')], namespace: 'observability' });
    expect(notes).toContain('kubectl -n observability get pods -l app.kubernetes.io/name=killtrace');
    expect(notes).toContain('kubectl -n observability get lease killtrace-cluster-watcher');
    expect(notes).toContain("curl -s 'https://elasticsearch-es-http.elastic-system.svc:9200/killtrace-restarts/_search?q=kubernetes.pod.name:killtrace-check'");
    expect(notes).toContain('Secret killtrace-kafka-sasl');
    expect(renderHelmNotes()).not.toContain('SASL');
    expect(notes).toContain('kubectl -n observability rollout status statefulset/killtrace-alerter');
    expect(notes).toContain('from the Secret killtrace-alerter');
    expect(renderHelmNotes()).not.toContain('alerter');
  });

  it('refuses a latest or empty image tag', () => {
    expect(() => renderHelm({ images: { collector: { repository: 'ghcr.io/killtrace/collector', tag: 'latest' } } })).toThrow(/tag/);
  });

  it('watches the configured namespaces and passes SASL credentials from the Secret only when SASL is on', () => {
    const objects = renderHelm({ clusterWatcher: { namespaces: ['shop', 'payments'] } });
    const config = find(objects, 'ConfigMap', 'killtrace-config') as unknown as { data: Record<string, string> };
    expect(config.data.KILLTRACE_CLUSTER_WATCHER_NAMESPACES).toBe('shop,payments');
    const plain = JSON.stringify(find(objects, 'Deployment', 'killtrace-correlator'));
    expect(plain).not.toContain('KILLTRACE_KAFKA_SASL_PASSWORD');
    const sasl = renderHelm({ kafka: { sasl: { mechanism: 'scram-sha-256', secret: 'my-kafka-user' } } });
    for (const w of workloads(sasl)) {
      const env = (podSpec(w).containers[0] as unknown as { env: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[] }).env;
      expect(env.find((e) => e.name === 'KILLTRACE_KAFKA_SASL_PASSWORD')?.valueFrom?.secretKeyRef, w.metadata.name).toEqual({ name: 'my-kafka-user', key: 'password' });
    }
  });
});

describe('step profiles (correlator.profiles)', () => {
  interface Mounted { env: { name: string; value?: string }[]; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }
  /** What the correlator would load: the files the env var names, read from the ConfigMap its volume mounts. */
  function mountedProfiles(objects: KubeObject[]): { paths: string[]; files: Record<string, string> } {
    const spec = podSpec(find(objects, 'Deployment', 'killtrace-correlator'));
    const container = spec.containers[0] as unknown as Mounted;
    const mount = container.volumeMounts.find((m) => m.name === 'profiles');
    expect(mount?.readOnly).toBe(true);
    const volume = (spec.volumes as unknown as { name: string; configMap?: { name: string } }[]).find((v) => v.name === 'profiles');
    expect(volume?.configMap?.name).toBe('killtrace-correlator-profiles');
    const data = (find(objects, 'ConfigMap', 'killtrace-correlator-profiles') as unknown as { data: Record<string, string> }).data;
    const env = container.env.find((e) => e.name === 'KILLTRACE_CORRELATION_PROFILES')?.value ?? '';
    const config = loadConfig({ env: { KILLTRACE_CLUSTER_NAME: 't', KILLTRACE_CORRELATION_PROFILES: env } });
    const files: Record<string, string> = {};
    for (const path of config.correlation.profiles) {
      expect(path.startsWith(`${mount?.mountPath ?? '?'}/`), path).toBe(true);
      const key = path.slice((mount?.mountPath ?? '').length + 1);
      expect(Object.keys(data), path).toContain(key);
      files[key] = data[key] ?? '';
    }
    expect(Object.keys(files).sort()).toEqual(Object.keys(data).sort());
    return { paths: config.correlation.profiles, files };
  }

  it('mounts each profile read-only and names every one in KILLTRACE_CORRELATION_PROFILES, in name order', () => {
    const objects = renderHelm({ correlator: { profiles: { 'b-api.yaml': 'profiles:\n  - name: api\n    ready: listening\n', 'a-web.json': '{"profiles": [{"name": "web"}]}' } } });
    const { paths, files } = mountedProfiles(objects);
    expect(paths).toEqual(['/etc/killtrace/profiles/a-web.json', '/etc/killtrace/profiles/b-api.yaml']);
    expect(parseProfileFile(files['b-api.yaml'] ?? '', 'b-api.yaml').map((p) => p.name)).toEqual(['api']);
  });

  it('the demo ships a valid profile on both paths; without profiles there is no ConfigMap, volume or setting', () => {
    for (const objects of [renderKustomize('demo'), renderHelm({}, { valueFiles: [overlayValuesFile('demo')] })]) {
      const { files } = mountedProfiles(objects);
      expect(parseProfileFile(files['shop-inventory.yaml'] ?? '', 'shop-inventory.yaml').map((p) => [p.name, p.steps.map((s) => s.name)])).toEqual([['shop-inventory', ['warm-cache']]]);
    }
    for (const objects of [renderHelm(), renderKustomize('production')]) {
      expect(objects.some((o) => o.metadata.name === 'killtrace-correlator-profiles')).toBe(false);
      expect(JSON.stringify(find(objects, 'Deployment', 'killtrace-correlator'))).not.toContain('PROFILES');
    }
  });

  it('rejects a file name that cannot be a ConfigMap key or would split the path list', () => {
    expect(() => renderHelm({ correlator: { profiles: { 'a,b.yaml': 'profiles: []' } } })).toThrow(/'a,b\.yaml' does not match pattern/);
    expect(() => renderHelm({ correlator: { profiles: { 'ok.yaml': '' } } })).toThrow(/correlator\/profiles\/ok\.yaml/);
  });
});

describe('alerter (alerter.enabled, components/alerter)', () => {
  interface AlerterContainer {
    env: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
    envFrom: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
    volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
  }
  const production = [
    ['helm (ci/production-values.yaml)', () => renderHelm({}, { valueFiles: [overlayValuesFile('production')] })],
    ['kustomize (overlays/production)', () => renderKustomize('production')],
  ] as const;

  it('is not installed unless asked for', () => {
    for (const objects of [renderHelm(), renderKustomize('demo'), renderHelm({}, { valueFiles: [overlayValuesFile('demo')] })]) {
      expect(objects.filter((o) => o.metadata.name.startsWith('killtrace-alerter')).map(objectKey)).toEqual([]);
    }
  });

  it.each(production)('%s: one replica with a state volume, its rules and receivers\' secrets, no API token', async (_name, render) => {
    const objects = render();
    const set = find(objects, 'StatefulSet', 'killtrace-alerter') as unknown as {
      spec: { replicas: number; serviceName: string; volumeClaimTemplates: { metadata: { name: string }; spec: { accessModes: string[] } }[]; template: { spec: PodSpec & { securityContext: { fsGroup?: number } } } };
    };
    expect(set.spec.replicas).toBe(1);
    expect((find(objects, 'Service', set.spec.serviceName) as unknown as { spec: { clusterIP: string } }).spec.clusterIP).toBe('None');
    expect(set.spec.volumeClaimTemplates.map((t) => [t.metadata.name, t.spec.accessModes])).toEqual([['state', ['ReadWriteOnce']]]);
    const pod = set.spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect((find(objects, 'ServiceAccount', 'killtrace-alerter') as unknown as { automountServiceAccountToken: boolean }).automountServiceAccountToken).toBe(false);
    expect(pod.securityContext.fsGroup).toBe(1000);
    const container = pod.containers[0] as unknown as AlerterContainer;
    const env = Object.fromEntries(container.env.map((e) => [e.name, e.value ?? e.valueFrom?.secretKeyRef]));
    expect(container.envFrom).toEqual([{ configMapRef: { name: 'killtrace-config' } }, { secretRef: { name: 'killtrace-alerter' } }]);
    expect(env.KILLTRACE_KAFKA_SASL_PASSWORD).toEqual({ name: 'killtrace-kafka-sasl', key: 'password' });
    const mounts = Object.fromEntries(container.volumeMounts.map((m) => [m.name, m]));
    expect(mounts.state?.mountPath).toBe(env.KILLTRACE_ALERTER_STATE_DIR);
    expect(mounts.state?.readOnly ?? false).toBe(false);
    expect(mounts.rules?.readOnly).toBe(true);
    expect(`${mounts.rules?.mountPath ?? ''}/rules.yaml`).toBe(env.KILLTRACE_ALERTER_RULES_FILE);
    // The rules the alerter would load: the mounted file, with the Alertmanager URL, through its own loader.
    const rules = (find(objects, 'ConfigMap', 'killtrace-alerter-rules') as unknown as { data: Record<string, string> }).data['rules.yaml'] ?? '';
    const dir = mkdtempSync(join(tmpdir(), 'killtrace-alerter-rules-'));
    try {
      writeFileSync(join(dir, 'rules.yaml'), rules);
      const ruleSet = await loadRuleSet({ rulesFile: join(dir, 'rules.yaml'), alertmanagerUrl: String(env.KILLTRACE_ALERTER_ALERTMANAGER_URL) } as Parameters<typeof loadRuleSet>[0]);
      expect(ruleSet.receivers.map((r) => r.name).sort()).toEqual(['alertmanager', 'slack']);
      expect(ruleSet.rules.find((r) => r.name === 'probe-kill-during-init')?.receivers.sort()).toEqual(['alertmanager', 'slack']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('renders only the settings given, and rejects what the alerter would reject', () => {
    const objects = renderHelm({ alerter: { enabled: true, alertmanagerUrl: 'http://am.monitoring:9093' } });
    const container = podSpec(find(objects, 'StatefulSet', 'killtrace-alerter')).containers[0] as unknown as AlerterContainer;
    expect(container.env.map((e) => e.name).sort()).toEqual(['KILLTRACE_ALERTER_ALERTMANAGER_URL', 'KILLTRACE_ALERTER_STATE_DIR']);
    expect(container.envFrom).toEqual([{ configMapRef: { name: 'killtrace-config' } }]);
    expect(container.volumeMounts.map((m) => m.name)).toEqual(['state']);
    expect(objects.some((o) => o.metadata.name === 'killtrace-alerter-rules')).toBe(false);
    expect(() => renderHelm({ alerter: { enabled: true, alertmanagerUrl: 'alertmanager:9093' } })).toThrow(/alerter\/alertmanagerUrl/);
    expect(() => renderHelm({ alerter: { enabled: true, storage: { size: 'big' } } })).toThrow(/alerter\/storage\/size/);
  });
});
