import { describe, expect, it } from 'vitest';
import { restartRecordSchema, type KubeletSignal, type PodSnapshot, type Signal } from '@killtrace/schemas';
import { Correlator } from './correlator.js';

const T0 = Date.parse('2026-10-02T06:30:00Z');
const s = (seconds: number): number => T0 + seconds * 1000;
const UID = '11111111-2222-3333-4444-555555555555';
const ID = (n: number): string => `${n}`.repeat(64).slice(0, 64);

function pod(overrides: Partial<PodSnapshot> = {}): Signal {
  return {
    kind: 'pod',
    pod: {
      namespace: 'onecloud',
      name: 'default-host-abcde',
      uid: UID,
      nodeName: 'gpu-node-1',
      labels: { app: 'host', 'app.kubernetes.io/name': 'host' },
      owners: [{ kind: 'DaemonSet', name: 'default-host' }],
      containers: [
        {
          name: 'host',
          image: 'registry.example.com/onecloud/host:v3.11.4',
          init: false,
          liveness: { handler: 'http', periodSeconds: 5, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1, initialDelaySeconds: 30, target: 'GET :8885/ping' },
        },
      ],
      statuses: [
        {
          name: 'host',
          restartCount: 2,
          containerId: ID(2),
          ready: false,
          state: { kind: 'waiting', reason: 'CrashLoopBackOff' },
          lastTerminated: { exitCode: 143, reason: 'Error', startedAt: s(80), finishedAt: s(126), containerId: ID(2) },
        },
      ],
      initStatuses: [],
      ...overrides,
    },
  };
}

function kubelet(at: number, action: KubeletSignal['action'], extra: Partial<KubeletSignal> = {}): Signal {
  return { kind: 'kubelet', at, action, pod: { namespace: 'onecloud', name: 'default-host-abcde', uid: UID }, text: action, ...extra };
}

function log(k: number, at: number, text: string): Signal {
  return { kind: 'app_log', at, pod: { namespace: 'onecloud', name: 'default-host-abcde', uid: UID }, container: 'host', restartCount: k, stream: 'stdout', text };
}

/** Incarnation k started at `start`, probed from start+30, killed at start+40.x, died 0.5 s later. */
function killedIncarnation(k: number, start: number): Signal[] {
  const kill = start + 40.5;
  return [
    kubelet(s(start), 'container_started', { containerId: ID(k) }),
    log(k, s(start + 1), 'Start probe host info'),
    log(k, s(start + 5), 'bind 0000:3b:00.0 (10de:1db6) to vfio-pci'),
    log(k, s(start + 25), 'bind 0000:3c:00.0 (10de:1db6) to vfio-pci'),
    ...[30.5, 35.5, 40.5].map((t) =>
      kubelet(s(start + t), 'probe_failed', { container: 'host', probeType: 'liveness', output: 'Get "http://10.0.0.5:8885/ping": context deadline exceeded' }),
    ),
    kubelet(s(kill), 'kill_decision', { container: 'host', containerId: ID(k), output: 'Container host failed liveness probe, will be restarted' }),
    kubelet(s(kill), 'killing', { container: 'host', containerId: ID(k), gracePeriodSeconds: 30 }),
    log(k, s(kill + 0.1), 'received signal terminated, exiting'),
    kubelet(s(kill + 0.5), 'container_died', { containerId: ID(k) }),
  ];
}

/** Two incarnations killed 40.5 s in; the pod waits in CrashLoopBackOff with restartCount 1 (the dead newest one's). */
function crashLoop(): Signal[] {
  const status = { name: 'host', restartCount: 1, containerId: ID(1), ready: false, state: { kind: 'waiting' as const, reason: 'CrashLoopBackOff' } };
  const lastTerminated = { exitCode: 143, reason: 'Error', startedAt: s(80), finishedAt: s(121), containerId: ID(1) };
  return [pod({ statuses: [{ ...status, lastTerminated }] }), ...killedIncarnation(0, 0), ...killedIncarnation(1, 80)];
}

