/**
 * Scenarios for the kubelet's reporting conventions (issue 7): the crash-looping pod's latest termination in
 * `lastState` (convertToAPIContainerStatuses), kernel OOM kills, native sidecars, events-only bundles, long-running
 * liveness kills. Each `expect` entry states everything the scenario determines; test/unit/catalog-analysis.test.ts
 * asserts all of it on the record.
 */
import { START } from './catalog.js';
import type { StepProfile } from '@killtrace/schemas';
import type { IncarnationDesc, PodDesc, Scenario } from './types.js';

const MIGRATOR_PROFILE: StepProfile = { name: 'migrator', match: { container: '^migrate$' }, steps: [{ name: 'migrate', start: 'applying schema migrations' }] };
const THUMBS_PROFILE: StepProfile = { name: 'thumbnailer', match: { container: '^thumbs$' }, steps: [{ name: 'load-cache', start: 'loading image cache' }] };

const json = (level: string, msg: string, extra = ''): string => `{"level":"${level}","ts":"{{iso}}","msg":"${msg}"${extra}}`;

const rs = (app: string, hash: string, suffix: string, ns: string): Pick<PodDesc, 'namespace' | 'name' | 'owner' | 'labels'> => ({
  namespace: ns,
  name: `${app}-${hash}-${suffix}`,
  owner: { kind: 'ReplicaSet', name: `${app}-${hash}` },
  labels: { app, 'pod-template-hash': hash },
});

const exitWith = (code: number, at: number, message: string): IncarnationDesc => ({
  log: [
    { at: 0.2, text: json('info', 'migrator starting') },
    { at: 0.5, text: json('info', 'applying schema migrations'), step: 'migrate' },
    { at: at - 0.1, text: json('error', message), stream: 'stderr' },
  ],
  end: { kind: 'exit', at, exitCode: code },
});

/**
 * A first crash, collected during the first back-off: `restartCount: 0` with the termination in `lastState`
 * (N = 0 is no exception to the convention). No journal: the status alone names incarnation 0.
 */
export function firstCrashWaiting(): Scenario {
  const p = rs('migrator', '7c6b5a4d3', 'f2g7h', 'billing');
  return {
    name: 'first-crash-waiting',
    start: START,
    durationSeconds: 12,
    pods: [{ ...p, node: 'worker-2', containers: [{ name: 'migrate', image: 'ghcr.io/acme/migrator:1.2.0', incarnations: [exitWith(3, 4.5, 'relation "invoices" already exists')] }] }],
    bundle: { kubelet: 'none' },
    profiles: [MIGRATOR_PROFILE],
    expect: [{ pod: p.name, container: 'migrate', restartCount: 0, cause: 'app_exit', confidence: 'high', step: 'migrate', exitCode: 3, duringInit: true, countSource: 'container_id', kind: 'main' }],
  };
}

/**
 * Three different exit codes in a crash loop, collected while waiting in back-off: the status' `lastState` is
 * incarnation 2's own termination (exit 7). Reading it as incarnation 1's (the old mistake) shifts every exit code.
 */
export function crashLoopLatestExit(): Scenario {
  const p = rs('migrator', '7c6b5a4d3', 'k8l3m', 'billing');
  return {
    name: 'crash-loop-latest-exit',
    start: START,
    durationSeconds: 62,
    pods: [
      {
        ...p,
        node: 'worker-3',
        containers: [
          {
            name: 'migrate',
            image: 'ghcr.io/acme/migrator:1.2.0',
            incarnations: [exitWith(3, 4.5, 'relation "invoices" already exists'), exitWith(5, 4.5, 'lock timeout'), exitWith(7, 4.5, 'disk full')],
          },
        ],
      },
    ],
    profiles: [MIGRATOR_PROFILE],
    expect: [
      { pod: p.name, container: 'migrate', restartCount: 2, cause: 'app_exit', confidence: 'high', step: 'migrate', exitCode: 7, duringInit: true, countSource: 'container_id', kind: 'main' },
      { pod: p.name, container: 'migrate', restartCount: 1, cause: 'app_exit', confidence: 'medium', step: 'migrate', exitCode: null, duringInit: true, countSource: 'log_file', kind: 'main' },
      { pod: p.name, container: 'migrate', restartCount: 0, cause: 'app_exit', confidence: 'medium', step: null, exitCode: null, duringInit: false, countSource: 'event_counts', kind: 'main' },
    ],
  };
}

