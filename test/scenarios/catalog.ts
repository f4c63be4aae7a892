/**
 * Scenario fixtures: one per termination cause and confidence level, plus the two example stories. Each function
 * returns a fresh description; `simulate()` gives its bundle and ground truth, `writeScenario()` writes it.
 */
import { writeBundle } from './bundle.js';
import { simulate, type Simulation } from './simulator.js';
import type { ContainerDesc, IncarnationDesc, LogLineDesc, PodDesc, Scenario } from './types.js';

export const START = '2026-10-02T06:30:00Z';

/** Simulate `scenario` and write its bundle into `dir`; returns the simulation (ground truth in `.truth`). */
export function writeScenario(dir: string, scenario: Scenario): Simulation {
  const sim = simulate(scenario);
  writeBundle(dir, sim);
  return sim;
}

const rs = (app: string, hash: string, suffix: string, ns: string, labels: Record<string, string> = {}): Pick<PodDesc, 'namespace' | 'name' | 'owner' | 'labels'> => ({
  namespace: ns,
  name: `${app}-${hash}-${suffix}`,
  owner: { kind: 'ReplicaSet', name: `${app}-${hash}` },
  labels: { app, 'pod-template-hash': hash, 'app.kubernetes.io/name': app, ...labels },
});

function steady(from: number, until: number, every: number, text: (i: number) => string): LogLineDesc[] {
  const out: LogLineDesc[] = [];
  for (let t = from, i = 0; t < until; t += every, i++) out.push({ at: t, text: text(i) });
  return out;
}

const json = (level: string, msg: string, extra = ''): string => `{"level":"${level}","ts":"{{iso}}","msg":"${msg}"${extra}}`;

// ---------------------------------------------------------------------------------------------------------------
// Cloudpods host agent (the motivating story)

const GPU_ADDRS = ['0000:3b:00.0', '0000:3c:00.0', '0000:5e:00.0', '0000:5f:00.0', '0000:86:00.0', '0000:87:00.0', '0000:af:00.0', '0000:b0:00.0'];
const BIND_SECONDS = [18.4, 19.6, 18.9, 19.8, 18.2, 19.1, 19.5, 18.7];