describe('Correlator', () => {
  it('explains liveness kills during a GPU bind step, numbering incarnations from ids and status', () => {
    const c = new Correlator({ clusterName: 'test' });
    for (const signal of crashLoop()) c.ingest(signal);
    const records = c.records();
    expect(records).toHaveLength(2);
    for (const r of records) expect(() => restartRecordSchema.parse(r)).not.toThrow();
    const [first, second] = records;
    expect(first?.killtrace.restart.count).toBe(0);
    expect(second?.killtrace.restart.count).toBe(1);
    expect(second?.killtrace.restart.count_source).toBe('container_id');
    expect(second?.killtrace.container.kind).toBe('main');
    expect(second?.killtrace.cause).toBe('liveness_probe');
    expect(second?.killtrace.confidence).toBe('high');
    expect(second?.killtrace.probe.failures).toBe(3);
    expect(second?.killtrace.probe.budget_seconds).toBe(15);
    expect(second?.killtrace.init.step).toBe('gpu-vfio-bind');
    expect(second?.killtrace.init.completed_steps).toEqual(['host-info']);
    expect(second?.killtrace.init.step_elapsed_seconds).toBeCloseTo(35.5, 3);
    expect(second?.killtrace.during_init).toBe(true);
    expect(second?.killtrace.exit_code).toBe(143);
    expect(second?.killtrace.log.last_line).toBe('bind 0000:3c:00.0 (10de:1db6) to vfio-pci');
    expect(second?.kubernetes.labels).toStrictEqual({ app: 'host', 'app_kubernetes_io/name': 'host' });
    expect(second?.kubernetes.daemonset?.name).toBe('default-host');
    expect(second?.killtrace.recommendation.startup_probe?.period_seconds).toBe(5);
  });

  it('gives the same records whatever the order of the signals', () => {
    const all = crashLoop();
    const forward = new Correlator({ clusterName: 'test' });
    for (const signal of all) forward.ingest(signal);
    const backward = new Correlator({ clusterName: 'test' });
    for (const signal of [...all].reverse()) backward.ingest(signal);
    expect(backward.records()).toEqual(forward.records());
  });

  it('evicts pods whose newest evidence is older than the cutoff, the same way whatever the order', () => {
    const OTHER = '99999999-2222-3333-4444-555555555555';
    const late = crashLoop();
    const early: Signal[] = [
      { kind: 'app_log', at: s(-7200), pod: { namespace: 'onecloud', name: 'old-pod', uid: OTHER }, container: 'host', restartCount: 0, stream: 'stdout', text: 'hello' },
      { kind: 'kubelet', at: s(-7100), action: 'container_died', pod: { namespace: 'onecloud', name: 'old-pod', uid: OTHER }, text: 'died' },
    ];
    const forward = new Correlator({ clusterName: 'test' });
    for (const signal of [...early, ...late]) forward.ingest(signal);
    const backward = new Correlator({ clusterName: 'test' });
    for (const signal of [...early, ...late].reverse()) backward.ingest(signal);
    expect(forward.stats().pods).toBe(2);
    expect(forward.evictBefore(s(-3600))).toBe(1);
    expect(backward.evictBefore(s(-3600))).toBe(1);
    expect(forward.stats().pods).toBe(1);
    expect(backward.records()).toEqual(forward.records());
    expect(forward.evictBefore(s(-3600))).toBe(0);
    // A redelivered kubelet line of an evicted pod counts again: its dedup key went with the pod.
    forward.ingest(early[1] as Signal);
    expect(forward.stats().pods).toBe(2);
    expect(forward.evictBefore(s(10_000))).toBe(2);
    expect(forward.records()).toEqual([]);
  });
});

