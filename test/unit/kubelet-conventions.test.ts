import { describe, expect, it } from 'vitest';
import { Correlator, readStatus } from '@killtrace/correlation';
import { KubeletJournalParser, parseEvent, parsePod } from '@killtrace/parsers';
import type { ContainerStatus, RestartRecord, Signal } from '@killtrace/schemas';

/**
 * The kubelet (and client-go) conventions the correlation core relies on, one case each, named after the function
 * or behaviour of kubernetes/kubernetes they come from. Inputs are written in the real formats (pod JSON, klog
 * journal lines, core/v1 Events) and go through the real parsers, so a case fails when either the reading or the
 * interpretation drifts from the kubelet.
 */

const NS = 'shop';
const POD = 'api-7f9c8d6b5-x2x9z';
const UID = '0b7e2c41-9a3d-4f5e-8c21-6d4f3a2b1c0e';
const id = (n: number): string => `${n}${'a'.repeat(63)}`;
const T = (s: number): string => new Date(Date.UTC(2026, 9, 2, 6, 30, 0) + s * 1000).toISOString().replace('.000Z', 'Z');

function podJson(status: Record<string, unknown>, extra: { initContainers?: unknown[]; initContainerStatuses?: unknown[]; containers?: unknown[] } = {}): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: POD, namespace: NS, uid: UID },
    spec: {
      containers: extra.containers ?? [{ name: 'api', image: 'ghcr.io/acme/api:1', livenessProbe: { httpGet: { path: '/livez', port: 8080 }, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 1 } }],
      ...(extra.initContainers ? { initContainers: extra.initContainers } : {}),
      nodeName: 'worker-1',
    },
    status: { phase: 'Running', startTime: T(-5), containerStatuses: [{ name: 'api', image: 'ghcr.io/acme/api:1', ...status }], ...(extra.initContainerStatuses ? { initContainerStatuses: extra.initContainerStatuses } : {}) },
  };
}

const terminated = (n: number, exitCode: number, start: number, end: number, reason = 'Error'): Record<string, unknown> => ({
  terminated: { exitCode, reason, startedAt: T(start), finishedAt: T(end), containerID: `containerd://${id(n)}` },
});

function statusOf(pod: unknown): ContainerStatus {
  const signal = parsePod(pod).signal;
  const status = signal?.pod.statuses[0];
  if (!status) throw new Error('pod did not parse');
  return status;
}

/** Klog lines (journalctl -o short-precise) about the pod, through the real journal parser. */
function journal(lines: Array<[number, string]>): Signal[] {
  const parser = new KubeletJournalParser({ referenceYear: 2026 });
  const out: Signal[] = [];
  lines.forEach(([s, body], i) => {
    const d = new Date(Date.UTC(2026, 9, 2, 6, 30, 0) + s * 1000);
    const hh = d.toISOString().slice(11, 19);
    const us = String(d.getUTCMilliseconds() * 1000).padStart(6, '0');
    out.push(...parser.push(`Oct 02 ${hh}.${us} worker-1 kubelet[1234]: I1002 ${hh}.${us}    1234 ${body}`, i + 1));
  });
  out.push(...parser.end());
  return out;
}

const pleg = (type: 'ContainerStarted' | 'ContainerDied', n: number): string =>
  `kubelet.go:2453] "SyncLoop (PLEG): event for pod" pod="${NS}/${POD}" event={"ID":"${UID}","Type":"${type}","Data":"${id(n)}"}`;
const killMessage = (container: string, n: number, message: string): string =>
  `kuberuntime_manager.go:1058] "Message for Container of pod" containerName="${container}" containerStatusID={"Type":"containerd","ID":"${id(n)}"} pod="${NS}/${POD}" containerMessage="${message}"`;
const killing = (container: string, n: number, grace: number): string =>
  `kuberuntime_container.go:809] "Killing container with a grace period" pod="${NS}/${POD}" podUID="${UID}" containerName="${container}" containerID="containerd://${id(n)}" gracePeriod=${grace}`;
const backOff = (container: string, delay: string): string =>
  `pod_workers.go:1301] "Error syncing pod, skipping" err="failed to \\"StartContainer\\" for \\"${container}\\" with CrashLoopBackOff: \\"back-off ${delay} restarting failed container=${container} pod=${POD}_${NS}(${UID})\\"" pod="${NS}/${POD}" podUID="${UID}"`;