/** One incarnation of the Cloudpods `host` agent on a node with `gpus` GPUs (`perGpu` seconds each to bind). */
export function hostAgentIncarnation(opts: { gpus: number; gpuId?: string; perGpu?: number[]; cpuModel?: string; runFor?: number; storageSeconds?: number }): IncarnationDesc {
  const log: LogLineDesc[] = [];
  const g = (sev: 'I' | 'W' | 'E', site: string, text: string) => `{{glog ${sev} ${site}}} ${text}`;
  log.push({ at: 0.31, text: g('I', 'main.go:62', 'host agent v3.11.4 (git 6f1c2a9, go1.22.7) starting') });
  log.push({ at: 0.52, text: g('I', 'options.go:140', 'use config file /etc/yunion/host.conf, listen :8885, region onecloud-1') });
  log.push({ at: 1.04, text: g('I', 'hostinfo.go:214', 'Start probe host info'), step: 'host-info' });
  log.push({ at: 1.62, text: g('I', 'hostinfo.go:402', `CPU: ${opts.cpuModel ?? 'Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz'}, 96 cores, 2 sockets`) });
  log.push({ at: 2.35, text: g('I', 'hostinfo.go:455', 'Memory: 773659 MB total, 16384 MB reserved for host') });
  log.push({ at: 3.1, text: g('W', 'hostinfo.go:512', 'kernel module kvm_intel nested=0, nested virtualization disabled') });
  let t = 4.2;
  if (opts.gpus > 0) {
    log.push({ at: 3.55, text: g('I', 'isolated_device.go:118', `detect ${opts.gpus} NVIDIA GPU device(s): ${opts.gpuId ?? '10de:1db6'}`) });
    t = 5.9;
    for (let i = 0; i < opts.gpus; i++) {
      const addr = GPU_ADDRS[i] ?? `0000:${(0xc0 + i).toString(16)}:00.0`;
      const dur = opts.perGpu?.[i] ?? BIND_SECONDS[i] ?? 19;
      log.push({ at: t, text: g('I', 'isolated_device.go:233', `bind ${addr} (${opts.gpuId ?? '10de:1db6'}) to vfio-pci`), ...(i === 0 ? { step: 'gpu-vfio-bind' } : {}) });
      log.push({ at: t + 0.41, text: g('I', 'isolated_device.go:241', `unbind ${addr} from nvidia driver`) });
      log.push({ at: t + dur * 0.55, text: g('W', 'isolated_device.go:266', `waiting for ${addr} function level reset to complete`) });
      t += dur;
      log.push({ at: t - 0.05, text: g('I', 'isolated_device.go:251', `device ${addr} attached to vfio-pci, iommu group ${20 + i * 3}`) });
    }
    log.push({ at: t + 0.1, text: g('I', 'isolated_device.go:260', `vfio-pci bind done, ${opts.gpus} devices`), stepEnd: true });
    t += 0.3;
  }
  log.push({ at: t + 0.2, text: g('I', 'storage_manager.go:77', 'init storage manager'), step: 'storage-init' });
  const storage = opts.storageSeconds ?? 2.5;
  log.push({ at: t + storage * 0.55, text: g('I', 'storage_manager.go:133', 'local storage /opt/cloud/workspace/disks: 3.5 TiB, 2.9 TiB free') });
  log.push({ at: t + storage, text: g('I', 'host_services.go:152', 'Start host service on :8885'), ready: true });
  const readyAt = t + storage;
  log.push(...steady(readyAt + 30, readyAt + (opts.runFor ?? 3600), 60, (i) => g('I', 'host_health.go:88', `sync host status to region ok (seq ${i + 1})`)));
  return {
    log,
    respondsAfter: readyAt,
    failure: 'timeout',
    sigterm: { exitAfter: 0.3, log: [{ at: 0.01, text: g('I', 'service.go:203', 'received signal terminated, exiting') }] },
  };
}

export function hostPod(node: string, suffix: string, ip: string, inc: IncarnationDesc): PodDesc {
  const container: ContainerDesc = {
    name: 'host',
    image: 'registry.example.com/onecloud/host:v3.11.4',
    livenessProbe: { httpGet: { path: '/ping', port: 8885 }, periodSeconds: 5, failureThreshold: 3, timeoutSeconds: 1, initialDelaySeconds: 30 },
    incarnations: [inc],
    ports: [8885],
  };
  return {
    namespace: 'onecloud',
    name: `default-host-${suffix}`,
    node,
    ip,
    hostNetwork: true,
    labels: { app: 'host', 'app.kubernetes.io/component': 'host', 'onecloud.yunion.io/cluster': 'default', 'controller-revision-hash': '6b7f9c5d8', 'pod-template-generation': '4' },
    owner: { kind: 'DaemonSet', name: 'default-host' },
    containers: [container],
  };
}

/**
 * The example: `default-host` on three nodes. gpu-node-1 (8 GPUs, ~152 s of vfio binding) is killed by its
 * liveness probe (30 s delay + 3 x 5 s) in `gpu-vfio-bind` on every incarnation; the others start fine.
 */
