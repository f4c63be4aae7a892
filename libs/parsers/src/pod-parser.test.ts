import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { podSignalSchema } from '@killtrace/schemas';
import type { PodSignal } from '@killtrace/schemas';
import { describe, expect, it } from 'vitest';
import { parseKubernetesDocument } from './kubernetes-document.js';
import { parsePod, stripContainerIdScheme } from './pod-parser.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/inputs/', import.meta.url));

function loadPod(): PodSignal {
  const doc = parseKubernetesDocument(JSON.parse(readFileSync(`${FIXTURES}bundle-rollover/pods.json`, 'utf8')), { file: 'pods.json', line: 1 });
  expect(doc.diagnostics).toEqual([]);
  expect(doc.signals).toHaveLength(1);
  return doc.signals[0] as PodSignal;
}

describe('parsePod', () => {
  it('reads identity, owners, labels, node, phase, times', () => {
    const { pod, source, resourceVersion } = loadPod();
    expect(pod).toMatchObject({
      namespace: 'payments',
      name: 'ledger-5c9d7f6b8-x4q2m',
      uid: '7b1f0c3e-5a2d-4e8f-9c61-2d4b8a0f3e17',
      nodeName: 'node-a',
      phase: 'Running',
      labels: { app: 'ledger', 'app.kubernetes.io/name': 'ledger' },
      owners: [{ kind: 'ReplicaSet', name: 'ledger-5c9d7f6b8' }],
      startTime: Date.UTC(2026, 11, 31, 23, 58),
      readySince: Date.UTC(2027, 0, 1, 0, 0, 45),
    });
    expect(resourceVersion).toBe('5521');
    expect(source).toEqual({ file: 'pods.json', line: 1 });
  });

  it('applies probe defaults and renders every handler', () => {
    const { pod } = loadPod();
    const byName = Object.fromEntries(pod.containers.map((c) => [c.name, c]));
    expect(pod.containers.map((c) => [c.name, c.init])).toEqual([
      ['migrate', true],
      ['ledger', false],
      ['envoy', false],
    ]);
    expect(byName.migrate?.liveness).toBeUndefined();
    expect(byName.ledger?.startup).toEqual({ handler: 'exec', target: 'exec /bin/ledger health --startup', action: { exec: { command: ['/bin/ledger', 'health', '--startup'] } }, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1, initialDelaySeconds: 0 });
    // The handler as written, for patches that repeat it (issue 13).
    expect(byName.envoy?.liveness?.action).toEqual({ grpc: { port: 9901, service: 'envoy.health' } });
    expect(byName.envoy?.readiness?.action).toEqual({ httpGet: { path: '/ready', port: 'admin' } });
    expect(byName.ledger?.liveness).toMatchObject({ handler: 'http', target: 'GET https 127.0.0.1:8443/healthz', periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3 });
    expect(byName.ledger?.readiness).toMatchObject({ handler: 'tcp', target: 'tcp :7000', initialDelaySeconds: 5, timeoutSeconds: 1 });
    expect(byName.envoy?.liveness).toMatchObject({ handler: 'grpc', target: 'grpc :9901 envoy.health', periodSeconds: 20, timeoutSeconds: 3, failureThreshold: 5 });
    expect(byName.envoy?.readiness).toMatchObject({ handler: 'http', target: 'GET :admin/ready', successThreshold: 2 });
  });

  it('reads container and init container statuses with the last termination', () => {
    const { pod } = loadPod();
    expect(pod.statuses).toHaveLength(2);
    expect(pod.statuses[0]).toEqual({
      name: 'ledger',
      image: 'registry.local/ledger:2.0',
      restartCount: 1,
      ready: true,
      started: true,
      containerId: 'bb22',
      state: { kind: 'running', startedAt: Date.UTC(2027, 0, 1, 0, 0, 32) },
      lastTerminated: { exitCode: 137, reason: 'Error', startedAt: Date.UTC(2026, 11, 31, 23, 58, 21), finishedAt: Date.UTC(2027, 0, 1, 0, 0, 21), containerId: 'aa11' },
    });
    expect(pod.statuses[1]?.containerId).toBe('cc33');
    expect(pod.initStatuses[0]?.state).toMatchObject({ kind: 'terminated', exitCode: 0, reason: 'Completed', containerId: '11aa' });
  });

  it('reports evicted pods, waiting states and deletion', () => {
    const result = parsePod({
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'n', uid: 'u', deletionTimestamp: '2026-01-01T00:00:10Z' },
      spec: { containers: [{ name: 'c', livenessProbe: { httpGet: { port: 80 }, periodSeconds: -3 } }] },
      status: {
        phase: 'Failed',
        reason: 'Evicted',
        message: 'The node was low on resource: memory.',
        containerStatuses: [{ name: 'c', restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } }, { name: 'd', restartCount: 'x', state: {} }],
      },
    });
    expect(result.signal?.pod).toMatchObject({ reason: 'Evicted', phase: 'Failed', deletionTimestamp: Date.UTC(2026, 0, 1, 0, 0, 10) });
    expect(result.signal?.pod.containers[0]?.liveness).toMatchObject({ target: 'GET :80/', periodSeconds: 10 });
    expect(result.signal?.pod.statuses.map((s) => s.state.kind)).toEqual(['waiting', 'unknown']);
    expect(result.diagnostics.map((d) => d.code)).toEqual(['KT_INPUT_BAD_FIELD', 'KT_INPUT_BAD_FIELD']);
    expect(podSignalSchema.safeParse(result.signal).success).toBe(true);
  });

  it('skips pods without name or uid with a diagnostic, never throws', () => {
    for (const bad of [null, 42, 'pod', [], {}, { kind: 'Pod', metadata: { name: 'x' } }, { kind: 'Pod', metadata: 'x' }]) {
      const r = parsePod(bad, { index: 3 });
      expect(r.signal).toBeUndefined();
      expect(r.diagnostics[0]?.code).toBe('KT_INPUT_BAD_ITEM');
    }
  });

  it('strips any container id scheme', () => {
    expect(stripContainerIdScheme('containerd://abc')).toBe('abc');
    expect(stripContainerIdScheme('cri-o://abc')).toBe('abc');
    expect(stripContainerIdScheme('abc')).toBe('abc');
    expect(stripContainerIdScheme('docker://')).toBeUndefined();
  });
});
