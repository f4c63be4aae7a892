import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { criLines, renderBundle } from './bundle.js';
import { CATALOG, hostAgentCrashloop, livenessKillDuringInit, readinessOnly, startupProbeKill, writeScenario } from './catalog.js';
import { COMBINED_PREFIX, EventRecorder, type EventEmission } from './event-recorder.js';
import { parseIso, rfc3339Nano, rng } from './format.js';
import { simulate } from './simulator.js';
import type { Scenario } from './types.js';

const S = 1_000_000;
const T0 = parseIso('2026-10-02T06:30:00Z');

function emission(at: number, message: string, reason = 'Unhealthy'): EventEmission {
  return {
    at,
    source: { component: 'kubelet', host: 'worker-1' },
    involved: { apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: 'p', uid: 'u-1', fieldPath: 'spec.containers{c}' },
    type: 'Warning',
    reason,
    message,
  };
}

interface PodJson {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  status: {
    reason?: string;
    phase: string;
    containerStatuses: Array<{
      name: string;
      restartCount: number;
      state: { waiting?: { reason: string; message: string }; running?: unknown; terminated?: { exitCode: number } };
      lastState: { terminated?: { exitCode: number; reason: string; finishedAt: string; containerID: string } };
    }>;
  };
}

describe('event recorder', () => {
  it('aggregates identical events into one object with count and second-precision lastTimestamp', () => {
    const r = new EventRecorder(rng(1));
    for (let i = 0; i < 5; i++) r.record(emission(T0 + i * 10 * S + 123_456, 'Liveness probe failed: boom'));
    expect(r.stored).toHaveLength(1);
    const ev = r.stored[0]!;
    expect(ev.count).toBe(5);
    expect(ev.firstAt).toBe(T0 + 123_456);
    expect(ev.lastAt).toBe(T0 + 40 * S + 123_456);
  });

  it('combines after 10 distinct messages with the same reason within 10 minutes, and resets after a quiet gap', () => {
    const r = new EventRecorder(rng(2));
    const ems = Array.from({ length: 12 }, (_, i) => emission(T0 + i * S, `Liveness probe failed: error ${i}`));
    for (const e of ems) r.record(e);
    const combined = r.stored.filter((e) => e.message.startsWith(COMBINED_PREFIX));
    expect(r.stored.filter((e) => !e.message.startsWith(COMBINED_PREFIX))).toHaveLength(9);
    expect(combined).toHaveLength(1);
    expect(combined[0]!.count).toBe(3);
    expect(combined[0]!.message).toBe(`${COMBINED_PREFIX}Liveness probe failed: error 11`);
    const late = emission(T0 + 700 * S, 'Liveness probe failed: error 99');
    r.record(late);
    expect(late.object?.message).toBe('Liveness probe failed: error 99');
  });

  it('drops events beyond a burst of 25 per source+object, then allows one per 300 s', () => {
    const r = new EventRecorder(rng(3));
    const ems = Array.from({ length: 40 }, (_, i) => emission(T0 + i * S, `msg ${i % 5}`, `Reason${i % 5}`));
    for (const e of ems) r.record(e);
    expect(ems.filter((e) => e.written)).toHaveLength(25);
    const sooner = emission(T0 + 200 * S, 'msg 1', 'Reason1');
    r.record(sooner);
    expect(sooner.written).toBe(false);
    const later = emission(T0 + 340 * S, 'msg 1', 'Reason1');
    r.record(later);
    expect(later.written).toBe(true);
    // The dropped occurrences still count (client-go updates its cache before the spam filter).
    expect(later.object?.count).toBe(10);
  });
});

