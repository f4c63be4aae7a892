import { z } from 'zod';

/**
 * Signals are the normalized evidence the correlation core consumes. Every parser (files in the embedded
 * analyser, watches and tails in the collector) turns its raw input into these, so the core never sees a
 * source format. Times are epoch milliseconds (fractional for sub-millisecond precision): the core does
 * arithmetic on them and never reads the clock.
 */

/** Epoch milliseconds; fractions keep microseconds of CRI and klog timestamps. */
export const epochMs = z.number().finite();

/** Where a signal came from, for diagnostics and for the evidence timeline. */
export const sourceRefSchema = z.object({
  file: z.string().optional(),
  line: z.number().int().nonnegative().optional(),
});
export type SourceRef = z.infer<typeof sourceRefSchema>;

export const podRefSchema = z.object({
  namespace: z.string(),
  name: z.string(),
  uid: z.string().optional(),
});
export type PodRef = z.infer<typeof podRefSchema>;

export const probeHandlerSchema = z.enum(['http', 'tcp', 'exec', 'grpc', 'unknown']);
export type ProbeHandler = z.infer<typeof probeHandlerSchema>;

/** A probe as configured, Kubernetes defaults applied (period 10, timeout 1, failureThreshold 3, successThreshold 1, delay 0). */
export const probeSpecSchema = z.object({
  handler: probeHandlerSchema,
  periodSeconds: z.number().int().positive(),
  timeoutSeconds: z.number().int().positive(),
  failureThreshold: z.number().int().positive(),
  successThreshold: z.number().int().positive(),
  initialDelaySeconds: z.number().int().nonnegative(),
  /** Human-readable target, e.g. `GET :8080/livez`, `tcp :5432`, `exec healthcheck.sh`. */
  target: z.string().optional(),
});
export type ProbeSpec = z.infer<typeof probeSpecSchema>;

export const containerSpecSchema = z.object({
  name: z.string(),
  image: z.string().optional(),
  /** True for `initContainers` (they have no probes and run before the app containers). */
  init: z.boolean().default(false),
  /** An init container with `restartPolicy: Always` (a native sidecar, Kubernetes 1.29+): it runs beside the app containers. */
  sidecar: z.boolean().optional(),
  liveness: probeSpecSchema.optional(),
  startup: probeSpecSchema.optional(),
  readiness: probeSpecSchema.optional(),
});
export type ContainerSpec = z.infer<typeof containerSpecSchema>;

export const terminatedStateSchema = z.object({
  exitCode: z.number().int(),
  signal: z.number().int().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
  startedAt: epochMs.optional(),
  finishedAt: epochMs.optional(),
  /** Runtime id without the `containerd://` (or other) scheme. */
  containerId: z.string().optional(),
});
export type TerminatedState = z.infer<typeof terminatedStateSchema>;

export const containerStateSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('running'), startedAt: epochMs.optional() }),
  z.object({ kind: z.literal('waiting'), reason: z.string().optional(), message: z.string().optional() }),
  z.object({ kind: z.literal('terminated') }).extend(terminatedStateSchema.shape),
  z.object({ kind: z.literal('unknown') }),
]);
export type ContainerState = z.infer<typeof containerStateSchema>;

export const containerStatusSchema = z.object({
  name: z.string(),
  restartCount: z.number().int().nonnegative(),
  /** Id of the current incarnation, scheme stripped. */
  containerId: z.string().optional(),
  image: z.string().optional(),
  ready: z.boolean().default(false),
  started: z.boolean().optional(),
  state: containerStateSchema,
  /** Only the last termination: Kubernetes keeps no older ones. */
  lastTerminated: terminatedStateSchema.optional(),
});
export type ContainerStatus = z.infer<typeof containerStatusSchema>;

export const ownerRefSchema = z.object({ kind: z.string(), name: z.string() });
export type OwnerRef = z.infer<typeof ownerRefSchema>;

export const podSnapshotSchema = z.object({
  namespace: z.string(),
  name: z.string(),
  uid: z.string(),
  nodeName: z.string().optional(),
  labels: z.record(z.string(), z.string()).default({}),
  owners: z.array(ownerRefSchema).default([]),
  phase: z.string().optional(),
  /** Pod-level reason, e.g. `Evicted`, `Preempting`, `NodeShutdown`, `Terminated`. */
  reason: z.string().optional(),
  message: z.string().optional(),
  startTime: epochMs.optional(),
  deletionTimestamp: epochMs.optional(),
  containers: z.array(containerSpecSchema).default([]),
  statuses: z.array(containerStatusSchema).default([]),
  initStatuses: z.array(containerStatusSchema).default([]),
  /** Pod condition `Ready` / `ContainersReady` transitions, when present. */
  readySince: epochMs.optional(),
});
export type PodSnapshot = z.infer<typeof podSnapshotSchema>;

/** A pod object as last seen (from `kubectl get pods -o json`, or a watch update). */
export const podSignalSchema = z.object({
  kind: z.literal('pod'),
  /** When the snapshot was observed, if known (watch time); absent for a static dump. */
  observedAt: epochMs.optional(),
  resourceVersion: z.string().optional(),
  pod: podSnapshotSchema,
  source: sourceRefSchema.optional(),
});
export type PodSignal = z.infer<typeof podSignalSchema>;

export const involvedObjectSchema = z.object({
  kind: z.string(),
  namespace: z.string().optional(),
  name: z.string(),
  uid: z.string().optional(),
  fieldPath: z.string().optional(),
});

/**
 * One Kubernetes Event object (core/v1 or events.k8s.io/v1), normalized. Aggregated events keep their
 * `count`: one object may stand for many occurrences between `firstAt` and `lastAt` (second precision).
 */
