import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lintWorkload, type WorkloadProbes } from '@killtrace/correlation';
import type { ContainerSpec, ProbeSpec } from '@killtrace/schemas';
import { main } from '../../services/cli/src/main.js';
import { hostAgentCrashloop, shopInventoryMixed, writeScenario } from '../scenarios/catalog.js';
import type { Scenario } from '../scenarios/types.js';

/**
 * The probe linter (issue 13): fed only the first incarnations of the example workloads (the bundle collected
 * before the first kill), it flags them; and the static rules, one by one.
 */

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function stream(sink: string[]): NodeJS.WriteStream {
  return { write: (chunk: string) => sink.push(chunk) > 0, isTTY: false, columns: 100 } as unknown as NodeJS.WriteStream;
}

async function lint(dir: string, ...args: string[]): Promise<{ code: number; stdout: string }> {
  const out: string[] = [];
  const code = await main(['node', 'killtrace', 'lint', dir, ...args], { stdout: stream(out), stderr: stream([]) });
  return { code, stdout: out.join('') };
}

/** The scenario collected after `seconds`: before its first kill, only first incarnations exist. */
function firstIncarnations(make: () => Scenario, seconds: number): string {
  const scenario = { ...make(), durationSeconds: seconds };
  const dir = mkdtempSync(join(tmpdir(), `killtrace-lint-${scenario.name}-`));
  dirs.push(dir);
  const sim = writeScenario(dir, scenario);
  expect(sim.truth.filter((t) => t.cause === 'liveness_probe' || t.cause === 'startup_probe'), 'no probe kill yet').toEqual([]);
  return dir;
}

interface JsonReport {
  findings: Array<{ rule: string; severity: string; workload: string; node_class: string | null; p90_init_seconds: number | null; allowance_seconds: number | null }>;
}

describe('killtrace lint before the first kill', () => {
  it('flags the GPU host agent: low margin on the T4 class, the 8-GPU class not seen initialized, a fixed delay instead of a startupProbe', async () => {
    // The first kill on gpu-node-1 comes ~46 s after the start; at 40 s the other two nodes are up.
    const dir = firstIncarnations(hostAgentCrashloop, 40);
    const { code, stdout } = await lint(dir, '-o', 'json');
    expect(code).toBe(3);
    const report = JSON.parse(stdout) as JsonReport;
    const rules = report.findings.map((f) => `${f.rule}:${f.node_class ?? ''}`).sort();
    expect(rules).toEqual([
      'init-margin-low:instance-type=g4dn.xlarge,gpu.present=true,gpu.product=Tesla-T4,pci-10de.present=true',
      'init-unobserved-class:instance-type=p3dn.24xlarge,gpu.present=true,gpu.product=Tesla-V100-SXM2-32GB,pci-10de.present=true',
      'no-startup-probe-large-delay:',
    ]);
    const margin = report.findings.find((f) => f.rule === 'init-margin-low');
    expect(margin?.allowance_seconds).toBe(45);
    expect(margin?.p90_init_seconds).toBeGreaterThan(22.5);
    expect(margin?.workload).toBe('DaemonSet default-host');
  });

  it('flags the shop example\'s orders Deployment (30 s initialDelaySeconds, no startupProbe), in text', async () => {
    const dir = firstIncarnations(shopInventoryMixed, 3);
    const { code, stdout } = await lint(dir);
    expect(code).toBe(3);
    expect(stdout).toMatch(/shop · Deployment orders · orders\n(?: {2}info .*\n)* {2}warning no-startup-probe-large-delay/);
    expect(stdout).toMatch(/2 workload container\(s\) with probes checked: 0 error\(s\), 1 warning\(s\)/);
  });

  it('exits 1 when nothing in the input is readable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'killtrace-lint-empty-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'notes.txt'), 'not a bundle\n');
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['node', 'killtrace', 'lint', dir], { stdout: stream(out), stderr: stream(err) });
    expect(code).toBe(1);
    expect(err.join('')).toContain('no readable Kubernetes, kubelet or container log file');
  });

  it('reports the kills of the full example as errors on their class', async () => {
    const { code, stdout } = await lint(join(import.meta.dirname, '../../examples/host-agent-crashloop'), '-o', 'json');
    expect(code).toBe(3);
    const killed = (JSON.parse(stdout) as JsonReport).findings.find((f) => f.rule === 'init-killed-on-class');
    expect(killed).toMatchObject({ severity: 'error', node_class: 'instance-type=p3dn.24xlarge,gpu.present=true,gpu.product=Tesla-V100-SXM2-32GB,pci-10de.present=true' });
  });
});

const probe = (p: Partial<ProbeSpec>): ProbeSpec => ({ handler: 'http', periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1, initialDelaySeconds: 0, ...p });
const workload = (spec: Partial<ContainerSpec>, initByClass: Array<[string, number[]]> = [], image = 'ghcr.io/acme/app:1.0'): WorkloadProbes => ({
  workload: 'ns/app/app',
  namespace: 'ns',
  owner: 'Deployment app',
  container: 'app',
  image,
  spec: { name: 'app', init: false, image, ...spec },
  initByClass: new Map(initByClass),
});

describe('lint rules', () => {
  it('stays quiet for a well-sized startupProbe and a process-only liveness check', () => {
    const w = workload({ liveness: probe({ target: 'GET :8080/livez' }), readiness: probe({ target: 'GET :8080/readyz' }), startup: probe({ failureThreshold: 30, target: 'GET :8080/livez' }) }, [['cpu', [20, 25, 30]]]);
    expect(lintWorkload(w)).toEqual([]);
  });

  it('errors when p90 init exceeds the allowance, warns under the margin', () => {
    const over = lintWorkload(workload({ liveness: probe({ initialDelaySeconds: 10 }) }, [['gpu', [50, 60, 70]]]));
    expect(over.map((f) => [f.rule, f.severity, f.allowanceSeconds, f.p90InitSeconds, f.marginSeconds])).toEqual([['init-exceeds-probe-allowance', 'error', 40, 70, -30]]);
    const low = lintWorkload(workload({ liveness: probe({ initialDelaySeconds: 10 }) }, [['gpu', [25]]]), { marginFraction: 0.5 });
    expect(low.map((f) => f.rule)).toEqual(['init-margin-low']);
    expect(lintWorkload(workload({ liveness: probe({ initialDelaySeconds: 10 }) }, [['gpu', [25]]]), { marginFraction: 0.3 })).toEqual([]);
  });

  it('flags liveness identical to readiness, and liveness probing a dependency', () => {
    const same = lintWorkload(workload({ liveness: probe({ target: 'GET :8080/health' }), readiness: probe({ target: 'GET :8080/health' }) }));
    expect(same.map((f) => f.rule)).toEqual(['liveness-equals-readiness']);
    const dep = lintWorkload(workload({ liveness: probe({ target: 'GET :8080/health/ready' }), readiness: probe({ target: 'GET :8080/health/live' }) }));
    expect(dep.map((f) => f.rule)).toEqual(['liveness-checks-dependency']);
  });

  it('flags a 1 s HTTP timeout on a JVM image and a large initialDelaySeconds without a startupProbe', () => {
    const jvm = lintWorkload(workload({ liveness: probe({ target: 'GET :8080/actuator/health/liveness' }) }, [], 'eclipse-temurin:21-jre'));
    expect(jvm.map((f) => f.rule)).toEqual(['http-timeout-1s-jvm']);
    const delay = lintWorkload(workload({ liveness: probe({ initialDelaySeconds: 120 }) }));
    expect(delay.map((f) => f.rule)).toEqual(['no-startup-probe-large-delay']);
  });
});