describe('Correlator.poll', () => {
  it('emits a provisional record at the kill, the final one once the watermark passes the end plus lateness, and nothing unchanged', () => {
    const c = new Correlator({ clusterName: 'test' });
    const signals = crashLoop();
    // Up to the kill of incarnation 1: no pod status yet, and its death not seen.
    const killAt = s(80 + 40.5);
    for (const signal of signals.filter((x) => x.kind !== 'pod' && (x.kind !== 'kubelet' || x.at <= killAt))) c.ingest(signal);

    const first = c.poll(killAt, 30_000);
    const latest = first.find((u) => u.record.killtrace.restart.count === 1);
    expect(latest?.record.killtrace.status).toBe('provisional');
    expect(latest?.record.killtrace.cause).toBe('liveness_probe');
    expect(latest?.record.killtrace.exit_code).toBeNull();
    expect(latest?.id).toBe(`${UID}:host:1`);

    expect(c.poll(killAt, 30_000)).toEqual([]);

    for (const signal of signals) c.ingest(signal);
    const final = c.poll(killAt + 60_000, 30_000);
    const finalLatest = final.find((u) => u.id === `${UID}:host:1`);
    expect(finalLatest?.record.killtrace.status).toBe('final');
    expect(finalLatest?.record.killtrace.exit_code).toBe(143);
  });
});

describe('Correlator.poll rebuilds only what changed', () => {
  it('sees a log line that arrives after a poll for an incarnation already being followed', () => {
    const c = new Correlator({ clusterName: 'test' });
    for (const signal of crashLoop()) c.ingest(signal);
    c.poll(s(1000), 30_000);
    // A late line of incarnation 1, before its kill: it becomes the last line.
    c.ingest(log(1, s(80 + 39), 'bind 0000:5e:00.0 (10de:1db6) to vfio-pci'));
    const updates = c.poll(s(1000), 30_000);
    expect(updates.map((u) => u.id)).toEqual([`${UID}:host:1`]);
    expect(updates[0]?.record.killtrace.log.last_line).toBe('bind 0000:5e:00.0 (10de:1db6) to vfio-pci');
  });

  it('turns provisional records final when only the watermark moves', () => {
    const c = new Correlator({ clusterName: 'test' });
    for (const signal of crashLoop()) c.ingest(signal);
    const first = c.poll(s(121), 30_000);
    expect(first.find((u) => u.id === `${UID}:host:1`)?.record.killtrace.status).toBe('provisional');
    const later = c.poll(s(200), 30_000);
    expect(later.map((u) => [u.id, u.record.killtrace.status])).toEqual([[`${UID}:host:1`, 'final']]);
  });

  it('rebuilds other pods of a workload when its init history changes', () => {
    const c = new Correlator({ clusterName: 'test' });
    for (const signal of crashLoop()) c.ingest(signal);
    c.poll(s(1000), 30_000);
    const otherUid = '99999999-2222-3333-4444-555555555555';
    c.ingest({
      kind: 'pod',
      pod: { namespace: 'onecloud', name: 'default-host-zzzzz', uid: otherUid, labels: {}, owners: [{ kind: 'DaemonSet', name: 'default-host' }], containers: [], statuses: [], initStatuses: [] },
    });
    const other = { namespace: 'onecloud', name: 'default-host-zzzzz', uid: otherUid };
    c.ingest({ kind: 'app_log', at: s(10), pod: other, container: 'host', restartCount: 0, stream: 'stdout', text: 'Start probe host info' });
    c.ingest({ kind: 'app_log', at: s(250), pod: other, container: 'host', restartCount: 0, stream: 'stdout', text: 'Start host service on :8885' });
    const updates = c.poll(s(1000), 30_000);
    const ids = updates.map((u) => u.id).sort();
    expect(ids).toEqual([`${UID}:host:0`, `${UID}:host:1`]);
    expect(updates[0]?.record.killtrace.init.expected_seconds).toBe(240);
  });
});
