import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBundle } from '@killtrace/bundle';
import { Correlator } from '@killtrace/correlation';
import { parseKubernetesDocument } from '@killtrace/parsers';
import { mergeProfiles } from '@killtrace/profiles';
import { renderRecommendations } from '@killtrace/render';
import { restartRecordSchema, type Signal } from '@killtrace/schemas';
import { runAnalysis } from '../../services/cli/src/run-analysis.js';
import { hostAgentCrashloop, hostAgentIncarnation, hostPod, writeScenario } from '../scenarios/catalog.js';

/**
 * Node classes (issue 13): Node objects from `kubectl get nodes -o json` are recognised by content, and the GPU host
 * agent example's recommendation is per class (8 x V100, 1 x T4, CPU only), sized by the slowest.
 */

const EXAMPLE = join(import.meta.dirname, '../../examples/host-agent-crashloop');
const V100 = 'instance-type=p3dn.24xlarge,gpu.present=true,gpu.product=Tesla-V100-SXM2-32GB,pci-10de.present=true';
const T4 = 'instance-type=g4dn.xlarge,gpu.present=true,gpu.product=Tesla-T4,pci-10de.present=true';
const CPU = 'instance-type=m6a.8xlarge';

describe('Node objects', () => {
  it('become node signals with their labels, from a List or a NodeList', () => {
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'gpu-node-1', labels: { 'nvidia.com/gpu.present': 'true' } } };
    for (const doc of [{ kind: 'List', items: [node] }, { kind: 'NodeList', items: [node] }, node]) {
      const out = parseKubernetesDocument(doc, { file: 'nodes.json' });
      expect(out.signals).toEqual([{ kind: 'node', node: { name: 'gpu-node-1', labels: { 'nvidia.com/gpu.present': 'true' } }, source: { file: 'nodes.json' } }]);
      expect(out.diagnostics.filter((d) => d.severity !== 'info')).toEqual([]);
    }
  });

  it('without a name are reported with their item index, the rest still read', () => {
    const out = parseKubernetesDocument({ kind: 'NodeList', items: [{ kind: 'Node', metadata: {} }, { kind: 'Node', metadata: { name: 'n2' } }] }, { file: 'nodes.json' });
    expect(out.signals.map((s) => (s.kind === 'node' ? s.node.name : s.kind))).toEqual(['n2']);
    expect(out.diagnostics.map((d) => d.message)).toEqual(['a Node object (item 0) has no metadata.name; skipped']);
  });
});

describe('per node class recommendation in the GPU host agent example', () => {
  it('lists every class the DaemonSet runs on and sizes the startupProbe by the slowest (the 8-GPU nodes)', async () => {
    const result = await runAnalysis({ dir: EXAMPLE, clusterName: 'test' });
    expect(result.bundle.stats.signals.node).toBe(3);
    const kills = result.records.filter((r) => r.kubernetes.pod.name === 'default-host-x7k2p');
    expect(kills).toHaveLength(7);
    for (const r of kills) {
      expect(() => restartRecordSchema.parse(r)).not.toThrow();
      expect(r.killtrace.init.node_class).toBe(V100);
      const perClass = r.killtrace.recommendation.per_class ?? [];
      expect(perClass.map((c) => c.node_class).sort()).toEqual([CPU, T4, V100].sort());
      const byClass = new Map(perClass.map((c) => [c.node_class, c]));
      // CPU nodes finish init in ~12.7 s, the T4 node in ~24.4 s: their own budgets are small.
      expect(byClass.get(CPU)).toMatchObject({ completed: 1, killed_in_init: 0, budget_seconds: 30, kills_observed: 0 });
      expect(byClass.get(T4)).toMatchObject({ completed: 1, killed_in_init: 0, budget_seconds: 40, kills_observed: 0 });
      expect(byClass.get(V100)).toMatchObject({ completed: 0, killed_in_init: 7, budget_seconds: 300, kills_observed: 7, kills_avoided: 7 });
      // The probe takes the slowest class's budget: 60 x 5 s.
      expect(r.killtrace.recommendation.startup_probe).toEqual({ period_seconds: 5, failure_threshold: 60 });
      expect(r.killtrace.recommendation.basis).toContain(`sized by the slowest (${V100})`);
      expect(r.killtrace.recommendation.basis).toContain(`${CPU}: 1 finished init, longest 12.7 s`);
    }
  });

  it('shows one line per class in the text summary, the same without the built-in profile (learned init durations)', async () => {
    for (const builtinProfiles of [true, false]) {
      const result = await runAnalysis({ dir: EXAMPLE, clusterName: 'test', builtinProfiles });
      const text = renderRecommendations(result.records, { color: false, width: 100 });
      expect(text).toContain('Per node class (the startupProbe takes the slowest; kills of every pod of the workload):');
      expect(text).toContain(`      ${V100}: 7 killed during init (after up to 44.3 s), needs 5 min; 7 of 7 probe kill(s) avoided`);
      expect(text).toContain(`      ${T4}: 1 finished init (longest 24.4 s), needs 40 s; no probe kill`);
      expect(text).toContain(`      ${CPU}: 1 finished init (longest 12.7 s), needs 30 s; no probe kill`);
    }
  });

  it('without Node objects gives one recommendation for the workload, as before', async () => {
    const result = await runAnalysis({ pods: [join(EXAMPLE, 'pods.json')], events: [join(EXAMPLE, 'events.json')], logs: [join(EXAMPLE, 'pods')], kubelet: [join(EXAMPLE, 'kubelet-gpu-node-1.log')], clusterName: 'test' });
    const r = result.records.find((x) => x.kubernetes.pod.name === 'default-host-x7k2p' && x.killtrace.restart.count === 6);
    expect(r?.killtrace.init.node_class).toBeNull();
    expect(r?.killtrace.recommendation.per_class).toBeNull();
    expect(r?.killtrace.recommendation.startup_probe).toEqual({ period_seconds: 5, failure_threshold: 60 });
  });
});

