import { describe, expect, it } from 'vitest';
import { heapFlagsGiven, NODE_AGENT_NODE_OPTIONS, planNodeAgentHeap } from '../../services/collector/src/node-agent/v8-heap.js';
import { renderHelm, renderKustomize, renderKustomizeDir, ROOT, toolPath, type KubeObject } from '../deploy/render.js';
import { join } from 'node:path';

toolPath('helm');
toolPath('kustomize');

/** The node agent's NODE_OPTIONS in a rendering's DaemonSet. */
function agentNodeOptions(objects: KubeObject[]): string | undefined {
  const ds = objects.find((o) => o.kind === 'DaemonSet' && o.metadata.name === 'killtrace-node-agent') as unknown as { spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } } } | undefined;
  return ds?.spec.template.spec.containers[0]?.env.find((e) => e.name === 'NODE_OPTIONS')?.value;
}

describe('node agent V8 heap defaults (services/collector/src/node-agent/v8-heap.ts)', () => {
  const base = { enabled: true, execPath: '/usr/bin/node', execArgv: [], argv: ['/usr/bin/node', '/app/bin/killtrace-collector.js', 'node-agent'], env: { PATH: '/bin' }, canExec: true };

  it('restarts with the flags in NODE_OPTIONS (so the new process does not restart again), keeping argv, execArgv and env', () => {
    const plan = planNodeAgentHeap({ ...base, execArgv: ['--enable-source-maps'], env: { PATH: '/bin', NODE_OPTIONS: '--no-warnings' } });
    expect(plan).toEqual({ action: 'exec', file: '/usr/bin/node', args: ['/usr/bin/node', '--enable-source-maps', '/app/bin/killtrace-collector.js', 'node-agent'], env: { PATH: '/bin', NODE_OPTIONS: `--no-warnings ${NODE_AGENT_NODE_OPTIONS}` } });
    if (plan.action !== 'exec') throw new Error('expected exec');
    expect(planNodeAgentHeap({ ...base, env: plan.env })).toEqual({ action: 'keep', reason: 'given' });
  });

  it('leaves a heap size the operator chose alone, on the command line or in NODE_OPTIONS', () => {
    expect(heapFlagsGiven(['--max-old-space-size=200'], undefined)).toBe(true);
    expect(heapFlagsGiven([], '--max_semi_space_size=8')).toBe(true);
    expect(heapFlagsGiven(['--max-http-header-size=1'], '--no-warnings')).toBe(false);
    expect(planNodeAgentHeap({ ...base, env: { NODE_OPTIONS: '--max-old-space-size=512' } })).toEqual({ action: 'keep', reason: 'given' });
  });

  it('does nothing when disabled, and says so when Node cannot re-execute itself', () => {
    expect(planNodeAgentHeap({ ...base, enabled: false })).toEqual({ action: 'keep', reason: 'disabled' });
    expect(planNodeAgentHeap({ ...base, canExec: false })).toEqual({ action: 'keep', reason: 'unsupported' });
  });

  it('is what both DaemonSets (Helm chart, kustomize base and overlays) set in NODE_OPTIONS', () => {
    expect(agentNodeOptions(renderHelm())).toBe(NODE_AGENT_NODE_OPTIONS);
    expect(agentNodeOptions(renderKustomizeDir(join(ROOT, 'deploy/kubernetes/base')))).toBe(NODE_AGENT_NODE_OPTIONS);
    for (const overlay of ['demo', 'production']) expect(agentNodeOptions(renderKustomize(overlay)), overlay).toBe(NODE_AGENT_NODE_OPTIONS);
  });
});