export const eventSignalSchema = z.object({
  kind: z.literal('event'),
  /** The Event object's own uid (stable across aggregation updates). */
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  involved: involvedObjectSchema,
  /** Container name, from `fieldPath` `spec.containers{name}` or `spec.initContainers{name}`. */
  container: z.string().optional(),
  reason: z.string(),
  message: z.string().default(''),
  type: z.string().default('Normal'),
  count: z.number().int().positive().default(1),
  firstAt: epochMs.optional(),
  lastAt: epochMs,
  reportingComponent: z.string().optional(),
  host: z.string().optional(),
  source: sourceRefSchema.optional(),
});
export type EventSignal = z.infer<typeof eventSignalSchema>;

export const probeTypeSchema = z.enum(['liveness', 'readiness', 'startup']);
export type ProbeType = z.infer<typeof probeTypeSchema>;

export const kubeletActionSchema = z.enum([
  /** `"Probe failed"` with probeResult failure. */
  'probe_failed',
  /** `"Probe errored"`. */
  'probe_errored',
  /** `"SyncLoop (probe)" ... status="unhealthy"`. */
  'probe_unhealthy',
  /** `"SyncLoop (probe)" probe="readiness" status="ready"` or `probe="startup" status="started"` (pod-level: no container). */
  'probe_ready',
  /** `"PreStop hook not completed in grace period"` (kuberuntime_container.go `executePreStopHook`). */
  'prestop_timeout',
  /** `"Message for Container of pod" containerMessage="Container X failed liveness probe, will be restarted"`. */
  'kill_decision',
  /** `"Killing container with a grace period"`. */
  'killing',
  /** PLEG `ContainerDied`. */
  'container_died',
  /** PLEG `ContainerStarted`. */
  'container_started',
  /** `"Error syncing pod, skipping"` with CrashLoopBackOff. */
  'crash_loop_back_off',
  /** Eviction manager: `"Eviction manager: pod is evicted successfully"` and similar. */
  'evicted',
  /** Node shutdown manager killing pods. */
  'node_shutdown',
  /** Kubelet-observed OOM (`"OOM"` lines, `System OOM encountered`). */
  'oom',
]);
export type KubeletAction = z.infer<typeof kubeletActionSchema>;

/** One meaningful kubelet journal entry (klog line, multi-line values joined). */
export const kubeletSignalSchema = z.object({
  kind: z.literal('kubelet'),
  at: epochMs,
  host: z.string().optional(),
  action: kubeletActionSchema,
  pod: podRefSchema,
  container: z.string().optional(),
  containerId: z.string().optional(),
  probeType: probeTypeSchema.optional(),
  /** Probe output, or the kill message (`containerMessage`), as the kubelet wrote it. */
  output: z.string().optional(),
  gracePeriodSeconds: z.number().optional(),
  /** The klog message text (the quoted part), for the timeline. */
  text: z.string(),
  source: sourceRefSchema.optional(),
});
export type KubeletSignal = z.infer<typeof kubeletSignalSchema>;

/** One application log line (CRI partial chunks already joined). */
export const appLogSignalSchema = z.object({
  kind: z.literal('app_log'),
  at: epochMs,
  pod: podRefSchema.extend({ uid: z.string() }),
  container: z.string(),
  /** The incarnation: `N` in `<container>/N.log`. */
  restartCount: z.number().int().nonnegative(),
  stream: z.enum(['stdout', 'stderr']),
  text: z.string(),
  source: sourceRefSchema.optional(),
});
export type AppLogSignal = z.infer<typeof appLogSignalSchema>;

/**
 * One kill by the kernel's OOM killer (`journalctl -k`, `dmesg -T`; mm/oom_kill.c `__oom_kill_process` and
 * `dump_oom_summary`, mm/memcontrol.c `mem_cgroup_print_oom_meminfo`). The kubelet never logs a decision for
 * these: the cgroup path is what ties the kill to a pod (uid) and container (runtime id).
 */
export const kernelOomSignalSchema = z.object({
  kind: z.literal('kernel_oom'),
  at: epochMs,
  host: z.string().optional(),
  /** Pod uid from the cgroup path (dashes restored when the systemd driver wrote underscores). */
  podUid: z.string().optional(),
  /** Runtime container id from the cgroup path (`cri-containerd-<id>.scope`, `crio-<id>.scope`, `<id>`). */
  containerId: z.string().optional(),
  /** `task_memcg`: the cgroup of the killed task. */
  cgroup: z.string().optional(),
  /** `oom_memcg`: the cgroup whose limit was hit (a pod's or a container's). */
  limitCgroup: z.string().optional(),
  /** `CONSTRAINT_MEMCG` (a cgroup limit) or `CONSTRAINT_NONE` (the node ran out of memory), ... */
  constraint: z.string().optional(),
  /** The killed process's command name (`comm`, at most 15 characters). */
  process: z.string(),
  pid: z.number().int().nonnegative(),
  /** `limit` of the `memory: usage ..kB, limit ..kB` line printed with the kill, in bytes. */
  memoryLimitBytes: z.number().nonnegative().optional(),
  memoryUsageBytes: z.number().nonnegative().optional(),
  /** `anon-rss` of the killed process, in bytes. */
  anonRssBytes: z.number().nonnegative().optional(),
  /** The kernel's kill line, for the timeline. */
  text: z.string(),
  source: sourceRefSchema.optional(),
});
export type KernelOomSignal = z.infer<typeof kernelOomSignalSchema>;

export const signalSchema = z.discriminatedUnion('kind', [
  podSignalSchema,
  eventSignalSchema,
  kubeletSignalSchema,
  appLogSignalSchema,
  kernelOomSignalSchema,
]);
export type Signal = z.infer<typeof signalSchema>;
