import { describe, expect, it } from 'vitest';
import { restartRecordSchema, type KernelOomSignal, type PodSnapshot, type Signal } from '@killtrace/schemas';
import { Correlator } from './correlator.js';

const T0 = Date.parse('2026-12-01T08:00:00Z');
const s = (seconds: number): number => T0 + seconds * 1000;
const UID = '6a1e2c3d-4b5f-4a6b-8c7d-9e0f1a2b3c4d';
const ID = (n: number): string => `${n}`.repeat(64).slice(0, 64);
const POD = { namespace: 'shop', name: 'cache-0', uid: UID };

function log(k: number, at: number, text: string): Signal {
  return { kind: 'app_log', at, pod: POD, container: 'cache', restartCount: k, stream: 'stdout', text };
}

function oom(at: number, extra: Partial<KernelOomSignal> = {}): KernelOomSignal {
  return {
    kind: 'kernel_oom',
    at,
    host: 'node-a',
    podUid: UID,
    containerId: ID(0),
    cgroup: `/kubepods/burstable/pod${UID}/${ID(0)}`,
    limitCgroup: `/kubepods/burstable/pod${UID}/${ID(0)}`,
    constraint: 'CONSTRAINT_MEMCG',
    process: 'redis-server',
    pid: 4242,
    memoryLimitBytes: 256 * 1048576,
    memoryUsageBytes: 256 * 1048576,
    anonRssBytes: 250 * 1048576,
    text: 'Memory cgroup out of memory: Killed process 4242 (redis-server) total-vm:300000kB, anon-rss:256000kB',
    ...extra,
  };
}

function snapshot(overrides: Partial<PodSnapshot> = {}): Signal {
  return {
    kind: 'pod',
    pod: {
      ...POD,
      nodeName: 'node-a',
      labels: {},
      owners: [{ kind: 'StatefulSet', name: 'cache' }],
      containers: [{ name: 'cache', image: 'redis:7', init: false }],
      statuses: [
        {
          name: 'cache',
          restartCount: 1,
          containerId: ID(1),
          ready: true,
          state: { kind: 'running', startedAt: s(125) },
          lastTerminated: { exitCode: 137, reason: 'Error', startedAt: s(0), finishedAt: s(120), containerId: ID(0) },
        },
      ],
      initStatuses: [],
      ...overrides,
    },
  };
}

function analyse(signals: Signal[]): Correlator {
  const c = new Correlator({ clusterName: 'test' });
  for (const signal of signals) c.ingest(signal);
  return c;
}

describe('kernel OOM kills joined on the cgroup path (kernel-oom.ts)', () => {
  it('explains an OOM kill whose pod status is long gone from the logs alone: oom_killed, kernel, high, with process and limit', () => {
    const c = analyse([log(0, s(1), 'Ready to accept connections'), log(0, s(119), 'loading 2M keys'), log(1, s(125), 'Ready to accept connections'), oom(s(120))]);
    const record = c.records().find((r) => r.killtrace.restart.count === 0);
    expect(record).toBeDefined();
    const kt = restartRecordSchema.parse(record).killtrace;
    expect([kt.cause, kt.decided_by, kt.confidence, kt.probe_induced]).toEqual(['oom_killed', 'kernel', 'high', false]);
    expect(kt.oom).toMatchObject({ process: 'redis-server', pid: 4242, memory_limit_bytes: 268435456, anon_rss_bytes: 262144000, constraint: 'CONSTRAINT_MEMCG' });
    expect(kt.killed_at).toBe('2026-12-01T08:02:00.000Z');
    expect(record?.message).toContain('killed by the kernel OOM killer: process redis-server (pid 4242), 250 MiB resident, its memory limit of 256 MiB');
    expect(kt.recommendation.text).toContain('Raise the container');
    expect(kt.timeline.some((e) => e.source === 'kernel_log' && e.text.includes('Killed process 4242'))).toBe(true);
    expect(c.unmatchedKernelOoms()).toEqual([]);
  });

  it("overrides an exit 137 without a kubelet decision when the kill names the status's lastState container id", () => {
    const c = analyse([snapshot(), oom(s(119.8))]);
    const record = c.records().find((r) => r.killtrace.restart.count === 0);
    const kt = restartRecordSchema.parse(record).killtrace;
    expect([kt.cause, kt.decided_by, kt.confidence]).toEqual(['oom_killed', 'kernel', 'high']);
    expect(kt.oom?.matched_by).toBe('container_id');
    expect(kt.exit_code).toBe(137);
  });

  it('keeps a liveness kill the kubelet decided before the OOM kill, and notes the OOM', () => {
    const kill: Signal = {
      kind: 'kubelet',
      at: s(110),
      action: 'kill_decision',
      pod: POD,
      container: 'cache',
      containerId: ID(0),
      probeType: 'liveness',
      output: 'Container cache failed liveness probe, will be restarted',
      text: 'Message for Container of pod',
    };
    const c = analyse([snapshot(), kill, oom(s(119.8))]);
    const kt = c.records().find((r) => r.killtrace.restart.count === 0)?.killtrace;
    expect(kt?.cause).toBe('liveness_probe');
    expect(kt?.oom?.process).toBe('redis-server');
  });

  it('lists kills it cannot tie (unknown pod) and counts kills outside any pod, never inventing a record', () => {
    const other = '99999999-8888-7777-6666-555555555555';
    const c = analyse([oom(s(10), { podUid: other }), oom(s(11), { podUid: undefined, containerId: undefined, cgroup: '/system.slice/rsyslog.service', process: 'rsyslogd' })]);
    expect(c.records()).toEqual([]);
    expect(c.unmatchedKernelOoms()).toEqual([expect.objectContaining({ podUid: other, process: 'redis-server', reason: 'pod_unknown' })]);
    expect(c.kernelOomsOutsidePodCount()).toBe(1);
  });

  it('gives the same records whatever the order of the signals', () => {
    const signals = [snapshot(), log(0, s(1), 'up'), log(1, s(125), 'up'), oom(s(119.8))];
    const forward = analyse(signals).records();
    const backward = analyse([...signals].reverse()).records();
    expect(backward).toEqual(forward);
  });
});

describe('kernel OOM kills in a pod of several containers', () => {
  it('does not pin a kill on a container it cannot name, and lists it instead', () => {
    const app = (container: string, k: number, at: number): Signal => ({ kind: 'app_log', at, pod: POD, container, restartCount: k, stream: 'stdout', text: 'up' });
    const c = analyse([app('cache', 0, s(1)), app('cache', 1, s(125)), app('exporter', 0, s(1)), oom(s(120), { containerId: 'f'.repeat(64) })]);
    expect(c.records().some((r) => r.killtrace.cause === 'oom_killed')).toBe(false);
    expect(c.unmatchedKernelOoms()).toEqual([expect.objectContaining({ reason: 'container_unknown', process: 'redis-server' })]);
  });
});