function event(reason: string, message: string, count: number, first: number, last: number, fieldPath = 'spec.containers{api}'): Signal {
  const signal = parseEvent({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${POD}.${reason}`, namespace: NS, uid: `ev-${reason}-${message.length}` },
    involvedObject: { kind: 'Pod', namespace: NS, name: POD, uid: UID, apiVersion: 'v1', fieldPath },
    reason,
    message,
    source: { component: 'kubelet', host: 'worker-1' },
    firstTimestamp: T(first),
    lastTimestamp: T(last),
    count,
    type: reason === 'Killing' ? 'Normal' : 'Warning',
  }).signal;
  if (!signal) throw new Error('event did not parse');
  return signal;
}

/** The records, checked to be the same whatever the order of the signals (decision 0002). */
function analyse(signals: Signal[]): RestartRecord[] {
  const forward = new Correlator({ clusterName: 'test' });
  for (const s of signals) forward.ingest(s);
  const backward = new Correlator({ clusterName: 'test' });
  for (const s of [...signals].reverse()) backward.ingest(s);
  const records = forward.records();
  expect(backward.records()).toEqual(records);
  return records;
}

const byCount = (records: RestartRecord[], container = 'api'): Map<number, RestartRecord> =>
  new Map(records.filter((r) => r.kubernetes.container.name === container).map((r) => [r.killtrace.restart.count, r]));

describe('convertToAPIContainerStatuses (pkg/kubelet/kubelet_pods.go)', () => {
  it('running: state is incarnation N (restartCount), lastState is N-1', () => {
    const view = readStatus(statusOf(podJson({ restartCount: 3, containerID: `containerd://${id(3)}`, state: { running: { startedAt: T(100) } }, lastState: terminated(2, 143, 40, 80) })));
    expect(view.running?.restartCount).toBe(3);
    expect(view.terminations.map((t) => [t.restartCount, t.state.exitCode])).toEqual([[2, 143]]);
    expect(view.terminationCount).toBe(3);
  });

  it('waiting in CrashLoopBackOff: restartCount stays N and lastState is N\'s own termination (status containerID = lastState containerID)', () => {
    const view = readStatus(statusOf(podJson({ restartCount: 3, containerID: `containerd://${id(3)}`, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: terminated(3, 137, 100, 145) })));
    expect(view.terminations).toMatchObject([{ restartCount: 3, via: 'container_id', state: { exitCode: 137 } }]);
    expect(view.newestEnded).toBe(3);
    expect(view.terminationCount).toBe(4);
  });

  it('a first crash (N = 0) shows restartCount 0 with a lastState, and it is incarnation 0\'s', () => {
    const view = readStatus(statusOf(podJson({ restartCount: 0, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: terminated(0, 1, 0, 5) })));
    expect(view.terminations).toMatchObject([{ restartCount: 0, via: 'pod_status', state: { exitCode: 1 } }]);
    expect(view.terminationCount).toBe(1);
  });

  it('waiting with a newer container created but not started: the status id differs from lastState\'s, which is N-1', () => {
    const view = readStatus(statusOf(podJson({ restartCount: 4, containerID: `containerd://${id(4)}`, state: { waiting: { reason: 'CreateContainerError' } }, lastState: terminated(3, 143, 100, 145) })));
    expect(view.terminations).toMatchObject([{ restartCount: 3, via: 'container_id' }]);
  });

  it('terminated (restartPolicy Never/OnFailure, or the moment before back-off): state is N, lastState N-1', () => {
    const view = readStatus(statusOf(podJson({ restartCount: 2, containerID: `containerd://${id(2)}`, state: terminated(2, 0, 100, 130, 'Completed'), lastState: terminated(1, 143, 40, 80) })));
    expect(view.terminations.map((t) => [t.restartCount, t.state.exitCode]).sort()).toEqual([[1, 143], [2, 0]]);
  });

  it('the record of the crash-looping pod is the latest kill, with ITS exit code (not shifted by one incarnation)', () => {
    const pod = parsePod(podJson({ restartCount: 1, containerID: `containerd://${id(1)}`, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: terminated(1, 7, 60, 65) })).signal as Signal;
    const records = byCount(analyse([pod, ...journal([[0, pleg('ContainerStarted', 0)], [5.2, pleg('ContainerDied', 0)], [5.3, backOff('api', '10s')], [60.3, pleg('ContainerStarted', 1)], [65.4, pleg('ContainerDied', 1)]])]));
    expect(records.get(1)?.killtrace.exit_code).toBe(7);
    expect(records.get(1)?.killtrace.restart.count_source).toBe('container_id');
    expect(records.get(0)?.killtrace.exit_code).toBeNull();
  });
});