describe('the what-if per node class across the workload', () => {
  it('counts the kills of every pod of the DaemonSet on its own class, and gives every pod the same advice', async () => {
    // The example plus a fourth node, a g4dn.12xlarge with 4 x T4 (~72 s of binding): killed in init there too.
    const scenario = hostAgentCrashloop();
    scenario.pods.push(hostPod('gpu-node-3', 'q2w8r', '10.0.0.8', hostAgentIncarnation({ gpus: 4, gpuId: '10de:1eb8', perGpu: [18, 18, 18, 18] })));
    scenario.nodes = [...(scenario.nodes ?? []), { name: 'gpu-node-3', uid: '8a3b4f5d-0e6c-4b1d-8f94-5c7e1a2b3d44', labels: { 'node.kubernetes.io/instance-type': 'g4dn.12xlarge', 'nvidia.com/gpu.present': 'true', 'nvidia.com/gpu.product': 'Tesla-T4', 'feature.node.kubernetes.io/pci-10de.present': 'true' } }];
    const T4X4 = 'instance-type=g4dn.12xlarge,gpu.present=true,gpu.product=Tesla-T4,pci-10de.present=true';
    const dir = mkdtempSync(join(tmpdir(), 'killtrace-workload-kills-'));
    try {
      writeScenario(dir, scenario);
      const result = await runAnalysis({ dir, clusterName: 'test' });
      const kills = result.records.filter((r) => r.killtrace.probe_induced && r.killtrace.during_init);
      const onV100 = kills.filter((r) => r.kubernetes.pod.name === 'default-host-x7k2p');
      const onT4x4 = kills.filter((r) => r.kubernetes.pod.name === 'default-host-q2w8r');
      expect(onV100).toHaveLength(7);
      expect(onT4x4.length).toBeGreaterThanOrEqual(3);
      for (const r of [...onV100, ...onT4x4]) {
        expect(() => restartRecordSchema.parse(r)).not.toThrow();
        const rec = r.killtrace.recommendation;
        const byClass = new Map((rec.per_class ?? []).map((c) => [c.node_class, c]));
        expect([...byClass.keys()].sort()).toEqual([CPU, T4, T4X4, V100].sort());
        expect(byClass.get(V100)).toMatchObject({ killed_in_init: 7, kills_observed: 7, kills_avoided: 7 });
        expect(byClass.get(T4X4)).toMatchObject({ killed_in_init: onT4x4.length, kills_observed: onT4x4.length, kills_avoided: onT4x4.length });
        expect(byClass.get(CPU)).toMatchObject({ kills_observed: 0, kills_avoided: 0 });
        expect(rec.what_if).toMatchObject({ kills_observed: 7 + onT4x4.length, kills_avoided: 7 + onT4x4.length });
        expect(rec.what_if?.text).toContain('observed for this workload (2 pod(s))');
        expect(rec.what_if?.text).toContain(`${T4X4}: ${onT4x4.length} of ${onT4x4.length} avoided`);
        expect(rec.startup_probe).toEqual({ period_seconds: 5, failure_threshold: 60 });
      }
      // The streaming correlator's poll gives the same workload-wide counts as the batch records.
      const streaming = new Correlator({ clusterName: 'test', profiles: mergeProfiles([]) });
      await readBundle({ paths: [dir], onSignal: (signal) => streaming.ingest(signal) });
      const polled = new Map(streaming.poll(Number.MAX_SAFE_INTEGER, 0).map((u) => [`${u.record.kubernetes.pod.name}/${u.record.killtrace.restart.count}`, u.record]));
      for (const r of [...onV100, ...onT4x4]) expect(polled.get(`${r.kubernetes.pod.name}/${r.killtrace.restart.count}`)?.killtrace.recommendation).toEqual(r.killtrace.recommendation);

      // Incrementally: the 4 x T4 pod's evidence arrives after a first poll; the V100 pod's records, whose own
      // evidence did not change, are re-emitted with the workload's new counts.
      const signals: Signal[] = [];
      await readBundle({ paths: [dir], onSignal: (signal) => void signals.push(signal) });
      const late = (signal: Signal): boolean => JSON.stringify(signal).includes('q2w8r');
      const incremental = new Correlator({ clusterName: 'test', profiles: mergeProfiles([]) });
      for (const signal of signals.filter((x) => !late(x))) incremental.ingest(signal);
      const first = incremental.poll(Number.MAX_SAFE_INTEGER, 0).filter((u) => u.record.kubernetes.pod.name === 'default-host-x7k2p');
      expect(first).toHaveLength(7);
      expect(first[0]?.record.killtrace.recommendation.what_if?.kills_observed).toBe(7);
      for (const signal of signals.filter(late)) incremental.ingest(signal);
      const second = incremental.poll(Number.MAX_SAFE_INTEGER, 0).filter((u) => u.record.kubernetes.pod.name === 'default-host-x7k2p');
      expect(second).toHaveLength(7);
      for (const u of second) expect(u.record.killtrace.recommendation).toEqual(onV100.find((r) => r.killtrace.restart.count === u.record.killtrace.restart.count)?.killtrace.recommendation);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