/**
 * A crash loop of kernel OOM kills with the kubelet journal present (it never logs a kernel kill): the latest is
 * OOMKilled in `lastState` (high, kernel); the older ones, without status, are not passed off as app exits.
 */
export function oomCrashLoop(): Scenario {
  const p = rs('thumbnailer', '5d4c3b2a1', 'p9q2r', 'media');
  const inc: IncarnationDesc = { log: [{ at: 0.3, text: json('info', 'thumbnailer starting') }, { at: 0.8, text: json('info', 'loading image cache'), step: 'load-cache' }], end: { kind: 'oom', at: 6 } };
  return {
    name: 'oom-crash-loop',
    start: START,
    durationSeconds: 64,
    profiles: [THUMBS_PROFILE],
    pods: [{ ...p, node: 'worker-6', containers: [{ name: 'thumbs', image: 'ghcr.io/acme/thumbnailer:0.7.1', livenessProbe: { httpGet: { path: '/livez', port: 8080 }, initialDelaySeconds: 20 }, incarnations: [inc] }] }],
    expect: [
      { pod: p.name, container: 'thumbs', restartCount: 2, cause: 'oom_killed', confidence: 'high', step: 'load-cache', exitCode: 137, duringInit: true, decidedBy: 'kernel', countSource: 'container_id', kind: 'main' },
      { pod: p.name, container: 'thumbs', restartCount: 1, cause: 'unknown', confidence: 'low', step: 'load-cache', exitCode: null, duringInit: true, kind: 'main', countSource: 'log_file', messageIncludes: 'OOM killer' },
    ],
  };
}

/** Exit 137 `Error` with a journal that records no kill decision: a SIGKILL from outside the kubelet, never an app exit. */
export function sigkillWithoutDecision(): Scenario {
  const p = rs('encoder', '4c3b2a1d0', 's5t8u', 'media');
  return {
    name: 'sigkill-without-decision',
    start: START,
    durationSeconds: 40,
    pods: [
      {
        ...p,
        node: 'worker-7',
        containers: [
          {
            name: 'encoder',
            image: 'ghcr.io/acme/encoder:2.0.0',
            incarnations: [{ log: [{ at: 0.2, text: json('info', 'encoder ready'), ready: true }, { at: 9, text: json('info', 'spawned ffmpeg worker', ',"pid":77') }], end: { kind: 'sigkill', at: 12 } }, { log: [{ at: 0.2, text: json('info', 'encoder ready'), ready: true }] }],
          },
        ],
      },
    ],
    expect: [{ pod: p.name, container: 'encoder', restartCount: 0, cause: 'unknown', confidence: 'low', step: null, exitCode: 137, duringInit: false, countSource: 'container_id', kind: 'main', messageIncludes: 'OOM killer is the likely source' }],
  };
}

/**
 * A native sidecar (init container, `restartPolicy: Always`) killed by its startup probe: "Init container proxy
 * failed startup probe" (no ", will be restarted"); it exits 0 on SIGTERM, and the kill decision still decides.
 */
export function sidecarStartupKill(): Scenario {
  const p = rs('ledger-api', '6e5d4c3b2', 'v1w4x', 'payments');
  return {
    name: 'sidecar-startup-kill',
    start: START,
    durationSeconds: 100,
    pods: [
      {
        ...p,
        node: 'worker-8',
        containers: [
          {
            name: 'proxy',
            image: 'docker.io/istio/proxyv2:1.24.1',
            sidecar: true,
            startupProbe: { httpGet: { path: '/healthz/ready', port: 15021 }, periodSeconds: 5, failureThreshold: 4 },
            incarnations: [
              { log: [{ at: 0.2, text: 'info\tEnvoy proxy starting' }, { at: 0.6, text: 'info\twaiting for xDS from istiod.istio-system.svc:15012' }], respondsAfter: null, failure: 'status', sigterm: { exitAfter: 0.3, exitCode: 0 } },
              { log: [{ at: 0.2, text: 'info\tEnvoy proxy is ready' }], respondsAfter: 1 },
            ],
          },
          { name: 'api', image: 'ghcr.io/acme/ledger-api:3.1.0', incarnations: [{ log: [{ at: 0.4, text: json('info', 'api ready') }] }] },
        ],
      },
    ],
    expect: [{ pod: p.name, container: 'proxy', restartCount: 0, cause: 'startup_probe', confidence: 'high', step: null, exitCode: 0, duringInit: true, decidedBy: 'kubelet', countSource: 'container_id', kind: 'sidecar', messageIncludes: 'Init container proxy failed startup probe' }],
  };
}