describe('startContainer (kuberuntime_container.go) and buildContainerLogsPath', () => {
  it('incarnation N is created with restartCount = previous + 1 and writes <container>/N.log: a log file names its incarnation', () => {
    const log = (n: number, at: number, text: string): Signal => ({ kind: 'app_log', at: Date.parse(T(at)), pod: { namespace: NS, name: POD, uid: UID }, container: 'api', restartCount: n, stream: 'stdout', text });
    const pod = parsePod(podJson({ restartCount: 2, containerID: `containerd://${id(2)}`, state: { running: { startedAt: T(120) } }, lastState: terminated(1, 1, 60, 65) })).signal as Signal;
    const records = byCount(analyse([pod, log(1, 60.5, 'starting'), log(1, 64.9, 'fatal: config missing'), log(2, 120.4, 'starting')]));
    expect([...records.keys()]).toEqual([1]);
    expect(records.get(1)).toMatchObject({ killtrace: { exit_code: 1, cause: 'app_exit', restart: { count_source: 'log_file' } } });
  });
});

describe('computePodActions (kuberuntime_manager.go): the kill decision message', () => {
  it('"Container X failed liveness probe, will be restarted" states a liveness kill (high), whatever the exit code', () => {
    const pod = parsePod(podJson({ restartCount: 0, containerID: `containerd://${id(0)}`, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: terminated(0, 0, 0, 45, 'Completed') })).signal as Signal;
    const lines = journal([[0, pleg('ContainerStarted', 0)], [44.5, killMessage('api', 0, 'Container api failed liveness probe, will be restarted')], [44.6, killing('api', 0, 30)], [45.2, pleg('ContainerDied', 0)]]);
    const r = byCount(analyse([pod, ...lines])).get(0);
    expect(r?.killtrace).toMatchObject({ cause: 'liveness_probe', decided_by: 'kubelet', confidence: 'high', exit_code: 0 });
  });

  it('"Container X failed startup probe, will be restarted" states a startup kill', () => {
    const pod = parsePod(podJson({ restartCount: 0, containerID: `containerd://${id(0)}`, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: terminated(0, 143, 0, 31) })).signal as Signal;
    const r = byCount(analyse([pod, ...journal([[0, pleg('ContainerStarted', 0)], [30.5, killMessage('api', 0, 'Container api failed startup probe, will be restarted')], [31.2, pleg('ContainerDied', 0)]])])).get(0);
    expect(r?.killtrace).toMatchObject({ cause: 'startup_probe', confidence: 'high', during_init: true });
  });
});

describe('computeInitContainerActions (kuberuntime_manager.go): native sidecars', () => {
  it('"Init container X failed startup probe" (no ", will be restarted") kills a restartPolicy Always init container; its status is in initContainerStatuses; exit 0 after SIGTERM is still a probe kill', () => {
    const sidecar = { name: 'proxy', image: 'istio/proxyv2:1.24', restartPolicy: 'Always', startupProbe: { httpGet: { path: '/healthz/ready', port: 15021 }, periodSeconds: 5, failureThreshold: 4 } };
    const sidecarStatus = { name: 'proxy', image: 'istio/proxyv2:1.24', restartCount: 0, containerID: `containerd://${id(5)}`, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: terminated(5, 0, 0, 21, 'Completed') };
    const pod = parsePod(podJson({ restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }, { initContainers: [sidecar], initContainerStatuses: [sidecarStatus] })).signal as Signal;
    const lines = journal([[20.5, killMessage('proxy', 5, 'Init container proxy failed startup probe')], [20.6, killing('proxy', 5, 30)], [21.3, pleg('ContainerDied', 5)]]);
    const r = byCount(analyse([pod, ...lines]), 'proxy').get(0);
    expect(r?.killtrace).toMatchObject({ cause: 'startup_probe', decided_by: 'kubelet', confidence: 'high', exit_code: 0, container: { kind: 'sidecar' } });
    expect(r?.message).toMatch(/^Sidecar container proxy /);
  });
});

describe('computeInitContainerActions (kuberuntime_manager.go): a failing init container', () => {
  it('is restarted with back-off like any container: initContainerStatuses follow the same restartCount/lastState convention, kind init', () => {
    const init = { name: 'migrate', image: 'ghcr.io/acme/migrate:1' };
    const initStatus = { name: 'migrate', image: 'ghcr.io/acme/migrate:1', restartCount: 2, containerID: `containerd://${id(7)}`, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 2, reason: 'Error', startedAt: T(60), finishedAt: T(63), containerID: `containerd://${id(7)}` } } };
    const pod = parsePod(podJson({ restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }, { initContainers: [init], initContainerStatuses: [initStatus] })).signal as Signal;
    const records = analyse([pod]);
    expect(records.map((r) => [r.kubernetes.container.name, r.killtrace.restart.count, r.killtrace.exit_code, r.killtrace.cause, r.killtrace.container.kind])).toEqual([['migrate', 2, 2, 'app_exit', 'init']]);
  });
});

