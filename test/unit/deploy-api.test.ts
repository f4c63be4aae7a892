import { describe, expect, it } from 'vitest';
import { loadConfig } from '@killtrace/config';
import { objectKey, overlayValuesFile, renderHelm, renderHelmNotes, renderKustomize, type KubeObject } from '../deploy/render.js';

/**
 * The read-only API (services/api) in the install manifests: off unless asked for, on both paths of the production
 * settings (the helm-vs-kustomize equivalence of test/unit/deploy-manifests.test.ts covers its objects), reachable
 * in the pod, tokens from a Secret only, no API token, and a configuration the API itself accepts.
 */

interface ApiContainer {
  name: string;
  env: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom: { configMapRef?: { name: string } }[];
  ports: { name: string; containerPort: number }[];
  readinessProbe: { httpGet: { path: string; port: string } };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface ApiPod {
  automountServiceAccountToken: boolean;
  serviceAccountName: string;
  containers: ApiContainer[];
  volumes: { name: string; secret?: { secretName: string }; configMap?: unknown }[];
}

const find = (objects: KubeObject[], kind: string, name: string): KubeObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind}/${name} in ${objects.map(objectKey).join(', ')}`);
  return found;
};
const podOf = (objects: KubeObject[]): ApiPod => (find(objects, 'Deployment', 'killtrace-api') as unknown as { spec: { template: { spec: ApiPod } } }).spec.template.spec;
const ingressPorts = (objects: KubeObject[]): number[] =>
  (find(objects, 'NetworkPolicy', 'killtrace') as unknown as { spec: { ingress: { ports: { port: number }[] }[] } }).spec.ingress.flatMap((i) => i.ports.map((p) => p.port));

const production = [
  ['helm (ci/production-values.yaml)', () => renderHelm({}, { valueFiles: [overlayValuesFile('production')] })],
  ['kustomize (overlays/production)', () => renderKustomize('production')],
] as const;

describe('read-only API (api.enabled, components/api)', () => {
  it('is not installed unless asked for, and its port stays closed then', () => {
    for (const objects of [renderHelm(), renderKustomize('demo'), renderHelm({}, { valueFiles: [overlayValuesFile('demo')] })]) {
      expect(objects.filter((o) => o.metadata.name === 'killtrace-api').map(objectKey)).toEqual([]);
      expect(ingressPorts(objects)).toEqual([9464]);
    }
  });

  it.each(production)('%s: a Deployment and Service on 9480, tokens from a Secret, Elasticsearch like the correlator, no API token', (_name, render) => {
    const objects = render();
    const pod = podOf(objects);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect((find(objects, 'ServiceAccount', pod.serviceAccountName) as unknown as { automountServiceAccountToken: boolean }).automountServiceAccountToken).toBe(false);
    const [container] = pod.containers;
    if (!container) throw new Error('no container');
    expect(container.ports).toEqual([{ name: 'http', containerPort: 9480 }]);
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    const service = find(objects, 'Service', 'killtrace-api') as unknown as { spec: { ports: { port: number; targetPort: string }[] } };
    expect(service.spec.ports.map((p) => [p.port, p.targetPort])).toEqual([[9480, 'http']]);
    expect(ingressPorts(objects).sort()).toEqual([9464, 9480]);

    // Tokens: a Secret volume, never a ConfigMap or a plain variable.
    const tokensMount = container.volumeMounts.find((m) => m.name === 'tokens');
    expect(tokensMount?.readOnly).toBe(true);
    expect(pod.volumes.find((v) => v.name === 'tokens')).toEqual({ name: 'tokens', secret: { secretName: 'killtrace-api-tokens' } });
    const configMap = (find(objects, 'ConfigMap', 'killtrace-config') as unknown as { data: Record<string, string> }).data;
    expect(Object.keys(configMap).filter((k) => k.startsWith('KILLTRACE_API_TOKENS'))).toEqual([]);
    const correlatorEnv = (find(objects, 'Deployment', 'killtrace-correlator') as unknown as { spec: { template: { spec: ApiPod } } }).spec.template.spec.containers[0]?.env ?? [];
    const esKey = (env: ApiContainer['env']) => env.find((e) => e.name === 'KILLTRACE_ELASTICSEARCH_API_KEY');
    expect(esKey(container.env)).toEqual(esKey(correlatorEnv));
    expect(esKey(container.env)?.valueFrom?.secretKeyRef).toEqual({ name: 'killtrace-elasticsearch', key: 'api-key' });

    // The configuration the API would load in that pod (Secrets' values are not in the manifests: stand-ins).
    const env: Record<string, string> = { ...configMap };
    for (const e of container.env) env[e.name] = e.value ?? 'secret-from-kubernetes';
    // Every CA file the configuration names (it checks they are readable) lies in a volume of the pod.
    for (const key of ['KILLTRACE_KAFKA_TLS_CA_FILE', 'KILLTRACE_ELASTICSEARCH_CA_FILE']) {
      const file = env[key];
      expect(file, key).toBeDefined();
      expect(container.volumeMounts.some((m) => file?.startsWith(`${m.mountPath}/`)), `${key}=${file ?? ''} is mounted`).toBe(true);
      delete env[key]; // not on this machine
    }
    const config = loadConfig({ env }).api; // throws, naming the key, where the API would refuse to start
    expect(config.host).toBe('0.0.0.0');
    expect(config.port).toBe(9480);
    // Kafka's SASL credentials are not mounted into a pod that reads no Kafka, so the mechanism is overridden.
    expect(container.env.some((e) => e.name.startsWith('KILLTRACE_KAFKA_SASL_') && e.valueFrom)).toBe(false);
    expect(config.tokensFile).toBe(`${tokensMount?.mountPath ?? ''}/tokens`);
  });

  it('NOTES.txt tells how to check it, only when installed', () => {
    const notes = renderHelmNotes({}, { valueFiles: [overlayValuesFile('production')], namespace: 'observability' });
    expect(notes).toContain('kubectl -n observability rollout status deployment/killtrace-api');
    expect(notes).toContain('a token of the Secret killtrace-api-tokens');
    expect(renderHelmNotes()).not.toContain('killtrace-api');
  });

  it('refuses an empty tokens Secret name (the API would not start without tokens)', () => {
    expect(() => renderHelm({ api: { enabled: true, tokensSecret: '' } })).toThrow(/api\/tokensSecret/);
  });
});