describe('simulator', () => {
  const sim = simulate(hostAgentCrashloop());
  const kills = sim.truth.filter((t) => t.pod === 'default-host-x7k2p');

  it('kills the 8-GPU host agent by liveness probe in gpu-vfio-bind on every incarnation', () => {
    expect(kills.length).toBeGreaterThanOrEqual(6);
    for (const k of kills) {
      expect(k.cause).toBe('liveness_probe');
      expect(k.step).toBe('gpu-vfio-bind');
      expect(k.completedSteps).toEqual(['host-info']);
      expect(k.duringInit).toBe(true);
      expect(k.exitCode).toBe(143);
      expect(k.probeFailures).toBe(3);
      expect(k.lastLogLine).toMatch(/received signal terminated, exiting$/);
      expect(k.lastFailureMessage).toBe('Get "http://10.0.0.5:8885/ping": context deadline exceeded (Client.Timeout exceeded while awaiting headers)');
      const started = Date.parse(k.startedAt);
      const first = Date.parse(k.firstFailureAt!);
      const killed = Date.parse(k.killedAt!);
      // No probe before initialDelaySeconds; the kill follows the 3rd failure, 2 periods after the first.
      expect(first - started).toBeGreaterThanOrEqual(30_000);
      expect(killed - first).toBeGreaterThanOrEqual(10_000);
      expect(killed - first).toBeLessThan(10_100);
    }
    expect(sim.truth.filter((t) => t.pod !== 'default-host-x7k2p')).toEqual([]);
  });

  it('follows the crash-loop back-off schedule 10, 20, 40, ... capped at 300 s', () => {
    const expected = [10, 20, 40, 80, 160, 300, 300, 300];
    for (let i = 1; i < kills.length; i++) {
      const gap = (Date.parse(kills[i]!.startedAt) - Date.parse(kills[i - 1]!.finishedAt)) / 1000;
      expect(gap).toBeGreaterThanOrEqual(expected[i - 1]!);
      expect(gap).toBeLessThan(expected[i - 1]! + 1.1);
    }
  });

  it('resets the back-off after 10 minutes of running', () => {
    const scenario: Scenario = {
      name: 'backoff-reset',
      start: '2026-10-02T06:30:00Z',
      durationSeconds: 1500,
      pods: [
        {
          namespace: 'ns',
          name: 'p',
          node: 'n1',
          containers: [{ name: 'c', image: 'img:1', incarnations: [{ end: { kind: 'exit', at: 5, exitCode: 1 }, repeat: 3 }, { end: { kind: 'exit', at: 700, exitCode: 1 } }, { end: { kind: 'exit', at: 5, exitCode: 1 } }] }],
        },
      ],
    };
    const t = simulate(scenario).truth;
    const gaps = t.slice(1).map((x, i) => Math.floor((Date.parse(x.startedAt) - Date.parse(t[i]!.finishedAt)) / 1000));
    expect(gaps.slice(0, 4)).toEqual([10, 20, 40, 10]);
  });

  it('waits in CrashLoopBackOff with restartCount N and lastState = N\'s own termination (convertToAPIContainerStatuses)', () => {
    const pods = sim.pods as unknown as PodJson[];
    const pod = pods.find((p) => p.metadata.name === 'default-host-x7k2p')!;
    const cs = pod.status.containerStatuses[0]!;
    const last = kills[kills.length - 1]!;
    expect(cs.restartCount).toBe(last.restartCount);
    expect(cs.restartCount).toBe(kills.length - 1);
    expect(cs.state.waiting?.reason).toBe('CrashLoopBackOff');
    expect(cs.state.waiting?.message).toMatch(/^back-off 5m0s restarting failed container=host pod=default-host-x7k2p_onecloud\(/);
    expect(cs.lastState.terminated?.exitCode).toBe(143);
    expect(cs.lastState.terminated?.finishedAt).toBe(`${last.finishedAt.slice(0, 19)}Z`);
    expect(cs.lastState.terminated?.containerID).toBe(`containerd://${last.containerId}`);
    for (const other of pods.filter((p) => p !== pod)) {
      expect(other.status.containerStatuses[0]!.restartCount).toBe(0);
      expect(other.status.containerStatuses[0]!.state.running).toBeDefined();
    }
  });

  it('keeps only the current and previous incarnation logs', () => {
    const files = renderBundle(sim).map((f) => f.path).filter((p) => p.includes('default-host-x7k2p'));
    const n = kills.length;
    expect(files.sort()).toEqual([`${n - 2}.log`, `${n - 1}.log`].map((f) => expect.stringMatching(new RegExp(`/host/${f.replace('.', '\\.')}$`))));
    expect(kills.filter((k) => k.evidence.logFile).map((k) => k.restartCount)).toEqual([n - 2, n - 1]);
  });

  it('loses later Killing events to the rate limit while the journal keeps every kill decision', () => {
    expect(kills.some((k) => !k.evidence.killEvent)).toBe(true);
    expect(kills.every((k) => k.evidence.kubeletKill)).toBe(true);
    const journal = sim.journals.get('gpu-node-1') ?? [];
    expect(journal.filter((e) => e.msg === 'Message for Container of pod')).toHaveLength(kills.length);
  });

  it('is deterministic', () => {
    const a = renderBundle(simulate(hostAgentCrashloop()));
    const b = renderBundle(simulate(hostAgentCrashloop()));
    expect(a.map((f) => [f.path, f.content.toString()])).toEqual(b.map((f) => [f.path, f.content.toString()]));
  });

  it('does not run liveness before the startup probe succeeds and kills on the startup probe', () => {
    const s = simulate(startupProbeKill());
    const [t] = s.truth;
    expect(t?.cause).toBe('startup_probe');
    expect(t?.probeFailures).toBe(6);
    const journal = [...s.journals.values()].flat();
    expect(journal.some((e) => e.kv.some(([k, v]) => k === 'probeType' && v === 'Liveness'))).toBe(false);
  });

  it('never blames readiness failures', () => {
    const s = simulate(readinessOnly());
    expect(s.truth.length).toBeGreaterThan(0);
    for (const t of s.truth) {
      expect(t.cause).toBe('app_exit');
      expect(t.probeType).toBeNull();
    }
    expect(s.events.some((e) => e.message.startsWith('Readiness probe failed: HTTP probe failed with statuscode: 503'))).toBe(true);
  });

  it('writes CRI lines with trimmed nanoseconds and splits long lines into P chunks', () => {
    expect(rfc3339Nano(T0 + 150_400, 871)).toBe('2026-10-02T06:30:00.150400871Z');
    expect(rfc3339Nano(T0 + 150_000, 0)).toBe('2026-10-02T06:30:00.15Z');
    expect(rfc3339Nano(T0, 0)).toBe('2026-10-02T06:30:00Z');
    const out = criLines({ at: T0, ns: 5, stream: 'stderr', text: 'a'.repeat(25) }, 10).trimEnd().split('\n');
    expect(out.map((l) => l.split(' ')[2])).toEqual(['P', 'P', 'F']);
    expect(out.map((l) => l.split(' ').slice(3).join(' ')).join('')).toBe('a'.repeat(25));
    const files = renderBundle(simulate(livenessKillDuringInit()));
    const log = files.find((f) => f.path.endsWith('/0.log'))!.content.toString();
    for (const line of log.trimEnd().split('\n')) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z (stdout|stderr) [PF] /);
    expect(log).toMatch(/ stderr P \{"level":"warn"/);
  });

  it('drops events older than the TTL at collection time', () => {
    const s = simulate({ ...hostAgentCrashloop(), durationSeconds: 5000, bundle: { eventTtlSeconds: 600 } });
    for (const e of s.events) expect(s.endUs - e.lastAt).toBeLessThanOrEqual(600 * S);
  });

  it('matches every catalog expectation and writes a bundle', () => {
    for (const [name, make] of Object.entries(CATALOG)) {
      const scenario = make();
      const s = simulate(scenario);
      for (const e of scenario.expect ?? []) {
        const t = s.truth.find((x) => x.pod === e.pod && x.container === e.container && x.restartCount === e.restartCount);
        expect(t, `${name} ${e.pod}/${e.container}#${e.restartCount}`).toBeDefined();
        expect(t?.expectedCause, name).toBe(e.cause);
        expect(t?.expectedConfidence, name).toBe(e.confidence);
        if (e.step !== undefined && t?.evidence.logFile) expect(t.step, name).toBe(e.step);
      }
    }
    const dir = mkdtempSync(join(tmpdir(), 'kt-scenario-'));
    try {
      writeScenario(dir, CATALOG['oom-killed']!());
      const podDir = readdirSync(join(dir, 'pods'))[0]!;
      const names = readdirSync(join(dir, 'pods', podDir, 'inventory')).sort();
      expect(names.some((n) => /^0\.log\.\d{8}-\d{6}\.gz$/.test(n))).toBe(true);
      expect(names).toContain('1.log');
      const events = JSON.parse(readFileSync(join(dir, 'events.json'), 'utf8')) as { kind: string; items: unknown[] };
      expect(events.kind).toBe('List');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('marks evictions on the pod and keeps the termination in state', () => {
    const s = simulate(CATALOG.evicted!());
    const pod = (s.pods as unknown as PodJson[])[0]!;
    expect(pod.status.reason).toBe('Evicted');
    expect(pod.status.phase).toBe('Failed');
    expect(pod.status.containerStatuses[0]!.state.terminated?.exitCode).toBe(143);
    expect(s.events.some((e) => e.reason === 'Killing' && e.message === 'Stopping container builder')).toBe(true);
  });
});