describe('doBackOff (kuberuntime_manager.go) after a PLEG ContainerDied (syncLoopIteration)', () => {
  it('the back-off line naming one container right after a death ties that dead container id to the container, with no log file left', () => {
    const pod = parsePod(podJson({ restartCount: 2, containerID: `containerd://${id(2)}`, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: terminated(2, 1, 90, 95) })).signal as Signal;
    const lines = journal([
      [0.4, pleg('ContainerStarted', 0)], [5.3, pleg('ContainerDied', 0)], [5.4, backOff('api', '10s')],
      [16.2, pleg('ContainerStarted', 1)], [21.3, pleg('ContainerDied', 1)], [21.4, backOff('api', '20s')],
      [90.4, pleg('ContainerStarted', 2)], [95.3, pleg('ContainerDied', 2)], [95.4, backOff('api', '40s')],
    ]);
    const records = byCount(analyse([pod, ...lines]));
    expect([...records.keys()].sort()).toEqual([0, 1, 2]);
    expect(records.get(0)?.container.id).toBe(id(0));
    // The journal covers those runs and records no kill decision: the process ended by itself.
    expect(records.get(1)?.killtrace).toMatchObject({ cause: 'app_exit', confidence: 'medium', exit_code: null });
    expect(records.get(2)?.killtrace).toMatchObject({ cause: 'app_exit', confidence: 'high', exit_code: 1 });
  });
});

describe('client-go event aggregation (tools/record events_cache.go eventObserve)', () => {
  it('one Killing object with count 3 from firstTimestamp to lastTimestamp is three kills; Started count 4 numbers them 0 and 2', () => {
    const records = byCount(analyse([
      event('Killing', 'Container api failed liveness probe, will be restarted', 3, 45, 170),
      event('Started', 'Started container api', 4, 0, 185),
    ]));
    expect([...records.keys()].sort()).toEqual([0, 2]);
    expect(records.get(0)?.killtrace).toMatchObject({ cause: 'liveness_probe', confidence: 'high', kill_event: { count: 3 }, restart: { count_source: 'event_counts' }, started_at: `${T(0).slice(0, 19)}.000Z` });
    expect(records.get(2)?.killtrace.killed_at).toBe(`${T(170).slice(0, 19)}.000Z`);
    expect(records.get(2)?.message).toContain('one of 3 that one aggregated Killing event counts');
  });

  it('without Started counts the kills are numbered from 0 in time order (the documented fallback) and the record says so', () => {
    const records = byCount(analyse([event('Killing', 'Container api failed liveness probe, will be restarted', 2, 45, 110)]));
    expect([...records.keys()].sort()).toEqual([0, 1]);
    expect(records.get(0)?.killtrace.restart.count_source).toBe('fallback');
    expect(records.get(0)?.message).toContain('numbered from 0 in time order');
  });
});

describe('the kernel OOM killer (the runtime reports reason OOMKilled; the kubelet logs no kill decision)', () => {
  it('lastState.terminated.reason OOMKilled is decisive even with a journal covering the run', () => {
    const pod = parsePod(podJson({ restartCount: 0, containerID: `containerd://${id(0)}`, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: terminated(0, 137, 0, 40, 'OOMKilled') })).signal as Signal;
    const r = byCount(analyse([pod, ...journal([[0.3, pleg('ContainerStarted', 0)], [40.4, pleg('ContainerDied', 0)], [40.5, backOff('api', '10s')]])])).get(0);
    expect(r?.killtrace).toMatchObject({ cause: 'oom_killed', decided_by: 'kernel', confidence: 'high', exit_code: 137 });
  });

  it('exit 137 without reason OOMKilled and without a kill decision is a SIGKILL from outside the kubelet: low, naming the OOM killer', () => {
    const pod = parsePod(podJson({ restartCount: 0, containerID: `containerd://${id(0)}`, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: terminated(0, 137, 0, 40) })).signal as Signal;
    const r = byCount(analyse([pod, ...journal([[0.3, pleg('ContainerStarted', 0)], [40.4, pleg('ContainerDied', 0)], [40.5, backOff('api', '10s')]])])).get(0);
    expect(r?.killtrace).toMatchObject({ cause: 'unknown', confidence: 'low', exit_code: 137 });
    expect(r?.message).toContain('the kernel OOM killer is the likely source');
  });
});