const slowStart = (): IncarnationDesc => ({
  log: [{ at: 0.3, text: json('info', 'search starting') }, { at: 1, text: json('info', 'opening shards'), step: 'open-shards' }],
  respondsAfter: null,
  failure: 'timeout',
  sigterm: { exitAfter: 0.2 },
});

/**
 * Only `kubectl get events -A -o json` (no node access): one aggregated Killing event counts three liveness kills
 * and the Started event counts four starts, so the kills are incarnations 0 and 2 (the first and last occurrence).
 */
export function eventsOnly(): Scenario {
  const p = rs('search', '3b2a1c0d9', 'y6z9a', 'shop');
  return {
    name: 'events-only',
    start: START,
    durationSeconds: 185,
    pods: [{ ...p, node: 'worker-9', containers: [{ name: 'search', image: 'ghcr.io/acme/search:5.2.0', livenessProbe: { httpGet: { path: '/livez', port: 9200 }, initialDelaySeconds: 10, periodSeconds: 5 }, incarnations: [slowStart()] }] }],
    bundle: { pods: false, kubelet: 'none', logs: false },
    expect: [
      { pod: p.name, container: 'search', restartCount: 0, cause: 'liveness_probe', confidence: 'high', step: null, exitCode: null, duringInit: false, phase: 'unknown', countSource: 'event_counts', kind: 'main', killEventCount: 3 },
      { pod: p.name, container: 'search', restartCount: 2, cause: 'liveness_probe', confidence: 'high', step: null, exitCode: null, duringInit: false, phase: 'unknown', countSource: 'event_counts', kind: 'main', killEventCount: 3 },
    ],
  };
}

/** Events and pods, no logs or journal: the latest kill's exit status comes from `lastState`, of the right incarnation. */
export function eventsAndPods(): Scenario {
  const p = rs('search', '3b2a1c0d9', 'b3c5d', 'shop');
  return {
    name: 'events-and-pods',
    start: START,
    durationSeconds: 185,
    pods: [{ ...p, node: 'worker-9', containers: [{ name: 'search', image: 'ghcr.io/acme/search:5.2.0', livenessProbe: { httpGet: { path: '/livez', port: 9200 }, initialDelaySeconds: 10, periodSeconds: 5 }, incarnations: [slowStart()] }] }],
    bundle: { kubelet: 'none', logs: false },
    expect: [
      { pod: p.name, container: 'search', restartCount: 0, cause: 'liveness_probe', confidence: 'high', step: null, exitCode: null, duringInit: true, phase: 'initializing', countSource: 'event_counts', kind: 'main', killEventCount: 3, messageIncludes: 'never passed once' },
      { pod: p.name, container: 'search', restartCount: 2, cause: 'liveness_probe', confidence: 'high', step: null, exitCode: null, duringInit: false, phase: 'unknown', countSource: 'episode_order', kind: 'main', killEventCount: 3 },
      // The newest kill's Killing and Unhealthy events were lost to the rate limit: only lastState (143) is left.
      { pod: p.name, container: 'search', restartCount: 3, cause: 'unknown', confidence: 'low', step: null, exitCode: 143, duringInit: false, countSource: 'container_id', kind: 'main', messageIncludes: 'a liveness kill whose events were lost to the event rate limit is likely' },
    ],
  };
}

/**
 * A service that ran for two hours, then deadlocked: its liveness kill is a running-service failure (advice about the
 * probe's check, timeout and threshold, never "add a startupProbe"); it ignores SIGTERM, so it ends 137 after the grace.
 */