export function hostAgentCrashloop(): Scenario {
  return {
    name: 'host-agent-crashloop',
    start: START,
    durationSeconds: 1000,
    seed: 7,
    pods: [
      hostPod('gpu-node-1', 'x7k2p', '10.0.0.5', hostAgentIncarnation({ gpus: 8 })),
      hostPod('gpu-node-2', 'm9qzt', '10.0.0.6', hostAgentIncarnation({ gpus: 1, gpuId: '10de:1eb8', perGpu: [14.8] })),
      hostPod('cpu-node-1', '4hcw8', '10.0.0.7', hostAgentIncarnation({ gpus: 0, cpuModel: 'AMD EPYC 7543 32-Core Processor', storageSeconds: 7.6 })),
    ],
    // Three hardware configurations, three node classes: 8 x V100 (10de:1db6), 1 x T4 (10de:1eb8), CPU only.
    nodes: [
      { name: 'gpu-node-1', uid: '5d0e1c2a-7b3f-4e8a-9c61-2f4b8d9e0a11', labels: { 'node.kubernetes.io/instance-type': 'p3dn.24xlarge', 'nvidia.com/gpu.present': 'true', 'nvidia.com/gpu.product': 'Tesla-V100-SXM2-32GB', 'feature.node.kubernetes.io/pci-10de.present': 'true' } },
      { name: 'gpu-node-2', uid: '6e1f2d3b-8c4a-4f9b-8d72-3a5c9e0f1b22', labels: { 'node.kubernetes.io/instance-type': 'g4dn.xlarge', 'nvidia.com/gpu.present': 'true', 'nvidia.com/gpu.product': 'Tesla-T4', 'feature.node.kubernetes.io/pci-10de.present': 'true' } },
      { name: 'cpu-node-1', uid: '7f2a3e4c-9d5b-4a0c-9e83-4b6d0f1a2c33', labels: { 'node.kubernetes.io/instance-type': 'm6a.8xlarge' } },
    ],
    expect: [0, 1, 2, 3, 4, 5, 6].map((n) => ({ pod: 'default-host-x7k2p', container: 'host', restartCount: n, cause: 'liveness_probe' as const, confidence: 'high' as const, step: n >= 5 ? 'gpu-vfio-bind' : null })),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// One case per cause and confidence

/** Liveness kill while building a search index; Events, journal and logs all present: high. */
export function livenessKillDuringInit(): Scenario {
  const p = rs('search-indexer', '5c9d7b8f4', 'q8w2n', 'shop');
  const inc: IncarnationDesc = {
    log: [
      { at: 0.2, text: json('info', 'search-indexer starting', ',"version":"2.8.1"') },
      { at: 0.9, text: json('info', 'loading catalog snapshot', ',"source":"s3://shop-snapshots/catalog-latest"'), step: 'load-catalog' },
      { at: 14.5, text: json('info', 'building search index', ',"docs":2400000'), step: 'build-index' },
      { at: 31, text: json('warn', 'slow batch', `,"detail":"${'x'.repeat(20000)}"`), stream: 'stderr' },
      { at: 45, text: json('info', 'index progress', ',"pct":61') },
      { at: 88, text: json('info', 'listening on :8080'), ready: true },
    ],
    respondsAfter: 88,
    failure: 'refused',
    sigterm: { exitAfter: 0.15, log: [{ at: 0.01, text: json('info', 'shutting down on SIGTERM') }] },
  };
  return {
    name: 'liveness-kill-during-init',
    start: START,
    durationSeconds: 100,
    pods: [
      {
        ...p,
        node: 'worker-3',
        containers: [{ name: 'indexer', image: 'ghcr.io/acme/search-indexer:2.8.1', livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, initialDelaySeconds: 20, periodSeconds: 10 }, incarnations: [inc] }],
      },
    ],
    bundle: { criMaxLineBytes: 16384 },
    expect: [{ pod: p.name, container: 'indexer', restartCount: 0, cause: 'liveness_probe', confidence: 'high', step: 'build-index' }],
  };
}

/**
 * Liveness kill whose Killing event was rate-limited away (readiness probing every second drained the pod's
 * event budget) and no kubelet journal was collected: Unhealthy events, then 143 in lastState: medium.
 */
export function livenessKillRateLimited(): Scenario {
  const p = rs('pricing', '6f8d9c7b5', 'zt4kx', 'shop');
  return {
    name: 'liveness-kill-rate-limited',
    start: START,
    durationSeconds: 90,
    pods: [
      {
        ...p,
        node: 'worker-5',
        containers: [
          {
            name: 'pricing',
            image: 'ghcr.io/acme/pricing:1.14.0',
            livenessProbe: { tcpSocket: { port: 9000 }, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 2 },
            readinessProbe: { httpGet: { path: '/ready', port: 9000 }, periodSeconds: 1, failureThreshold: 1 },
            incarnations: [
              {
                log: [
                  { at: 0.3, text: json('info', 'pricing starting') },
                  { at: 0.8, text: json('info', 'warming rule engine', ',"rules":18211'), step: 'warm-rules' },
                  { at: 12, text: json('info', 'rule engine 40% warm') },
                ],
                respondsAfter: null,
                failure: 'timeout',
                readinessFailure: 'refused',
              },
              { log: [{ at: 0.3, text: json('info', 'pricing starting') }, { at: 2.1, text: json('info', 'serving on :9000'), ready: true }], respondsAfter: 2 },
            ],
          },
        ],
      },
    ],
    bundle: { kubelet: 'none' },
    expect: [{ pod: p.name, container: 'pricing', restartCount: 0, cause: 'liveness_probe', confidence: 'medium', step: 'warm-rules' }],
  };
}

/** A startupProbe (exec) that gives up during WAL replay: high. Journal in `short-iso`. */
export function startupProbeKill(): Scenario {
  return {
    name: 'startup-probe-kill',
    start: START,
    durationSeconds: 90,
    pods: [
      {
        namespace: 'data',
        name: 'ledger-0',
        node: 'worker-2',
        owner: { kind: 'StatefulSet', name: 'ledger' },
        labels: { app: 'ledger', 'statefulset.kubernetes.io/pod-name': 'ledger-0' },
        containers: [
          {
            name: 'postgres',
            image: 'docker.io/library/postgres:16.4',
            startupProbe: { exec: { command: ['/bin/sh', '-c', 'pg_isready -h 127.0.0.1 -p 5432'] }, periodSeconds: 10, failureThreshold: 6 },
            livenessProbe: { exec: { command: ['/bin/sh', '-c', 'pg_isready -h 127.0.0.1 -p 5432'] }, periodSeconds: 10 },
            incarnations: [
              {
                log: [
                  { at: 0.1, text: '2026-10-02 06:30:02.141 UTC [1] LOG:  starting PostgreSQL 16.4 on x86_64-pc-linux-gnu', stream: 'stderr' },
                  { at: 0.4, text: '2026-10-02 06:30:02.450 UTC [27] LOG:  database system was interrupted; last known up at 2026-10-02 06:12:41 UTC', stream: 'stderr', step: 'recovery' },
                  { at: 1.2, text: '2026-10-02 06:30:03.262 UTC [27] LOG:  redo starts at 3A/1F000028', stream: 'stderr', step: 'wal-replay' },
                  { at: 40, text: '2026-10-02 06:30:42.102 UTC [27] LOG:  redo in progress, elapsed time: 38.90 s, current LSN: 3C/8A2B1C40', stream: 'stderr' },
                ],
                respondsAfter: 150,
                failure: 'status',
                failureOutput: '127.0.0.1:5432 - rejecting connections',
                sigterm: { exitAfter: 0.4, exitCode: 0, log: [{ at: 0.01, text: '2026-10-02 06:31:03.019 UTC [1] LOG:  received fast shutdown request', stream: 'stderr' }] },
              },
            ],
          },
        ],
      },
    ],
    bundle: { kubelet: 'short-iso' },
    expect: [{ pod: 'ledger-0', container: 'postgres', restartCount: 0, cause: 'startup_probe', confidence: 'high', step: 'wal-replay' }],
  };
}

/** OOMKilled (137, reason OOMKilled, no probe failures); a chatty app whose log rotates: high. */
export function oomKilled(): Scenario {
  const p = rs('inventory', '7d5f8b9c6', 'r5m2j', 'shop');
  const chatty = steady(2, 38, 0.05, (i) => json('debug', 'cached product', `,"sku":"SKU-${100000 + i}","bytes":${4096 + (i % 97) * 31}`));
  return {
    name: 'oom-killed',
    start: START,
    durationSeconds: 120,
    pods: [
      {
        ...p,
        node: 'worker-4',
        containers: [
          {
            name: 'inventory',
            image: 'ghcr.io/acme/inventory:4.1.0',
            livenessProbe: { httpGet: { path: '/livez', port: 8080 }, periodSeconds: 10 },
            incarnations: [
              { log: [{ at: 0.2, text: json('info', 'inventory starting') }, { at: 1.1, text: json('info', 'warming product cache', ',"products":2400000'), step: 'warm-cache' }, ...chatty], end: { kind: 'oom', at: 38.5 } },
              { log: [{ at: 0.2, text: json('info', 'inventory starting') }, { at: 1, text: json('info', 'cache warm-up skipped (lazy mode)') }, { at: 1.3, text: json('info', 'listening on :8080'), ready: true }] },
            ],
          },
        ],
      },
    ],
    bundle: { rotateBytes: 40 * 1024 },
    expect: [{ pod: p.name, container: 'inventory', restartCount: 0, cause: 'oom_killed', confidence: 'high', step: 'warm-cache' }],
  };
}

/** Evicted under node memory pressure: pod reason Evicted, Evicted event, `Stopping container`: high. */
export function evicted(): Scenario {
  const p = rs('report-builder', '59c8d7f6b', 'w2v8c', 'analytics');
  return {
    name: 'evicted',
    start: START,
    durationSeconds: 180,
    pods: [
      {
        ...p,
        node: 'worker-6',
        end: { kind: 'evicted', at: 120, resource: 'memory' },
        containers: [
          {
            name: 'builder',
            image: 'ghcr.io/acme/report-builder:0.9.3',
            incarnations: [{ log: [{ at: 0.5, text: json('info', 'report builder ready'), ready: true }, ...steady(10, 170, 10, (i) => json('info', 'rendered report', `,"id":${i}`))], sigterm: { exitAfter: 0.5, log: [{ at: 0.02, text: json('info', 'SIGTERM: flushing partial reports') }] } }],
          },
        ],
      },
    ],
    expect: [{ pod: p.name, container: 'builder', restartCount: 0, cause: 'evicted', confidence: 'high', step: null }],
  };
}

/** Preempted by a higher-priority pod; ignores SIGTERM (137 after 30 s); pod gone; events.k8s.io/v1: high. */
export function preempted(): Scenario {
  const p = rs('batch-scorer', '77b6c5d4f', 'k9p3s', 'ml');
  return {
    name: 'preempted',
    start: START,
    durationSeconds: 150,
    pods: [
      {
        ...p,
        node: 'gpu-node-3',
        end: { kind: 'preempted', at: 90, preemptorUid: '0f5e2a71-3c4b-4d8e-9a6f-1b2c3d4e5f60' },
        containers: [{ name: 'scorer', image: 'ghcr.io/acme/batch-scorer:3.2.0', incarnations: [{ log: steady(1, 140, 7, (i) => json('info', 'scored batch', `,"batch":${i}`)), sigterm: { ignore: true } }] }],
      },
    ],
    bundle: { events: 'events.k8s.io' },
    expect: [{ pod: p.name, container: 'scorer', restartCount: 0, cause: 'preempted', confidence: 'high', step: null }],
  };
}

/** Graceful node shutdown; watch-stream events: high. */
export function nodeShutdown(): Scenario {
  const p = rs('checkout', '8c7d6e5f4', 'h6t9b', 'shop');
  return {
    name: 'node-shutdown',
    start: START,
    durationSeconds: 240,
    pods: [
      {
        ...p,
        node: 'worker-7',
        end: { kind: 'node_shutdown', at: 200, gracePeriodSeconds: 20 },
        containers: [{ name: 'checkout', image: 'ghcr.io/acme/checkout:5.0.2', livenessProbe: { httpGet: { path: '/livez', port: 8080 } }, incarnations: [{ log: [{ at: 0.4, text: json('info', 'checkout ready'), ready: true }], sigterm: { exitAfter: 1.2, log: [{ at: 0.01, text: json('info', 'draining connections') }] } }] }],
      },
    ],
    bundle: { events: 'watch' },
    expect: [{ pod: p.name, container: 'checkout', restartCount: 0, cause: 'node_shutdown', confidence: 'high', step: null }],
  };
}

/** The application exits 1 after an error line, three times (crash loop, no kill decision). Journal `-o cat`. */
export function appExit(): Scenario {
  const p = rs('orders', '6d5c4b3a2', 'n4f7d', 'shop');
  const inc: IncarnationDesc = {
    log: [
      { at: 0.2, text: json('info', 'orders starting') },
      { at: 0.6, text: json('info', 'connecting to database', ',"host":"postgres.shop.svc:5432"'), step: 'db-connect' },
      { at: 5.6, text: json('error', 'could not connect to database: dial tcp 10.96.14.2:5432: connect: connection refused'), stream: 'stderr' },
      { at: 5.61, text: 'panic: database unavailable', stream: 'stderr' },
    ],
    end: { kind: 'exit', at: 5.7, exitCode: 1 },
  };
  return {
    name: 'app-exit',
    start: START,
    durationSeconds: 80,
    pods: [{ ...p, node: 'worker-1', containers: [{ name: 'orders', image: 'ghcr.io/acme/orders:2.3.1', livenessProbe: { httpGet: { path: '/livez', port: 8080 }, initialDelaySeconds: 30 }, incarnations: [inc] }] }],
    bundle: { kubelet: 'cat' },
    // #0: log deleted, no status, but the journal (PLEG death + back-off line, no kill decision): medium;
    // #1: its log: medium; #2: lastState: high.
    expect: [
      { pod: p.name, container: 'orders', restartCount: 0, cause: 'app_exit', confidence: 'medium' },
      { pod: p.name, container: 'orders', restartCount: 1, cause: 'app_exit', confidence: 'medium', step: 'db-connect' },
      { pod: p.name, container: 'orders', restartCount: 2, cause: 'app_exit', confidence: 'high', step: 'db-connect' },
    ],
  };
}

/**
 * Stopped by the API: a rollout deletes `web` (143, pod gone), and `kubectl delete` stops `cache` whose
 * finalizer keeps the pod visible (exits 0 `Completed`). `Stopping container` events: high.
 */
export function stoppedByApi(): Scenario {
  const web = rs('web', '5b4c3d2e1', 'p8s6l', 'shop');
  return {
    name: 'stopped-by-api',
    start: START,
    durationSeconds: 150,
    pods: [
      { ...web, node: 'worker-1', end: { kind: 'deleted', at: 100 }, containers: [{ name: 'web', image: 'ghcr.io/acme/web:7.1.0', incarnations: [{ log: [{ at: 0.5, text: json('info', 'web ready'), ready: true }] }] }] },
      {
        namespace: 'shop',
        name: 'cache-0',
        node: 'worker-2',
        owner: { kind: 'StatefulSet', name: 'cache' },
        labels: { app: 'cache' },
        finalizers: ['shop.acme.io/snapshot'],
        end: { kind: 'deleted', at: 110 },
        containers: [{ name: 'cache', image: 'docker.io/library/redis:7.4', incarnations: [{ log: [{ at: 0.1, text: '1:M 02 Oct 2026 06:30:02.117 * Ready to accept connections tcp', ready: true }], sigterm: { exitAfter: 0.8, exitCode: 0, log: [{ at: 0.01, text: '1:signal-handler (1790923402) Received SIGTERM scheduling shutdown...' }] } }] }],
      },
    ],
    expect: [
      { pod: web.name, container: 'web', restartCount: 0, cause: 'stopped', confidence: 'high', step: null },
      { pod: 'cache-0', container: 'cache', restartCount: 0, cause: 'stopped', confidence: 'high', step: null },
    ],
  };
}

/** Readiness failures only, then the app exits by itself: must never be blamed on a probe. */
export function readinessOnly(): Scenario {
  const p = rs('recommendations', '4e3d2c1b0', 'j5q8v', 'shop');
  return {
    name: 'readiness-only',
    start: START,
    durationSeconds: 120,
    pods: [
      {
        ...p,
        node: 'worker-8',
        containers: [
          {
            name: 'recs',
            image: 'ghcr.io/acme/recommendations:1.0.7',
            readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 5 },
            incarnations: [
              {
                log: [{ at: 0.3, text: json('info', 'loading model', ',"size_mb":2100'), step: 'load-model' }, { at: 60, text: json('error', 'model checksum mismatch'), stream: 'stderr' }],
                readyAfter: null,
                readinessFailure: 'status',
                readinessOutput: 'HTTP probe failed with statuscode: 503\nbody: {"status":"loading"}',
                end: { kind: 'exit', at: 61, exitCode: 2 },
              },
              { log: [{ at: 0.3, text: json('info', 'loading model', ',"size_mb":2100'), step: 'load-model' }], readyAfter: null, readinessFailure: 'status' },
            ],
          },
        ],
      },
    ],
    expect: [{ pod: p.name, container: 'recs', restartCount: 0, cause: 'app_exit', confidence: 'high', step: 'load-model' }],
  };
}