describe('executePreStopHook (kuberuntime_container.go)', () => {
  it('"PreStop hook not completed in grace period" names a hook that outlived the grace period', () => {
    const pod = parsePod(podJson({ restartCount: 0, containerID: `containerd://${id(0)}`, state: terminated(0, 143, 0, 73) })).signal as Signal;
    const lines = journal([
      [0.3, pleg('ContainerStarted', 0)],
      [60.1, killing('api', 0, 10)],
      [70.1, `kuberuntime_container.go:691] "PreStop hook not completed in grace period" pod="${NS}/${POD}" podUID="${UID}" containerName="api" containerID="containerd://${id(0)}" gracePeriod=10`],
      [73.2, pleg('ContainerDied', 0)],
    ]);
    const r = byCount(analyse([pod, ...lines])).get(0);
    expect(r?.killtrace.prestop_outlived_grace).toBe(true);
    expect(r?.message).toContain('preStop hook outlived the grace period (10 s)');
  });
});

describe('handleProbeSync / syncLoopIteration (kubelet.go): "SyncLoop (probe)" readiness ready', () => {
  it('a readiness success before a liveness kill means init was over: phase running, no startupProbe advice', () => {
    const spec = [{ name: 'api', image: 'ghcr.io/acme/api:1', livenessProbe: { httpGet: { path: '/livez', port: 8080 }, periodSeconds: 10, failureThreshold: 3 }, readinessProbe: { httpGet: { path: '/readyz', port: 8080 } } }];
    const pod = parsePod(podJson({ restartCount: 0, containerID: `containerd://${id(0)}`, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: terminated(0, 143, 0, 46) }, { containers: spec })).signal as Signal;
    const lines = journal([
      [0.3, pleg('ContainerStarted', 0)],
      [4.0, `kubelet.go:2544] "SyncLoop (probe)" probe="readiness" status="ready" pod="${NS}/${POD}"`],
      [45.5, killMessage('api', 0, 'Container api failed liveness probe, will be restarted')],
      [46.2, pleg('ContainerDied', 0)],
    ]);
    const r = byCount(analyse([pod, ...lines])).get(0);
    expect(r?.killtrace.init.phase).toBe('running');
    expect(r?.killtrace.recommendation.text).not.toContain('Add a startupProbe');
  });
});

describe('prober manager UpdatePodStatus (pkg/kubelet/prober/prober_manager.go): the Ready condition', () => {
  /** A single-container pod, running since T(0), Ready since T(20): the Ready condition with `probes` on the container. */
  function readyPod(probes: Record<string, unknown>): Signal {
    const pod = podJson({ restartCount: 0, containerID: `containerd://${id(0)}`, ready: true, started: true, state: { running: { startedAt: T(0) } } }, { containers: [{ name: 'api', image: 'ghcr.io/acme/api:1', ...probes }] }) as { status: Record<string, unknown> };
    pod.status.conditions = [
      { type: 'ContainersReady', status: 'True', lastTransitionTime: T(20) },
      { type: 'Ready', status: 'True', lastTransitionTime: T(20) },
    ];
    return parsePod(pod).signal as Signal;
  }
  const readyConditionInits = (signal: Signal): Array<{ seconds: number; restartCount: number }> => {
    const core = new Correlator({ clusterName: 'test' });
    core.ingest(signal);
    return core
      .initDurations()
      .filter((d) => d.source === 'ready_condition')
      .map((d) => ({ seconds: d.seconds, restartCount: d.restartCount }));
  };
  const liveness = { livenessProbe: { httpGet: { path: '/livez', port: 8080 }, periodSeconds: 10, failureThreshold: 3 } };

  it('a container without readiness probe is ready as soon as it runs ("no readinessProbe -> always ready"): its Ready condition is no end of init', () => {
    expect(readyConditionInits(readyPod(liveness))).toEqual([]);
  });

  it('with a readiness probe (or a startup probe, which gates readiness through `started`) Ready is the end of init', () => {
    expect(readyConditionInits(readyPod({ ...liveness, readinessProbe: { httpGet: { path: '/readyz', port: 8080 } } }))).toEqual([{ seconds: 20, restartCount: 0 }]);
    expect(readyConditionInits(readyPod({ ...liveness, startupProbe: { httpGet: { path: '/livez', port: 8080 }, failureThreshold: 30 } }))).toEqual([{ seconds: 20, restartCount: 0 }]);
  });
});
