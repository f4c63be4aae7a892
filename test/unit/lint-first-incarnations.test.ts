import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../services/cli/src/main.js';

/**
 * `killtrace lint` before the first kill (issue 13), on the committed example bundles cut to what a collection
 * just before their first termination would hold: only first incarnations (`0.log`), journal lines, Events and
 * log lines up to the cut, and pod statuses as they were then (restartCount 0, running, no lastState). With the
 * built-in profiles and with none (learned init durations alone, the first day in an unprofiled cluster).
 */

const EXAMPLES = join(import.meta.dirname, '../../examples');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function stream(sink: string[]): NodeJS.WriteStream {
  return { write: (chunk: string) => sink.push(chunk) > 0, isTTY: false, columns: 100 } as unknown as NodeJS.WriteStream;
}

async function lint(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'killtrace', 'lint', ...args], { stdout: stream(out), stderr: stream(err) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The time of a `journalctl -o short-precise` line (`Oct 02 06:30:00.149846 node kubelet[..]: ...`), in `year`. */
function journalTime(line: string, year: number): number | undefined {
  const m = /^([A-Z][a-z]{2}) (\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)/.exec(line);
  if (!m) return undefined;
  const month = String(MONTHS.indexOf(m[1] as string) + 1).padStart(2, '0');
  return Date.parse(`${year}-${month}-${m[2]}T${(m[3] as string).slice(0, 12)}Z`);
}

interface PodItem {
  status: { startTime?: string; conditions?: Array<Record<string, unknown>>; containerStatuses?: Array<Record<string, unknown>> };
}

/** A copy of `bundle` as collected at `cutAt`, before any container had restarted. */
function cutToFirstIncarnations(bundle: string, cutAt: number): string {
  const out = mkdtempSync(join(tmpdir(), 'killtrace-lint-cut-'));
  dirs.push(out);
  const year = new Date(cutAt).getUTCFullYear();
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? walk(join(dir, name)) : [join(dir, name)]));
  for (const file of walk(bundle)) {
    const rel = relative(bundle, file);
    const target = join(out, rel);
    mkdirSync(join(target, '..'), { recursive: true });
    if (rel === 'README.md') continue;
    if (rel.startsWith('pods/')) {
      // Only the first incarnation's file, its lines up to the cut (CRI lines start with an RFC 3339 time).
      if (!rel.endsWith('/0.log')) continue;
      const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '' && Date.parse(l.slice(0, l.indexOf(' '))) <= cutAt);
      writeFileSync(target, lines.map((l) => `${l}\n`).join(''));
    } else if (rel.endsWith('.log')) {
      const lines = readFileSync(file, 'utf8').split('\n').filter((l) => (journalTime(l, year) ?? Number.POSITIVE_INFINITY) <= cutAt);
      writeFileSync(target, lines.map((l) => `${l}\n`).join(''));
    } else if (rel === 'events.json') {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as { items: Array<Record<string, unknown>> };
      const first = (e: Record<string, unknown>): number => Date.parse(String(e.firstTimestamp ?? e.eventTime ?? (e.metadata as Record<string, unknown>).creationTimestamp));
      // An aggregated Event that went on after the cut had, at the cut, at least its first occurrence.
      const asAtCut = (e: Record<string, unknown>): Record<string, unknown> => (e.lastTimestamp && Date.parse(String(e.lastTimestamp)) > cutAt ? { ...e, lastTimestamp: e.firstTimestamp, count: 1 } : e);
      writeFileSync(target, JSON.stringify({ ...doc, items: doc.items.filter((e) => first(e) <= cutAt).map(asAtCut) }));
    } else if (rel === 'pods.json') {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as { items: PodItem[] };
      for (const pod of doc.items) {
        const started = pod.status.startTime;
        pod.status.containerStatuses = (pod.status.containerStatuses ?? []).map((s) => ({ ...s, restartCount: 0, lastState: {}, state: { running: { startedAt: started } }, ready: true, started: true }));
        pod.status.conditions = (pod.status.conditions ?? []).map((c) => (c.type === 'Ready' || c.type === 'ContainersReady' ? { type: c.type, status: 'True', lastProbeTime: null, lastTransitionTime: started } : c));
      }
      writeFileSync(target, JSON.stringify(doc));
    } else cpSync(file, target);
  }
  return out;
}

/** One second before the example's first termination (its ground truth, examples/truth). */
function beforeFirstTermination(name: string): number {
  const truth = JSON.parse(readFileSync(join(EXAMPLES, 'truth', `${name}.json`), 'utf8')) as Array<{ killedAt: string | null; finishedAt: string }>;
  return Math.min(...truth.map((t) => Date.parse(t.killedAt ?? t.finishedAt))) - 1000;
}

interface JsonReport {
  checked: Array<{ workload: string; container: string; init_seconds_by_class: Record<string, number[]> }>;
  findings: Array<{ rule: string; severity: string; workload: string; node_class: string | null; p90_init_seconds: number | null; allowance_seconds: number | null }>;
}