/** Two containers: the envoy sidecar hangs and is killed by its liveness probe; the app is never touched. */
export function sidecarKilled(): Scenario {
  const p = rs('payments', '9a8b7c6d5', 'c3x7m', 'shop', { 'security.istio.io/tlsMode': 'istio' });
  return {
    name: 'sidecar-killed',
    start: START,
    durationSeconds: 150,
    pods: [
      {
        ...p,
        node: 'worker-2',
        containers: [
          { name: 'payments', image: 'ghcr.io/acme/payments:3.3.0', livenessProbe: { httpGet: { path: '/livez', port: 8080 } }, incarnations: [{ log: [{ at: 0.5, text: json('info', 'payments ready'), ready: true }] }] },
          {
            name: 'istio-proxy',
            image: 'docker.io/istio/proxyv2:1.23.2',
            livenessProbe: { httpGet: { path: '/healthz/ready', port: 15021 }, periodSeconds: 10, failureThreshold: 3 },
            incarnations: [
              { log: [{ at: 0.2, text: '2026-10-02T06:30:02.101Z\tinfo\tEnvoy proxy is ready', ready: true }, { at: 58, text: '2026-10-02T06:31:00.002Z\twarning\tenvoy main thread blocked for 2001ms' }], hangsAt: 60, failure: 'timeout' },
              { log: [{ at: 0.2, text: 'Envoy proxy is ready', ready: true }] },
            ],
          },
        ],
      },
    ],
    expect: [{ pod: p.name, container: 'istio-proxy', restartCount: 0, cause: 'liveness_probe', confidence: 'high', step: null }],
  };
}