export function longRunningLivenessKill(): Scenario {
  const p = rs('orders-api', '2a1b0c9d8', 'e4f6g', 'shop');
  return {
    name: 'long-running-liveness-kill',
    start: START,
    durationSeconds: 7400,
    pods: [
      {
        ...p,
        node: 'worker-1',
        containers: [
          {
            name: 'api',
            image: 'ghcr.io/acme/orders-api:8.0.1',
            livenessProbe: { httpGet: { path: '/livez', port: 8080 }, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 2 },
            incarnations: [
              { log: [{ at: 0.4, text: json('info', 'orders-api listening on :8080') }, { at: 7199, text: json('warn', 'db pool exhausted, waiting for a connection') }], hangsAt: 7200, failure: 'timeout', sigterm: { ignore: true } },
              { log: [{ at: 0.4, text: json('info', 'orders-api listening on :8080') }] },
            ],
          },
        ],
      },
    ],
    expect: [
      { pod: p.name, container: 'api', restartCount: 0, cause: 'liveness_probe', confidence: 'high', step: null, exitCode: 137, duringInit: false, phase: 'running', countSource: 'container_id', kind: 'main', messageIncludes: 'did not stop within the grace period', messageExcludes: 'Add a startupProbe' },
    ],
  };
}

/**
 * A deletion whose preStop hook (a 60 s drain) outlives the 10 s grace period: the kubelet stops waiting, sends
 * SIGTERM with the 2 s minimum left; the app exits 143. A finalizer keeps the pod visible.
 */
export function preStopOutlivesGrace(): Scenario {
  const p = rs('gateway', '1f0e9d8c7', 'h2j5k', 'edge');
  return {
    name: 'prestop-outlives-grace',
    start: START,
    durationSeconds: 150,
    pods: [
      {
        ...p,
        node: 'worker-4',
        terminationGracePeriodSeconds: 10,
        finalizers: ['edge.acme.io/drain'],
        end: { kind: 'deleted', at: 100 },
        containers: [{ name: 'gateway', image: 'ghcr.io/acme/gateway:1.9.0', preStopSeconds: 60, incarnations: [{ log: [{ at: 0.3, text: json('info', 'gateway ready'), ready: true }], sigterm: { exitAfter: 0.5 } }] }],
      },
    ],
    expect: [{ pod: p.name, container: 'gateway', restartCount: 0, cause: 'stopped', confidence: 'high', step: null, exitCode: 143, duringInit: false, countSource: 'container_id', kind: 'main', preStopOutlivedGrace: true, messageIncludes: 'preStop hook outlived the grace period (10 s)' }],
  };
}

/**
 * Seen ready (the journal's "SyncLoop (probe)" readiness ready line), then hung: the liveness kill ~45 s in is
 * neither at the probe's earliest moment nor far past it, so only the readiness success says init was over.
 */
export function seenReadyLivenessKill(): Scenario {
  const p = rs('quotes', '0e9d8c7b6', 'm3n6p', 'shop');
  return {
    name: 'seen-ready-liveness-kill',
    start: START,
    durationSeconds: 80,
    pods: [
      {
        ...p,
        node: 'worker-5',
        containers: [
          {
            name: 'quotes',
            image: 'ghcr.io/acme/quotes:2.2.0',
            livenessProbe: { httpGet: { path: '/livez', port: 8080 }, periodSeconds: 10, failureThreshold: 3 },
            readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 2 },
            incarnations: [
              { log: [{ at: 0.4, text: json('info', 'quotes listening on :8080') }, { at: 14, text: json('warn', 'upstream pricing feed stalled') }], hangsAt: 15, failure: 'timeout' },
              { log: [{ at: 0.4, text: json('info', 'quotes listening on :8080') }] },
            ],
          },
        ],
      },
    ],
    expect: [{ pod: p.name, container: 'quotes', restartCount: 0, cause: 'liveness_probe', confidence: 'high', step: null, exitCode: 143, duringInit: false, phase: 'running', countSource: 'container_id', kind: 'main', messageExcludes: 'Add a startupProbe' }],
  };
}

/** The scenarios of this file by name. */
export const KUBELET_CONVENTION_CATALOG: Record<string, () => Scenario> = {
  'first-crash-waiting': firstCrashWaiting,
  'crash-loop-latest-exit': crashLoopLatestExit,
  'oom-crash-loop': oomCrashLoop,
  'sigkill-without-decision': sigkillWithoutDecision,
  'sidecar-startup-kill': sidecarStartupKill,
  'events-only': eventsOnly,
  'events-and-pods': eventsAndPods,
  'long-running-liveness-kill': longRunningLivenessKill,
  'prestop-outlives-grace': preStopOutlivesGrace,
  'seen-ready-liveness-kill': seenReadyLivenessKill,
};