const T4 = 'instance-type=g4dn.xlarge,gpu.present=true,gpu.product=Tesla-T4,pci-10de.present=true';
const V100 = 'instance-type=p3dn.24xlarge,gpu.present=true,gpu.product=Tesla-V100-SXM2-32GB,pci-10de.present=true';
const CPU = 'instance-type=m6a.8xlarge';

describe('killtrace lint on the examples cut to their first incarnations', () => {
  const host = (): string => cutToFirstIncarnations(join(EXAMPLES, 'host-agent-crashloop'), beforeFirstTermination('host-agent-crashloop'));

  it('flags the GPU host agent before its first kill with the built-in profile: margin per node class', async () => {
      const dir = host();
      const { code, stdout } = await lint(dir, '-o', 'json');
      expect(code).toBe(3);
      const report = JSON.parse(stdout) as JsonReport;
      const rules = report.findings.map((f) => `${f.rule}:${f.node_class ?? ''}`).sort();
      // The T4 node's ~24.4 s init leaves under half of the 45 s the liveness probe allows; the 8-GPU node has not
      // finished init yet (its first incarnation is still binding GPUs); a 30 s initialDelaySeconds, no startupProbe.
      expect(rules).toEqual([`init-margin-low:${T4}`, `init-unobserved-class:${V100}`, 'no-startup-probe-large-delay:']);
      const byClass = report.checked.find((c) => c.workload === 'DaemonSet default-host' && c.container === 'host')?.init_seconds_by_class ?? {};
      expect(byClass[T4]?.[0]).toBeCloseTo(24.4, 1);
      expect(byClass[CPU]?.[0]).toBeCloseTo(12.7, 1);
      expect(byClass[V100]).toEqual([]);
      expect(report.findings.find((f) => f.rule === 'init-margin-low')).toMatchObject({ allowance_seconds: 45, workload: 'DaemonSet default-host' });
  });

  it('flags the GPU host agent before its first kill with no profile, and says init cannot be measured yet', async () => {
    // No readiness or startupProbe, and 45 s after the start no pod has run well past what its liveness probe
    // allows (45 s, doubled): nothing proves any init finished, so no margin; the static rule still applies.
    const { code, stdout } = await lint(host(), '-o', 'json', '--no-builtin-profiles');
    expect(code).toBe(3);
    const report = JSON.parse(stdout) as JsonReport;
    expect(report.findings.map((f) => `${f.rule}:${f.severity}`).sort()).toEqual(['init-unobserved:info', 'no-startup-probe-large-delay:warning']);
  });

  it('measures the margin without a profile once the healthy pods ran well past the liveness allowance (first incarnations only)', async () => {
    // Collected later: the crashing pod's later incarnations are dropped (first incarnations only), the CPU and
    // T4 pods are still in theirs, long past 2 x 45 s: their init ended with their last init line.
    const dir = cutToFirstIncarnations(join(EXAMPLES, 'host-agent-crashloop'), beforeFirstTermination('host-agent-crashloop') + 75_000);
    const { code, stdout } = await lint(dir, '-o', 'json', '--no-builtin-profiles');
    expect(code).toBe(3);
    const report = JSON.parse(stdout) as JsonReport;
    const byClass = report.checked.find((c) => c.workload === 'DaemonSet default-host' && c.container === 'host')?.init_seconds_by_class ?? {};
    expect(byClass[T4]?.[0]).toBeCloseTo(24.4, 1);
    expect(byClass[CPU]?.[0]).toBeCloseTo(12.7, 1);
    expect(report.findings.map((f) => `${f.rule}:${f.node_class ?? ''}`)).toContain(`init-margin-low:${T4}`);
  });

  it('ends the learned init at the last init line when the heartbeat was seen once (collected 101 s in)', async () => {
    // Both healthy pods have run past twice their liveness allowance: ready by that bound. Each has logged its first
    // `sync host status` heartbeat once: the CPU pod's (42.7 s) inside its window, the T4 pod's (54.4 s) after its
    // bound, which shows the template is the service at work (learned-steps.ts afterReady).
    const dir = cutToFirstIncarnations(join(EXAMPLES, 'host-agent-crashloop'), beforeFirstTermination('host-agent-crashloop') + 56_400);
    const { stdout } = await lint(dir, '-o', 'json', '--no-builtin-profiles');
    const report = JSON.parse(stdout) as JsonReport;
    const byClass = report.checked.find((c) => c.workload === 'DaemonSet default-host' && c.container === 'host')?.init_seconds_by_class ?? {};
    expect(byClass[CPU]?.[0]).toBeCloseTo(12.7, 1);
    expect(byClass[T4]?.[0]).toBeCloseTo(24.4, 1);
  });

  it('flags the shop example\'s orders Deployment before its first restart, with no profile', async () => {
    const dir = cutToFirstIncarnations(join(EXAMPLES, 'shop-inventory-mixed'), beforeFirstTermination('shop-inventory-mixed'));
    const { code, stdout } = await lint(dir, '--no-builtin-profiles');
    expect(code).toBe(3);
    expect(stdout).toMatch(/shop · Deployment orders · orders\n(?: {2}info .*\n)* {2}warning no-startup-probe-large-delay/);
  });
});
