/**
 * Scenario descriptions for the kubelet simulator. A scenario says what the cluster looked like (pods, containers,
 * probes) and what each application incarnation did (log lines, when it answers probes, how it ends); the
 * simulator decides everything the kubelet, the API server and the runtime would have done and writes the bundle.
 * All offsets are in seconds; fractions are allowed.
 */
import type { Cause, Confidence, DecidedBy, StepProfile } from '@killtrace/schemas';

/** A probe exactly as written in a pod spec; the simulator fills in the API server's defaults. */
export interface ProbeDesc {
  httpGet?: { path: string; port: number; scheme?: 'HTTP' | 'HTTPS' };
  tcpSocket?: { port: number };
  exec?: { command: string[] };
  grpc?: { port: number; service?: string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
}

/** One application log line, `at` seconds after the container started. */
export interface LogLineDesc {
  at: number;
  text: string;
  stream?: 'stdout' | 'stderr';
  /** Ground truth only: this line starts the named init step. */
  step?: string;
  /** Ground truth only: this line ends the step in progress. */
  stepEnd?: boolean;
  /** Ground truth only: this line means init is complete. */
  ready?: boolean;
}

/**
 * How a failing probe fails. `timeout` takes `timeoutSeconds` and reports a deadline; `refused` is immediate;
 * `status` is an HTTP status (or gRPC NOT_SERVING, or a non-zero exec exit).
 */
export type ProbeFailureMode = 'timeout' | 'refused' | 'status';

/** What the application does when it receives SIGTERM. */
export type SigtermDesc =
  | { exitAfter: number; exitCode?: number; log?: LogLineDesc[] }
  | { ignore: true; log?: LogLineDesc[] };

/** How an incarnation ends by itself (without the kubelet or the API deciding). */
export type SelfEndDesc =
  | { kind: 'exit'; at: number; exitCode: number }
  | { kind: 'oom'; at: number }
  /** The kernel OOM killer SIGKILLs a child the runtime does not report as OOMKilled: exit 137 `Error`, no kubelet line. */
  | { kind: 'sigkill'; at: number };

/** What one incarnation of a container does. */
export interface IncarnationDesc {
  log?: LogLineDesc[];
  /**
   * Seconds after start from which liveness and startup probes succeed; `null` = never. Default 0.
   */
  respondsAfter?: number | null;
  /** Seconds after start from which the application stops answering all probes again (a hang). */
  hangsAt?: number;
  /** Seconds after start from which readiness succeeds; `null` = never. Default: `respondsAfter`. */
  readyAfter?: number | null;
  failure?: ProbeFailureMode;
  /** Probe output when liveness/startup fails (overrides the one derived from the handler and `failure`). */
  failureOutput?: string;
  readinessFailure?: ProbeFailureMode;
  readinessOutput?: string;
  end?: SelfEndDesc;
  /** Default: exits 143 after 0.2 s. */
  sigterm?: SigtermDesc;
  /** This description is used for this many consecutive incarnations (default 1). */
  repeat?: number;
}

export interface ContainerDesc {
  name: string;
  image: string;
  /** A native sidecar: an init container with `restartPolicy: Always` (Kubernetes 1.29+). */
  sidecar?: boolean;
  /** Seconds its `preStop` hook runs before it returns (the kubelet waits for it up to the grace period). */
  preStopSeconds?: number;
  livenessProbe?: ProbeDesc;
  readinessProbe?: ProbeDesc;
  startupProbe?: ProbeDesc;
  /** Incarnations in order; the last one's behaviour is reused if the scenario runs longer. */
  incarnations: IncarnationDesc[];
  /** Incarnations whose log files are missing from the bundle (lost, collected too late). */
  missingLogs?: number[];
  /** Seconds the first image pull takes; 0 = already present on the node. Default 0. */
  pullSeconds?: number;
  ports?: number[];
}

/** Something outside the containers ending the pod; `at` is seconds after the scenario start. */
export type PodEndDesc =
  | { kind: 'evicted'; at: number; resource?: 'memory' | 'ephemeral-storage' }
  | { kind: 'preempted'; at: number; preemptorUid?: string }
  | { kind: 'deleted'; at: number }
  | { kind: 'node_shutdown'; at: number; gracePeriodSeconds?: number };

export interface PodDesc {
  namespace: string;
  name: string;
  uid?: string;
  node: string;
  ip?: string;
  /** The pod uses the node's network: its IP is the node's. */
  hostNetwork?: boolean;
  labels?: Record<string, string>;
  owner?: { kind: 'DaemonSet' | 'ReplicaSet' | 'StatefulSet' | 'Job'; name: string; uid?: string };
  /** Seconds after the scenario start. Default 0. */
  createdAt?: number;
  terminationGracePeriodSeconds?: number;
  /** With finalizers a deleted or preempted pod stays in `pods.json` (with `deletionTimestamp`). */
  finalizers?: string[];
  containers: ContainerDesc[];
  end?: PodEndDesc;
}

export type EventsFlavour = 'core' | 'events.k8s.io' | 'watch' | 'none';
export type JournalFormat = 'short-precise' | 'short-iso' | 'short' | 'cat';

/** What the operator collected, and how. */
export interface BundleDesc {
  /** Default `core`. */
  events?: EventsFlavour;
  /** Default `short-precise`; `none` = no kubelet journal collected. */
  kubelet?: JournalFormat | 'none';
  /** Default true. */
  pods?: boolean;
  /** Default true. */
  logs?: boolean;
  /** Events older than this (since their last update) are gone when collected. Default 3600 (API server). */
  eventTtlSeconds?: number;
  /** Rotate a log file once it exceeds this many bytes (kubelet `containerLogMaxSize`). Default: never. */
  rotateBytes?: number;
  /** CRI lines longer than this are split into `P` chunks. Default 16384 (containerd). */
  criMaxLineBytes?: number;
  /** Unrelated kubelet journal lines about other pods. Default true. */
  noise?: boolean;
}

export interface Scenario {
  name: string;
  /** ISO time of offset 0. */
  start: string;
  /** When the bundle is collected, seconds after `start`. */
  durationSeconds: number;
  seed?: number;
  pods: PodDesc[];
  bundle?: BundleDesc;
  /** What a correct analyser must conclude for the terminations this scenario is about (documentation for tests). */
  expect?: ExpectedRecord[];
  /** Step profiles the operator passes with `--profile` when analysing this bundle. */
  profiles?: StepProfile[];
}

export interface ExpectedRecord {
  pod: string;
  container: string;
  restartCount: number;
  cause: Cause;
  confidence: Confidence;
  /** The init step in progress, when the bundle lets an analyser know it. */
  step?: string | null;
  /** The record's `killtrace.exit_code` (null when no status keeps it). */
  exitCode?: number | null;
  duringInit?: boolean;
  decidedBy?: DecidedBy;
  phase?: 'initializing' | 'running' | 'unknown';
  countSource?: string;
  kind?: 'main' | 'init' | 'sidecar';
  /** `killtrace.kill_event.count`. */
  killEventCount?: number;
  messageIncludes?: string;
  messageExcludes?: string;
  /** `killtrace.prestop_outlived_grace`. */
  preStopOutlivedGrace?: boolean;
}

/** What really happened to one container incarnation that ended (the answer the analyser should find). */
export interface TerminationTruth {
  namespace: string;
  pod: string;
  podUid: string;
  node: string;
  container: string;
  /** The incarnation (`N` in `N.log`, the `restartCount` it ran with). */
  restartCount: number;
  containerId: string;
  cause: Cause;
  decidedBy: DecidedBy;
  probeType: 'liveness' | 'startup' | null;
  startedAt: string;
  /** Kill decision (kubelet, API or kernel), ISO with milliseconds; null when the application exited by itself. */
  killedAt: string | null;
  finishedAt: string;
  exitCode: number;
  reason: 'Error' | 'Completed' | 'OOMKilled';
  /** The step in progress at the kill decision (or at the end), null when none. */
  step: string | null;
  stepStartedAt: string | null;
  completedSteps: string[];
  duringInit: boolean;
  /** Liveness/startup failures in the run that led to the kill (0 otherwise). */
  probeFailures: number;
  firstFailureAt: string | null;
  lastFailureMessage: string | null;
  lastLogLine: string | null;
  lastLogLineAt: string | null;
  /** What the collected bundle actually shows about this termination. */
  evidence: {
    /** A `Killing` (or `Preempted`/`Evicted`) event object whose occurrence at this kill survived rate limiting and TTL. */
    killEvent: boolean;
    /** Unhealthy liveness/startup occurrences of this run that were written (not dropped). */
    unhealthyEvents: number;
    /** The kubelet journal holds the kill decision (or the eviction/shutdown line). */
    kubeletKill: boolean;
    /**
     * The journal holds this death's PLEG `ContainerDied` line followed by the back-off line naming the container
     * (what ties a dead container to its name when its log file is gone), and no kill decision.
     */
    kubeletDeath: boolean;
    /** Where pods.json shows this termination: `state` (final), `lastState` (the last one), or nowhere. */
    podStatus: 'state' | 'lastState' | 'none';
    /** The incarnation's log file is in the bundle. */
    logFile: boolean;
  };
  /** The confidence a correct analyser should reach from `evidence`. */
  expectedConfidence: Confidence;
  /** `cause`, or `unknown` when the bundle cannot tell (`expectedConfidence` low). */
  expectedCause: Cause;
}
