import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORRELATOR_NODE_OPTIONS } from '../../services/correlator/src/v8-heap.js';
import { renderHelm, renderKustomize, renderKustomizeDir, ROOT, toolPath, type KubeObject } from '../deploy/render.js';

toolPath('helm');
toolPath('kustomize');

/** The correlator's NODE_OPTIONS in a rendering's Deployment. */
function correlatorNodeOptions(objects: KubeObject[]): string | undefined {
  const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'killtrace-correlator') as unknown as
    | { spec: { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } } }
    | undefined;
  return deployment?.spec.template.spec.containers[0]?.env?.find((e) => e.name === 'NODE_OPTIONS')?.value;
}

describe('correlator V8 heap bound (services/correlator/src/v8-heap.ts)', () => {
  it('is what the Helm chart and the kustomize base and overlays set in NODE_OPTIONS', () => {
    expect(CORRELATOR_NODE_OPTIONS).toBe('--max-old-space-size=512');
    expect(correlatorNodeOptions(renderHelm())).toBe(CORRELATOR_NODE_OPTIONS);
    expect(correlatorNodeOptions(renderKustomizeDir(join(ROOT, 'deploy/kubernetes/base')))).toBe(CORRELATOR_NODE_OPTIONS);
    for (const overlay of ['demo', 'production']) expect(correlatorNodeOptions(renderKustomize(overlay)), overlay).toBe(CORRELATOR_NODE_OPTIONS);
  });
});
