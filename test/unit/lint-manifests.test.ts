import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { main } from '../../services/cli/src/main.js';
import { readIfWorkloadManifest, readStdinManifests } from '../../services/cli/src/workload-manifests.js';
import { ROOT, overlayValuesFile, parseManifests, renderHelmText, renderKustomizeText, toolPath } from '../deploy/render.js';

/**
 * `killtrace lint` over workload manifests (issue 12): the install manifests, as `helm template` and
 * `kustomize build` print them, pass its static probe rules; the rules do run on manifests; bad input is named by
 * file and document.
 */

toolPath('helm');
toolPath('kustomize');

const dir = mkdtempSync(join(tmpdir(), 'killtrace-lint-manifests-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function stream(sink: string[]): NodeJS.WriteStream {
  return { write: (chunk: string) => sink.push(chunk) > 0, isTTY: false, columns: 100 } as unknown as NodeJS.WriteStream;
}

async function lint(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'killtrace', 'lint', ...args], { stdout: stream(out), stderr: stream(err) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

interface LintReport {
  checked: { namespace: string; workload: string; container: string; allowance_seconds: number | null }[];
  findings: { rule: string; message: string }[];
}

/** Every container with a liveness or startup probe in the rendered workloads, as lint names them. */
function probedContainers(text: string): string[] {
  const out: string[] = [];
  for (const o of parseManifests(text, 'rendering')) {
    if (!['Deployment', 'DaemonSet', 'StatefulSet', 'Job'].includes(o.kind)) continue;
    const containers = (o as unknown as { spec: { template: { spec: { containers: { name: string; livenessProbe?: unknown; startupProbe?: unknown }[] } } } }).spec.template.spec.containers;
    for (const c of containers) if (c.livenessProbe !== undefined || c.startupProbe !== undefined) out.push(`${o.metadata.namespace ?? 'default'} ${o.kind} ${o.metadata.name} ${c.name}`);
  }
  return out.sort();
}

const renderings: [string, () => string][] = [
  ['helm template (chart defaults)', () => renderHelmText()],
  ['helm template -f ci/demo-values.yaml', () => renderHelmText({}, { valueFiles: [overlayValuesFile('demo')] })],
  ['helm template -f ci/production-values.yaml', () => renderHelmText({}, { valueFiles: [overlayValuesFile('production')] })],
  ['kustomize build overlays/demo', () => renderKustomizeText('demo')],
  ['kustomize build overlays/production', () => renderKustomizeText('production')],
];

describe('killtrace lint over the install manifests', () => {
  it.each(renderings)('%s: every probed container checked, nothing to report, exit 0', async (name, render) => {
    const text = render();
    const file = write(`${name.replace(/[^a-z0-9]+/gi, '-')}.yaml`, text);
    const { code, stdout } = await lint(file, '-o', 'json');
    const report = JSON.parse(stdout) as LintReport;
    expect(report.findings).toEqual([]);
    expect(code).toBe(0);
    const expected = probedContainers(text);
    expect(expected.length).toBeGreaterThanOrEqual(3);
    expect(report.checked.map((c) => `${c.namespace} ${c.workload} ${c.container}`).sort()).toEqual(expected);
    for (const c of report.checked) expect(c.allowance_seconds, c.workload).toBeGreaterThan(0);
    const text2 = await lint(file);
    expect(text2.stdout).toBe(`killtrace lint: ${expected.length} workload container(s) with probes checked, nothing to report.\n`);
  });
});

describe('killtrace lint over workload manifests', () => {
  const deployment = (probes: Record<string, unknown>): Record<string, unknown> => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: 'shop' },
    spec: { selector: { matchLabels: { app: 'api' } }, template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'api', image: 'shop/api:1.2.3', ...probes }] } } },
  });
  const same = { httpGet: { path: '/health', port: 8080 } };

  it('applies the static rules to a pod template (YAML, several documents) and exits 3', async () => {
    const file = write('same.yaml', `# Source: x\n---\napiVersion: v1\nkind: Service\nmetadata: {name: api}\n---\n${stringify(deployment({ livenessProbe: same, readinessProbe: same }))}`);
    const { code, stdout } = await lint(file, '-o', 'json');
    const report = JSON.parse(stdout) as LintReport;
    expect(report.findings.map((f) => f.rule)).toEqual(['liveness-equals-readiness']);
    expect(report.checked).toEqual([{ namespace: 'shop', workload: 'Deployment api', container: 'api', allowance_seconds: 30, init_seconds_by_class: {} }]);
    expect(code).toBe(3);
  });

  it('reads a JSON List and a CronJob\'s job template', async () => {
    const cron = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'report' },
      spec: { schedule: '@daily', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'report', image: 'r:1', livenessProbe: { exec: { command: ['true'] }, initialDelaySeconds: 60 } }] } } } } },
    };
    const file = write('list.json', JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [deployment({ livenessProbe: { httpGet: { path: '/livez', port: 8080 } } }), cron] }));
    const report = JSON.parse((await lint(file, '-o', 'json')).stdout) as LintReport;
    expect(report.checked.map((c) => `${c.namespace} ${c.workload}`)).toEqual(['shop Deployment api', 'default CronJob report']);
    expect(report.findings.map((f) => f.rule)).toEqual(['no-startup-probe-large-delay']);
  });

  it('reads standard input (helm template ... | killtrace lint -)', async () => {
    const workloads = await readStdinManifests(Readable.from([stringify(deployment({ livenessProbe: same }))]));
    expect(workloads.map((w) => [w.owner, w.container, w.spec.liveness?.target])).toEqual([['Deployment api', 'api', 'GET :8080/health']]);
  });

  it('tells bundle evidence from manifests by content: pods naming their DaemonSet or ReplicaSet owners stay evidence', async () => {
    for (const example of ['host-agent-crashloop', 'shop-inventory-mixed']) {
      expect(await readIfWorkloadManifest(join(ROOT, 'examples', example, 'pods.json')), example).toBeUndefined();
      expect(await readIfWorkloadManifest(join(ROOT, 'examples', example, 'events.json')), example).toBeUndefined();
    }
    const yamlPods = write('pods.yaml', stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'a-1' }] } }] }));
    expect(await readIfWorkloadManifest(yamlPods)).toBeUndefined();
    // Both at once: the bundle's pods and a manifest of the same workload are linted side by side.
    const manifest = write('with-bundle.yaml', stringify(deployment({ livenessProbe: same, readinessProbe: same })));
    const report = JSON.parse((await lint(join(ROOT, 'examples', 'shop-inventory-mixed'), manifest, '-o', 'json')).stdout) as LintReport;
    expect(report.checked.map((c) => c.workload)).toContain('Deployment api');
    expect(report.checked.length).toBeGreaterThan(1);
  });

  it('names the file and the document of what it cannot read', async () => {
    const broken = write('broken.yaml', `${stringify(deployment({ livenessProbe: same }))}---\nkind: Deployment\nmetadata: [\n`);
    const a = await lint(broken);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain('[KT_ERR_CLI_MANIFEST_INVALID]');
    expect(a.stderr).toMatch(new RegExp(`${broken.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: document 2 \\(line \\d+\\) is not valid YAML or JSON`));
    const empty = write('empty.yaml', 'apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: ops}\nspec: {template: {spec: {}}}\n');
    expect((await lint(empty)).stderr).toContain(`${empty}: document 1 (line 1): DaemonSet ops/agent has no spec.template.spec.containers`);
    const bad = write('bad-probe.yaml', stringify(deployment({ livenessProbe: { httpGet: { path: '/l', port: 1 }, periodSeconds: 'often' } })));
    expect((await lint(bad)).stderr).toContain(`${bad}: document 1 (line 1): Deployment shop/api container api livenessProbe: periodSeconds "often" is not valid`);
  });
});