/** A long liveness crash loop: logs of old incarnations are gone (kubelet keeps two) and 4.log was lost too. */
export function missingOldLogs(): Scenario {
  const p = rs('catalog-sync', '3f2e1d0c9', 'b8n4r', 'shop');
  return {
    name: 'missing-old-logs',
    start: START,
    durationSeconds: 700,
    pods: [
      {
        ...p,
        node: 'worker-3',
        containers: [
          {
            name: 'sync',
            image: 'ghcr.io/acme/catalog-sync:0.4.0',
            livenessProbe: { httpGet: { path: '/livez', port: 8080 }, periodSeconds: 5, failureThreshold: 2 },
            missingLogs: [4],
            incarnations: [{ log: [{ at: 0.3, text: json('info', 'downloading feed'), step: 'download-feed' }], respondsAfter: 60, failure: 'refused' }],
          },
        ],
      },
    ],
    expect: [
      { pod: p.name, container: 'sync', restartCount: 0, cause: 'liveness_probe', confidence: 'high', step: null },
      { pod: p.name, container: 'sync', restartCount: 5, cause: 'liveness_probe', confidence: 'high', step: 'download-feed' },
    ],
  };
}

/** Only pods.json: a 137 `Error` in lastState and nothing else (Events expired, no journal, no logs): low. */
export function lowConfidence(): Scenario {
  const p = rs('legacy-api', '2a1b0c9d8', 't7y5u', 'shop');
  return {
    name: 'low-confidence',
    start: START,
    durationSeconds: 120,
    pods: [
      {
        ...p,
        node: 'worker-9',
        containers: [
          {
            name: 'api',
            image: 'ghcr.io/acme/legacy-api:1.0.0',
            livenessProbe: { httpGet: { path: '/status', port: 8080 }, periodSeconds: 10, failureThreshold: 3 },
            incarnations: [{ log: [{ at: 1, text: 'starting' }], respondsAfter: null, failure: 'timeout', sigterm: { ignore: true } }, { respondsAfter: 0 }],
          },
        ],
      },
    ],
    bundle: { events: 'none', kubelet: 'none', logs: false },
    expect: [{ pod: p.name, container: 'api', restartCount: 0, cause: 'unknown', confidence: 'low', step: null }],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Second example: non-probe causes side by side

/** `shop` namespace: one OOM kill, one app exit crash loop, one eviction (and a healthy pod). */
export function shopInventoryMixed(): Scenario {
  const oom = oomKilled().pods[0];
  const exit = appExit().pods[0];
  const ev = evicted().pods[0];
  if (!oom || !exit || !ev) throw new Error('catalog cases changed');
  const healthy = rs('inventory', '7d5f8b9c6', 'a1s2d', 'shop');
  return {
    name: 'shop-inventory-mixed',
    start: START,
    durationSeconds: 200,
    seed: 11,
    pods: [
      oom,
      { ...healthy, node: 'worker-5', containers: [{ name: 'inventory', image: 'ghcr.io/acme/inventory:4.1.0', livenessProbe: { httpGet: { path: '/livez', port: 8080 }, periodSeconds: 10 }, incarnations: [{ log: [{ at: 0.2, text: json('info', 'inventory starting') }, { at: 1.3, text: json('info', 'listening on :8080'), ready: true }] }] }] },
      { ...exit, node: 'worker-4' },
      { ...ev, namespace: 'shop', node: 'worker-4' },
    ],
    bundle: { rotateBytes: 40 * 1024 },
  };
}

/** Every catalog case by name. */
export const CATALOG: Record<string, () => Scenario> = {
  'liveness-kill-during-init': livenessKillDuringInit,
  'liveness-kill-rate-limited': livenessKillRateLimited,
  'startup-probe-kill': startupProbeKill,
  'oom-killed': oomKilled,
  evicted,
  preempted,
  'node-shutdown': nodeShutdown,
  'app-exit': appExit,
  'stopped-by-api': stoppedByApi,
  'readiness-only': readinessOnly,
  'sidecar-killed': sidecarKilled,
  'missing-old-logs': missingOldLogs,
  'low-confidence': lowConfidence,
  'host-agent-crashloop': hostAgentCrashloop,
  'shop-inventory-mixed': shopInventoryMixed,
};
