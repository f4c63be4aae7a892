/**
 * A deterministic kubelet simulator: from a scenario description it decides what the kubelet, the scheduler, the
 * API server, the kernel and the runtime would have done, and keeps everything an operator could later collect
 * (Events, pod status, kubelet journal, CRI log files) plus the ground truth of every termination.
 * `simulate` is pure (no I/O); `renderBundle` turns a simulation into files; `writeBundle` writes them.
 */
import type { Cause, Confidence, DecidedBy } from '@killtrace/schemas';
import { EventRecorder, type EventEmission, type InvolvedObject, type StoredEvent } from './event-recorder.js';
import {
  US_PER_S,
  goDuration,
  hashString,
  hex,
  isoMillis,
  isoSeconds,
  parseIso,
  rng,
  uuid,
} from './format.js';
import type {
  ContainerDesc,
  IncarnationDesc,
  LogLineDesc,
  PodDesc,
  ProbeDesc,
  ProbeFailureMode,
  Scenario,
  TerminationTruth,
} from './types.js';

const S = US_PER_S;
export const BACKOFF_INITIAL_S = 10;
export const BACKOFF_MAX_S = 300;
/** The kubelet resets the back-off when a container ran for twice the cap. */
export const BACKOFF_RESET_S = 600;
const PLEG_RELIST_US = 1 * S;

/** One klog entry of the kubelet journal. */
export interface JournalEntry {
  at: number;
  severity: 'I' | 'W' | 'E';
  site: string;
  /** The quoted message, or a whole unstructured line when `raw`. */
  msg: string;
  kv: Array<[string, unknown]>;
  raw?: boolean;
  /** For ground truth: which pod/container/incarnation this entry is about. */
  tag?: string;
}

export interface CriLine {
  at: number;
  ns: number;
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface LogFileSim {
  /** `<ns>_<pod>_<uid>/<container>` */
  dir: string;
  restartCount: number;
  startedAt: number;
  /** Finish, or the collection time when still running. */
  endedAt: number;
  lines: CriLine[];
  /** False when the kubelet already deleted it (older than the previous incarnation) or the scenario lost it. */
  kept: boolean;
}

export interface Simulation {
  scenario: Scenario;
  startUs: number;
  endUs: number;
  truth: TerminationTruth[];
  /** Event objects present at collection (after TTL), in creation order. */
  events: StoredEvent[];
  /** Every object ever written (for watch output), before TTL. */
  allEvents: StoredEvent[];
  pods: Array<Record<string, unknown>>;
  /** Kubelet journal per node, sorted by time. */
  journals: Map<string, JournalEntry[]>;
  logs: LogFileSim[];
  /** kubelet pid per node. */
  pids: Map<string, number>;
}

interface ProbeFailure {
  at: number;
  output: string;
}

interface Termination {
  restartCount: number;
  containerId: string;
  startedAt: number;
  killedAt: number | null;
  finishedAt: number;
  exitCode: number;
  reason: 'Error' | 'Completed' | 'OOMKilled';
  cause: Cause;
  decidedBy: DecidedBy;
  probeType: 'liveness' | 'startup' | null;
  failures: ProbeFailure[];
  lines: Array<CriLine & { desc?: LogLineDesc }>;
  desc: IncarnationDesc;
  killEmission?: EventEmission;
  unhealthyEmissions: EventEmission[];
  kubeletKill: boolean;
  /** The PLEG death line was followed by a back-off line naming the container (before collection). */
  backOffLogged?: boolean;
}

interface ContainerRun {
  desc: ContainerDesc;
  terminations: Termination[];
  /** The running incarnation at collection, if any. */
  running?: { restartCount: number; containerId: string; startedAt: number; ready: boolean; started: boolean };
  /** Back-off in effect at collection when waiting. */
  waitingBackoffS?: number;
  readyTransitions: Array<{ at: number; ready: boolean }>;
}

interface PodRun {
  desc: PodDesc;
  uid: string;
  ip: string;
  hostIP: string;
  createdAt: number;
  scheduledAt: number;
  startTime: number;
  containers: ContainerRun[];
  /** Pod-level end actually applied. */
  endedAt?: number;
  endKind?: NonNullable<PodDesc['end']>['kind'];
  evictionMessage?: string;
  deletionAt?: number;
  /** The API object is gone (deleted, no finalizers). */
  removed: boolean;
  rv: string;
}

const DEFAULT_PROBE = { periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1, initialDelaySeconds: 0 };

/** A probe with the API server's defaults applied, as `kubectl get -o json` returns it. */
export function probeAsApi(p: ProbeDesc): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (p.httpGet) out.httpGet = { path: p.httpGet.path, port: p.httpGet.port, scheme: p.httpGet.scheme ?? 'HTTP' };
  if (p.tcpSocket) out.tcpSocket = { port: p.tcpSocket.port };
  if (p.exec) out.exec = { command: p.exec.command };
  if (p.grpc) out.grpc = { port: p.grpc.port, service: p.grpc.service ?? '' };
  if (p.initialDelaySeconds) out.initialDelaySeconds = p.initialDelaySeconds;
  out.timeoutSeconds = p.timeoutSeconds ?? DEFAULT_PROBE.timeoutSeconds;
  out.periodSeconds = p.periodSeconds ?? DEFAULT_PROBE.periodSeconds;
  out.successThreshold = p.successThreshold ?? DEFAULT_PROBE.successThreshold;
  out.failureThreshold = p.failureThreshold ?? DEFAULT_PROBE.failureThreshold;
  return out;
}

function probeNums(p: ProbeDesc) {
  return {
    period: p.periodSeconds ?? DEFAULT_PROBE.periodSeconds,
    timeout: p.timeoutSeconds ?? DEFAULT_PROBE.timeoutSeconds,
    failureThreshold: p.failureThreshold ?? DEFAULT_PROBE.failureThreshold,
    successThreshold: p.successThreshold ?? DEFAULT_PROBE.successThreshold,
    initialDelay: p.initialDelaySeconds ?? DEFAULT_PROBE.initialDelaySeconds,
  };
}

/** The probe output the kubelet reports for a failure, by handler and failure mode. */
export function probeOutput(p: ProbeDesc, ip: string, mode: ProbeFailureMode): string {
  const t = p.timeoutSeconds ?? 1;
  if (p.httpGet) {
    const url = `${(p.httpGet.scheme ?? 'HTTP').toLowerCase()}://${ip}:${p.httpGet.port}${p.httpGet.path}`;
    if (mode === 'timeout') return `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`;
    if (mode === 'refused') return `Get "${url}": dial tcp ${ip}:${p.httpGet.port}: connect: connection refused`;
    return 'HTTP probe failed with statuscode: 503';
  }
  if (p.tcpSocket) {
    if (mode === 'timeout') return `dial tcp ${ip}:${p.tcpSocket.port}: i/o timeout`;
    return `dial tcp ${ip}:${p.tcpSocket.port}: connect: connection refused`;
  }
  if (p.grpc) {
    if (mode === 'timeout') return `timeout: health rpc did not complete within ${t}s`;
    if (mode === 'refused')
      return `failed to connect service "${ip}:${p.grpc.port}" within ${t}s: context deadline exceeded`;
    return 'service unhealthy (responded with "NOT_SERVING")';
  }
  const cmd = (p.exec?.command ?? []).join(' ');
  if (mode === 'timeout') return `command "${cmd}" timed out`;
  return '';
}

function probeDuration(p: ProbeDesc, mode: ProbeFailureMode): number {
  if (mode === 'timeout') return (p.timeoutSeconds ?? 1) * S;
  return mode === 'refused' ? 2_000 : 4_500;
}

function incarnationDesc(c: ContainerDesc, n: number): IncarnationDesc {
  let i = n;
  for (const d of c.incarnations) {
    const r = d.repeat ?? 1;
    if (i < r) return d;
    i -= r;
  }
  const last = c.incarnations[c.incarnations.length - 1];
  if (!last) throw new Error(`container ${c.name} has no incarnations`);
  return last;
}

function responsive(d: IncarnationDesc, off: number, kind: 'live' | 'ready'): boolean {
  const live = d.respondsAfter === undefined ? 0 : d.respondsAfter;
  const from = kind === 'ready' ? (d.readyAfter === undefined ? live : d.readyAfter) : live;
  if (from === null) return false;
  if (off < from * S) return false;
  if (d.hangsAt !== undefined && off >= d.hangsAt * S) return false;
  return true;
}

/** Expand `{{glog I file.go:12}}` and `{{iso}}` placeholders with the line's own time. */
export function expandText(text: string, at: number): string {
  if (!text.includes('{{')) return text;
  return text.replace(/\{\{(glog ([IWE]) ([^}]+)|iso)\}\}/g, (_m, _all: string, sev?: string, site?: string) => {
    if (sev && site) {
      const d = new Date(Math.floor(at / 1000));
      const p2 = (n: number) => String(n).padStart(2, '0');
      return `[${sev} ${p2(d.getUTCFullYear() % 100)}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(
        d.getUTCMinutes(),
      )}:${p2(d.getUTCSeconds())} ${site}]`;
    }
    return isoMillis(at);
  });
}

class Sim {
  readonly random: () => number;
  readonly startUs: number;
  readonly endUs: number;
  readonly emissions: EventEmission[] = [];
  readonly journals = new Map<string, JournalEntry[]>();
  readonly pids = new Map<string, number>();
  readonly logs: LogFileSim[] = [];
  readonly pods: PodRun[] = [];
  private readonly shutdownNodes = new Set<string>();
  private readonly imageIds = new Map<string, string>();

  constructor(readonly scenario: Scenario) {
    this.random = rng((scenario.seed ?? 1) ^ hashString(scenario.name));
    this.startUs = parseIso(scenario.start);
    this.endUs = this.startUs + Math.round(scenario.durationSeconds * S);
  }

  jitter(maxUs: number): number {
    return Math.floor(this.random() * maxUs);
  }

  journal(node: string, e: JournalEntry): void {
    if (e.at > this.endUs) return;
    let list = this.journals.get(node);
    if (!list) {
      list = [];
      this.journals.set(node, list);
      this.pids.set(node, 1800 + Math.floor(this.random() * 1500));
    }
    list.push(e);
  }

  emit(e: EventEmission): EventEmission {
    if (e.at <= this.endUs) this.emissions.push(e);
    return e;
  }

  imageId(image: string): string {
    let id = this.imageIds.get(image);
    if (!id) {
      const r = rng(hashString(image));
      id = `${image.replace(/:[^/:]+$/, '')}@sha256:${hex(r, 64)}`;
      this.imageIds.set(image, id);
    }
    return id;
  }

  run(): Simulation {
    this.scenario.pods.forEach((p, i) => this.runPod(p, i));
    if (this.scenario.bundle?.noise !== false) this.noise();
    const recorder = new EventRecorder(rng(hashString(`${this.scenario.name}/events`)));
    const ordered = [...this.emissions].sort((a, b) => a.at - b.at);
    for (const e of ordered) recorder.record(e);
    for (const list of this.journals.values()) list.sort((a, b) => a.at - b.at);
    const ttl = (this.scenario.bundle?.eventTtlSeconds ?? 3600) * S;
    const events = recorder.stored.filter((ev) => this.endUs - ev.lastAt <= ttl);
    const keptEvents = new Set(events);
    const truth = this.truth(keptEvents);
    return {
      scenario: this.scenario,
      startUs: this.startUs,
      endUs: this.endUs,
      truth,
      events,
      allEvents: recorder.stored,
      pods: this.pods.filter((p) => !p.removed).map((p) => this.podJson(p)),
      journals: this.journals,
      logs: this.logs,
      pids: this.pids,
    };
  }

  involved(pod: PodRun, container?: string): InvolvedObject {
    const o: InvolvedObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      name: pod.desc.name,
      namespace: pod.desc.namespace,
      uid: pod.uid,
      resourceVersion: pod.rv,
    };
    if (container) o.fieldPath = pod.desc.containers.find((c) => c.name === container)?.sidecar === true ? `spec.initContainers{${container}}` : `spec.containers{${container}}`;
    return o;
  }

  kubeletEvent(pod: PodRun, at: number, reason: string, message: string, type: 'Normal' | 'Warning', container?: string): EventEmission {
    return this.emit({
      at,
      source: { component: 'kubelet', host: pod.desc.node },
      involved: this.involved(pod, container),
      type,
      reason,
      message,
    });
  }

  podRef(pod: PodRun): string {
    return `${pod.desc.namespace}/${pod.desc.name}`;
  }

  runPod(desc: PodDesc, index: number): void {
    const uid = desc.uid ?? uuid(this.random);
    const createdAt = this.startUs + Math.round((desc.createdAt ?? 0) * S);
    const octet = (hashString(desc.node) % 200) + 10;
    const pod: PodRun = {
      desc,
      uid,
      ip: desc.ip ?? (desc.hostNetwork ? `10.20.0.${octet}` : `10.244.${octet}.${(index % 200) + 20}`),
      hostIP: desc.hostNetwork && desc.ip ? desc.ip : `10.20.0.${octet}`,
      createdAt,
      scheduledAt: createdAt + 40_000 + this.jitter(60_000),
      startTime: 0,
      containers: [],
      removed: false,
      rv: String(300000 + Math.floor(this.random() * 600000)),
    };
    pod.startTime = pod.scheduledAt + 150_000 + this.jitter(100_000);
    this.pods.push(pod);
    const ref = this.podRef(pod);

    if (desc.owner && (desc.owner.kind === 'DaemonSet' || desc.owner.kind === 'ReplicaSet')) {
      const component = desc.owner.kind === 'DaemonSet' ? 'daemonset-controller' : 'replicaset-controller';
      this.emit({
        at: createdAt,
        source: { component },
        involved: {
          apiVersion: 'apps/v1',
          kind: desc.owner.kind,
          namespace: desc.namespace,
          name: desc.owner.name,
          uid: this.ownerUid(desc),
          resourceVersion: String(100000 + (hashString(desc.owner.name) % 100000)),
        },
        type: 'Normal',
        reason: 'SuccessfulCreate',
        message: `Created pod: ${desc.name}`,
      });
    }
    this.emit({
      at: pod.scheduledAt,
      source: { component: 'default-scheduler' },
      involved: this.involved(pod),
      type: 'Normal',
      reason: 'Scheduled',
      message: `Successfully assigned ${ref} to ${desc.node}`,
      newApi: { action: 'Binding', reportingInstance: 'default-scheduler-control-plane-1' },
    });
    this.journal(desc.node, { at: pod.startTime - 100_000, severity: 'I', site: 'kubelet.go:2425', msg: 'SyncLoop ADD', kv: [['source', 'api'], ['pods', [ref]]] });

    const podEndAt = desc.end ? this.startUs + Math.round(desc.end.at * S) : undefined;
    let firstStart = pod.startTime + 600_000 + this.jitter(300_000);
    for (const c of desc.containers) {
      const run = this.runContainer(pod, c, firstStart, podEndAt);
      pod.containers.push(run);
      firstStart += 40_000 + this.jitter(30_000);
    }
    if (desc.end && podEndAt !== undefined && podEndAt <= this.endUs) this.podEnded(pod, podEndAt);
  }

  ownerUid(desc: PodDesc): string {
    return desc.owner?.uid ?? uuid(rng(hashString(`${desc.namespace}/${desc.owner?.name ?? ''}`)));
  }

  /** Lines and events of a pod-level end that are not per container. */
  podEnded(pod: PodRun, at: number): void {
    const end = pod.desc.end;
    if (!end) return;
    pod.endedAt = at;
    pod.endKind = end.kind;
    const node = pod.desc.node;
    const ref = this.podRef(pod);
    const lastFinish = Math.max(at, ...pod.containers.flatMap((c) => c.terminations.map((t) => t.finishedAt)));
    if (end.kind === 'evicted') {
      this.journal(node, { at: at - 2_000, severity: 'W', site: 'eviction_manager.go:366', msg: 'Eviction manager: attempting to reclaim', kv: [['resourceName', end.resource ?? 'memory']] });
      this.journal(node, { at: at - 1_500, severity: 'I', site: 'eviction_manager.go:377', msg: 'Eviction manager: must evict pod(s) to reclaim', kv: [['resourceName', end.resource ?? 'memory']] });
      this.journal(node, { at: at - 1_000, severity: 'I', site: 'eviction_manager.go:395', msg: 'Eviction manager: pods ranked for eviction', kv: [['pods', [ref, 'monitoring/node-exporter-x7k2q']]] });
      this.journal(node, { at: lastFinish + 300_000, severity: 'I', site: 'eviction_manager.go:616', msg: 'Eviction manager: pod is evicted successfully', kv: [['pod', ref]], tag: `evicted:${pod.uid}` });
    } else if (end.kind === 'node_shutdown') {
      if (!this.shutdownNodes.has(node)) {
        this.shutdownNodes.add(node);
        this.journal(node, { at: at - 5_000, severity: 'I', site: 'nodeshutdown_manager_linux.go:265', msg: 'Shutdown manager detected new shutdown event, isNodeShuttingDownNow', kv: [['event', true]] });
        this.journal(node, { at: at - 3_000, severity: 'I', site: 'nodeshutdown_manager_linux.go:273', msg: 'Shutdown manager processing shutdown event', kv: [] });
      }
      this.journal(node, { at: lastFinish + 100_000, severity: 'I', site: 'nodeshutdown_manager_linux.go:391', msg: 'Shutdown manager finished killing pod', kv: [['pod', ref]] });
    } else {
      // Deleted through the API (preemption, rollout, kubectl delete).
      if (pod.desc.owner?.kind === 'ReplicaSet' && end.kind === 'deleted') {
        this.emit({
          at: at - 20_000,
          source: { component: 'replicaset-controller' },
          involved: { apiVersion: 'apps/v1', kind: 'ReplicaSet', namespace: pod.desc.namespace, name: pod.desc.owner.name, uid: this.ownerUid(pod.desc) },
          type: 'Normal',
          reason: 'SuccessfulDelete',
          message: `Deleted pod: ${pod.desc.name}`,
        });
      }
      pod.deletionAt = at;
      if (!pod.desc.finalizers?.length) {
        pod.removed = true;
        this.journal(node, { at: lastFinish + 400_000, severity: 'I', site: 'kubelet.go:2441', msg: 'SyncLoop DELETE', kv: [['source', 'api'], ['pods', [ref]]] });
        this.journal(node, { at: lastFinish + 420_000, severity: 'I', site: 'kubelet.go:2435', msg: 'SyncLoop REMOVE', kv: [['source', 'api'], ['pods', [ref]]] });
      }
    }
  }

  /** The kubelet's reaction to a pod-level end at `at`: returns the kill time and grace, emitting decision evidence. */
  podKill(pod: PodRun, at: number, isFirstContainer: boolean): { killAt: number; grace: number; cause: Cause; decidedBy: DecidedBy } {
    const end = pod.desc.end;
    if (!end) throw new Error('no pod end');
    const node = pod.desc.node;
    const ref = this.podRef(pod);
    if (end.kind === 'evicted') {
      if (isFirstContainer) {
        const resource = end.resource ?? 'memory';
        const c0 = pod.desc.containers[0]?.name ?? 'app';
        pod.evictionMessage =
          resource === 'memory'
            ? `The node was low on resource: memory. Threshold quantity: 100Mi, available: ${90000 + Math.floor(this.random() * 8000)}Ki. Container ${c0} was using ${1400000 + Math.floor(this.random() * 400000)}Ki, request is 512Mi, has larger consumption of memory. `
            : `The node was low on resource: ephemeral-storage. Threshold quantity: 10%, available: ${4000000 + Math.floor(this.random() * 100000)}Ki. Container ${c0} was using ${28000000 + Math.floor(this.random() * 1000000)}Ki, request is 0, has larger consumption of ephemeral-storage. `;
        this.kubeletEvent(pod, at, 'Evicted', pod.evictionMessage, 'Warning');
      }
      return { killAt: at + 5_000, grace: 2, cause: 'evicted', decidedBy: 'kubelet' };
    }
    if (end.kind === 'node_shutdown') {
      const grace = end.gracePeriodSeconds ?? 20;
      if (isFirstContainer)
        this.journal(node, { at: at, severity: 'I', site: 'nodeshutdown_manager_linux.go:375', msg: 'Shutdown manager killing pod with gracePeriod', kv: [['pod', ref], ['gracePeriod', grace]], tag: `shutdown:${pod.uid}` });
      return { killAt: at + 2_000, grace, cause: 'node_shutdown', decidedBy: 'kubelet' };
    }
    const grace = pod.desc.terminationGracePeriodSeconds ?? 30;
    if (end.kind === 'preempted' && isFirstContainer) {
      this.emit({
        at,
        source: { component: 'default-scheduler' },
        involved: this.involved(pod),
        type: 'Normal',
        reason: 'Preempted',
        message: `Preempted by pod ${end.preemptorUid ?? uuid(this.random)} on node ${node}`,
        newApi: { action: 'Preempting', reportingInstance: 'default-scheduler-control-plane-1' },
      });
    }
    if (isFirstContainer)
      this.journal(node, { at: at + 80_000, severity: 'I', site: 'kubelet.go:2441', msg: 'SyncLoop DELETE', kv: [['source', 'api'], ['pods', [ref]]] });
    return {
      killAt: at + 100_000,
      grace,
      cause: end.kind === 'preempted' ? 'preempted' : 'stopped',
      decidedBy: end.kind === 'preempted' ? 'kubelet' : 'api',
    };
  }

  runContainer(pod: PodRun, c: ContainerDesc, firstStart: number, podEndAt: number | undefined): ContainerRun {
    const run: ContainerRun = { desc: c, terminations: [], readyTransitions: [] };
    const node = pod.desc.node;
    const ref = this.podRef(pod);
    const dir = `${pod.desc.namespace}_${pod.desc.name}_${pod.uid}/${c.name}`;
    const probeKinds: Array<['startup' | 'liveness' | 'readiness', ProbeDesc]> = [];
    if (c.startupProbe) probeKinds.push(['startup', c.startupProbe]);
    if (c.livenessProbe) probeKinds.push(['liveness', c.livenessProbe]);
    if (c.readinessProbe) probeKinds.push(['readiness', c.readinessProbe]);
    // Probe workers tick for the pod's lifetime with a fixed phase.
    const phases = new Map(probeKinds.map(([k, p]) => [k, pod.startTime + 200_000 + this.jitter(probeNums(p).period * S)]));

    let start = firstStart;
    let n = 0;
    let backoffS = 0;
    const pullUs = Math.round((c.pullSeconds ?? 0) * S);
    start += pullUs;
    const limit = Math.min(this.endUs, podEndAt ?? Infinity);
    while (start < limit) {
      const d = incarnationDesc(c, n);
      const containerId = hex(this.random, 64);
      // Image, create, start.
      if (n === 0 && pullUs > 0) {
        this.kubeletEvent(pod, start - pullUs - 100_000, 'Pulling', `Pulling image "${c.image}"`, 'Normal', c.name);
        const secs = (pullUs / S).toFixed(3);
        this.kubeletEvent(pod, start - 90_000, 'Pulled', `Successfully pulled image "${c.image}" in ${secs}s (${secs}s including waiting). Image size: ${80_000_000 + (hashString(c.image) % 400_000_000)} bytes.`, 'Normal', c.name);
      } else {
        this.kubeletEvent(pod, start - 90_000, 'Pulled', `Container image "${c.image}" already present on machine`, 'Normal', c.name);
      }
      this.kubeletEvent(pod, start - 60_000, 'Created', `Created container ${c.name}`, 'Normal', c.name);
      this.kubeletEvent(pod, start, 'Started', `Started container ${c.name}`, 'Normal', c.name);
      this.journal(node, {
        at: start + PLEG_RELIST_US * 0.5 + this.jitter(PLEG_RELIST_US / 2),
        severity: 'I',
        site: 'kubelet.go:2453',
        msg: 'SyncLoop (PLEG): event for pod',
        kv: [['pod', ref], ['event', { ID: pod.uid, Type: 'ContainerStarted', Data: containerId }]],
      });

      const selfEnd = d.end ? start + Math.round(d.end.at * S) : Infinity;
      const stopProbesAt = Math.min(selfEnd, limit);
      const probes = this.runProbes(pod, c, d, start, stopProbesAt, phases, n, run);

      let killAt: number | null = null;
      let finish = 0;
      let exitCode = 0;
      let reason: Termination['reason'] = 'Error';
      let cause: Cause = 'app_exit';
      let decidedBy: DecidedBy = 'application';
      let probeType: Termination['probeType'] = null;
      let grace = pod.desc.terminationGracePeriodSeconds ?? 30;
      let killEmission: EventEmission | undefined;
      let kubeletKill = false;
      const tag = `${pod.uid}/${c.name}/${n}`;
      let sigtermAt: number | null = null;
      let stopGrace = grace;

      if (probes.kill && probes.kill.at < Math.min(selfEnd, limit)) {
        killAt = probes.kill.at;
        probeType = probes.kill.type;
        cause = probeType === 'liveness' ? 'liveness_probe' : 'startup_probe';
        decidedBy = 'kubelet';
        // computeInitContainerActions words a sidecar's kill without ", will be restarted".
        const message = c.sidecar ? `Init container ${c.name} failed ${probeType} probe` : `Container ${c.name} failed ${probeType} probe, will be restarted`;
        this.journal(node, { at: killAt, severity: 'I', site: 'kubelet.go:2542', msg: 'SyncLoop (probe)', kv: [['probe', probeType], ['status', 'unhealthy'], ['pod', ref]] });
        this.journal(node, {
          at: killAt + 300,
          severity: 'I',
          site: 'kuberuntime_manager.go:1058',
          msg: 'Message for Container of pod',
          kv: [['containerName', c.name], ['containerStatusID', { Type: 'containerd', ID: containerId }], ['pod', ref], ['containerMessage', message]],
          tag,
        });
        kubeletKill = this.endUs >= killAt;
        killEmission = this.kubeletEvent(pod, killAt + 350, 'Killing', message, 'Normal', c.name);
        this.killLine(pod, c.name, containerId, killAt + 360, grace);
        ({ sigtermAt, stopGrace } = this.preStop(pod, c, containerId, killAt + 5_000, grace));
      } else if (selfEnd < limit) {
        finish = selfEnd;
        if (d.end?.kind === 'oom') {
          exitCode = 137;
          reason = 'OOMKilled';
          cause = 'oom_killed';
          decidedBy = 'kernel';
          killAt = selfEnd;
          this.emit({
            at: selfEnd + 150_000,
            source: { component: 'kubelet', host: node },
            involved: { apiVersion: 'v1', kind: 'Node', namespace: '', name: node, uid: node },
            type: 'Warning',
            reason: 'SystemOOM',
            message: `System OOM encountered, victim process: ${c.image.replace(/^.*\//, '').replace(/:.*$/, '')}, pid: ${4000 + Math.floor(this.random() * 60000)}`,
          });
        } else if (d.end?.kind === 'sigkill') {
          exitCode = 137;
          reason = 'Error';
          cause = 'oom_killed';
          decidedBy = 'kernel';
          killAt = selfEnd;
        } else {
          exitCode = d.end?.kind === 'exit' ? d.end.exitCode : 0;
          reason = exitCode === 0 ? 'Completed' : 'Error';
        }
      } else if (podEndAt !== undefined && podEndAt <= this.endUs) {
        const k = this.podKill(pod, podEndAt, pod.containers.length === 0);
        killAt = podEndAt;
        cause = k.cause;
        decidedBy = k.decidedBy;
        grace = k.grace;
        killEmission = this.kubeletEvent(pod, k.killAt, 'Killing', `Stopping container ${c.name}`, 'Normal', c.name);
        if (cause === 'preempted' || cause === 'evicted') {
          // The decisive event is the scheduler's Preempted / the kubelet's Evicted on the pod.
          const decisive = this.emissions.find((e) => e.involved.uid === pod.uid && (e.reason === 'Preempted' || e.reason === 'Evicted'));
          if (decisive) killEmission = decisive;
        }
        this.killLine(pod, c.name, containerId, k.killAt + 200, grace);
        kubeletKill = true;
        ({ sigtermAt, stopGrace } = this.preStop(pod, c, containerId, k.killAt + 5_000, grace));
      } else {
        // Still running at collection.
        const lines = this.appLines(d, start, this.endUs, null);
        this.logs.push({ dir, restartCount: n, startedAt: start, endedAt: this.endUs, lines, kept: true });
        run.running = { restartCount: n, containerId, startedAt: start, ready: probes.readyAtEnd, started: probes.startedAt !== null };
        break;
      }

      if (sigtermAt !== null) {
        const st = d.sigterm ?? { exitAfter: 0.2 };
        if ('ignore' in st) {
          finish = sigtermAt + stopGrace * S + 20_000;
          exitCode = 137;
        } else {
          finish = sigtermAt + Math.round(st.exitAfter * S);
          exitCode = st.exitCode ?? 143;
        }
        reason = exitCode === 0 ? 'Completed' : 'Error';
        if (selfEnd < finish) {
          finish = selfEnd;
          exitCode = d.end?.kind === 'exit' ? d.end.exitCode : 137;
        }
      }
      const lines = this.appLines(d, start, finish, sigtermAt);
      this.logs.push({ dir, restartCount: n, startedAt: start, endedAt: finish, lines, kept: true });
      const died = Math.ceil((finish - pod.startTime) / PLEG_RELIST_US) * PLEG_RELIST_US + pod.startTime + this.jitter(3_000);
      this.journal(node, {
        at: died,
        severity: 'I',
        site: 'kubelet.go:2453',
        msg: 'SyncLoop (PLEG): event for pod',
        kv: [['pod', ref], ['event', { ID: pod.uid, Type: 'ContainerDied', Data: containerId }]],
      });
      run.readyTransitions.push({ at: finish, ready: false });
      run.terminations.push({
        restartCount: n,
        containerId,
        startedAt: start,
        killedAt: killAt,
        finishedAt: finish,
        exitCode,
        reason,
        cause,
        decidedBy,
        probeType,
        failures: probes.kill?.failures ?? [],
        lines,
        desc: d,
        ...(killEmission ? { killEmission } : {}),
        unhealthyEmissions: probes.kill?.emissions ?? [],
        kubeletKill,
      });
      if (podEndAt !== undefined && podEndAt <= finish) break;

      // Crash-loop back-off.
      const ranS = (finish - start) / S;
      backoffS = backoffS === 0 || ranS > BACKOFF_RESET_S ? BACKOFF_INITIAL_S : Math.min(backoffS * 2, BACKOFF_MAX_S);
      const nextStart = finish + backoffS * S + 200_000 + this.jitter(800_000);
      let sync = died + 40_000 + this.jitter(60_000);
      while (sync < Math.min(nextStart - 100_000, limit)) {
        this.kubeletEvent(pod, sync, 'BackOff', `Back-off restarting failed container ${c.name} in pod ${pod.desc.name}_${pod.desc.namespace}(${pod.uid})`, 'Warning', c.name);
        const msg = `back-off ${goDuration(backoffS)} restarting failed container=${c.name} pod=${pod.desc.name}_${pod.desc.namespace}(${pod.uid})`;
        const latest = run.terminations[run.terminations.length - 1];
        if (latest && sync + 200 - died <= 5 * S) latest.backOffLogged = true;
        this.journal(node, {
          at: sync + 200,
          severity: 'E',
          site: 'pod_workers.go:1301',
          msg: 'Error syncing pod, skipping',
          kv: [['err', `failed to "StartContainer" for "${c.name}" with CrashLoopBackOff: "${msg}"`], ['pod', ref], ['podUID', pod.uid]],
        });
        sync += 10 * S + this.jitter(5 * S);
      }
      if (nextStart >= limit) {
        if (podEndAt === undefined || podEndAt > this.endUs) run.waitingBackoffS = backoffS;
        else {
          // The pod ended while the container waited: nothing to kill.
          break;
        }
        break;
      }
      start = nextStart;
      n++;
    }
    // Only the current and the previous incarnation's logs are kept.
    const mine = this.logs.filter((l) => l.dir === dir);
    mine.forEach((l, i) => {
      if (i < mine.length - 2 || c.missingLogs?.includes(l.restartCount)) l.kept = false;
    });
    return run;
  }

  /**
   * killContainer runs the preStop hook first and waits for it up to the grace period (executePreStopHook), then
   * sends SIGTERM with what is left of the grace, at least minimumGracePeriodInSeconds (2 s).
   */
  preStop(pod: PodRun, c: ContainerDesc, containerId: string, at: number, grace: number): { sigtermAt: number; stopGrace: number } {
    if (c.preStopSeconds === undefined) return { sigtermAt: at, stopGrace: grace };
    const waited = Math.min(c.preStopSeconds, grace);
    if (c.preStopSeconds >= grace) {
      this.journal(pod.desc.node, {
        at: at + grace * S,
        severity: 'I',
        site: 'kuberuntime_container.go:691',
        msg: 'PreStop hook not completed in grace period',
        kv: [['pod', this.podRef(pod)], ['podUID', pod.uid], ['containerName', c.name], ['containerID', `containerd://${containerId}`], ['gracePeriod', grace]],
      });
    }
    return { sigtermAt: at + Math.round(waited * S), stopGrace: Math.max(grace - Math.floor(waited), 2) };
  }

  killLine(pod: PodRun, container: string, containerId: string, at: number, grace: number): void {
    this.journal(pod.desc.node, {
      at,
      severity: 'I',
      site: 'kuberuntime_container.go:809',
      msg: 'Killing container with a grace period',
      kv: [['pod', this.podRef(pod)], ['podUID', pod.uid], ['containerName', container], ['containerID', `containerd://${containerId}`], ['gracePeriod', grace]],
    });
  }

  appLines(d: IncarnationDesc, start: number, finish: number, sigtermAt: number | null): Array<CriLine & { desc?: LogLineDesc }> {
    const out: Array<CriLine & { desc?: LogLineDesc }> = [];
    const add = (base: number, l: LogLineDesc) => {
      const at = base + Math.round(l.at * S) + this.jitter(900);
      if (at >= finish) return;
      out.push({ at, ns: this.jitter(1000), stream: l.stream ?? 'stdout', text: expandText(l.text, at), desc: l });
    };
    for (const l of d.log ?? []) {
      if (sigtermAt !== null && start + l.at * S >= sigtermAt) continue;
      add(start, l);
    }
    if (sigtermAt !== null) for (const l of d.sigterm?.log ?? []) add(sigtermAt, l);
    out.sort((a, b) => a.at - b.at);
    return out;
  }

  runProbes(
    pod: PodRun,
    c: ContainerDesc,
    d: IncarnationDesc,
    start: number,
    stopAt: number,
    phases: Map<string, number>,
    n: number,
    run: ContainerRun,
  ): {
    kill?: { type: 'liveness' | 'startup'; at: number; failures: ProbeFailure[]; emissions: EventEmission[] };
    startedAt: number | null;
    readyAtEnd: boolean;
  } {
    type Tick = { at: number; kind: 'startup' | 'liveness' | 'readiness'; p: ProbeDesc };
    const ticks: Tick[] = [];
    const add = (kind: Tick['kind'], p: ProbeDesc | undefined) => {
      if (!p) return;
      const period = probeNums(p).period * S;
      const phase = phases.get(kind) ?? start;
      let t = phase + Math.ceil((start - phase) / period) * period;
      for (; t < stopAt; t += period) ticks.push({ at: t, kind, p });
    };
    add('startup', c.startupProbe);
    add('liveness', c.livenessProbe);
    add('readiness', c.readinessProbe);
    ticks.sort((a, b) => a.at - b.at);
    const node = pod.desc.node;
    const ref = this.podRef(pod);
    let startedAt: number | null = c.startupProbe ? null : start;
    let ready = false;
    if (!c.readinessProbe && startedAt !== null) {
      ready = true;
      run.readyTransitions.push({ at: start, ready: true });
    }
    const runs = { startup: [] as ProbeFailure[], liveness: [] as ProbeFailure[], readiness: 0, readinessOk: 0 };
    const emissions = { startup: [] as EventEmission[], liveness: [] as EventEmission[] };
    for (const tk of ticks) {
      const nums = probeNums(tk.p);
      const off = tk.at - start;
      if (Math.floor(off / S) < nums.initialDelay) continue;
      if (tk.kind === 'startup' && startedAt !== null) continue;
      if (tk.kind !== 'startup' && startedAt === null) continue;
      if (tk.kind !== 'startup' && startedAt !== null && tk.at < startedAt) continue;
      const ok = responsive(d, off, tk.kind === 'readiness' ? 'ready' : 'live');
      if (ok) {
        if (tk.kind === 'startup') {
          startedAt = tk.at + 3_000;
          this.journal(node, { at: startedAt, severity: 'I', site: 'kubelet.go:2553', msg: 'SyncLoop (probe)', kv: [['probe', 'startup'], ['status', 'started'], ['pod', ref]] });
          if (!c.readinessProbe) {
            ready = true;
            run.readyTransitions.push({ at: startedAt, ready: true });
          }
        } else if (tk.kind === 'liveness') {
          runs.liveness = [];
          emissions.liveness = [];
        } else {
          runs.readiness = 0;
          runs.readinessOk++;
          if (!ready && runs.readinessOk >= nums.successThreshold) {
            ready = true;
            run.readyTransitions.push({ at: tk.at + 3_000, ready: true });
            this.journal(node, { at: tk.at + 3_000, severity: 'I', site: 'kubelet.go:2544', msg: 'SyncLoop (probe)', kv: [['probe', 'readiness'], ['status', 'ready'], ['pod', ref]] });
          }
        }
        continue;
      }
      const mode = tk.kind === 'readiness' ? d.readinessFailure ?? d.failure ?? 'timeout' : d.failure ?? 'timeout';
      const override = tk.kind === 'readiness' ? d.readinessOutput : d.failureOutput;
      const output = override ?? probeOutput(tk.p, pod.ip, mode);
      const at = tk.at + probeDuration(tk.p, mode) + this.jitter(400);
      if (at >= stopAt) break;
      const typeName = tk.kind === 'startup' ? 'Startup' : tk.kind === 'liveness' ? 'Liveness' : 'Readiness';
      this.journal(node, {
        at,
        severity: 'I',
        site: 'prober.go:107',
        msg: 'Probe failed',
        kv: [['probeType', typeName], ['pod', ref], ['podUID', pod.uid], ['containerName', c.name], ['probeResult', 'failure'], ['output', output]],
      });
      const em = this.kubeletEvent(pod, at + 100, 'Unhealthy', `${typeName} probe failed: ${output}`, 'Warning', c.name);
      if (tk.kind === 'readiness') {
        runs.readinessOk = 0;
        runs.readiness++;
        if (ready && runs.readiness >= nums.failureThreshold) {
          ready = false;
          run.readyTransitions.push({ at: at + 3_000, ready: false });
        }
        continue;
      }
      runs[tk.kind].push({ at, output });
      emissions[tk.kind].push(em);
      if (runs[tk.kind].length >= nums.failureThreshold) {
        return {
          kill: { type: tk.kind, at: at + 400, failures: runs[tk.kind], emissions: emissions[tk.kind] },
          startedAt,
          readyAtEnd: false,
        };
      }
    }
    void n;
    return { startedAt, readyAtEnd: ready };
  }

  noise(): void {
    const nodes = new Set(this.scenario.pods.map((p) => p.node));
    for (const node of nodes) {
      const r = rng(hashString(`noise/${node}`));
      const exporter = `monitoring/node-exporter-${hex(r, 5)}`;
      const proxy = `kube-system/kube-proxy-${hex(r, 5)}`;
      const exporterUid = uuid(r);
      let t = this.startUs + Math.floor(r() * 20 * S);
      let jobIndex = 28779000 + Math.floor(r() * 500);
      while (t < this.endUs) {
        const k = Math.floor(r() * 6);
        if (k === 0)
          this.journal(node, { at: t, severity: 'I', site: 'prober.go:107', msg: 'Probe failed', kv: [['probeType', 'Readiness'], ['pod', exporter], ['podUID', exporterUid], ['containerName', 'node-exporter'], ['probeResult', 'failure'], ['output', 'HTTP probe failed with statuscode: 500']] });
        else if (k === 1)
          this.journal(node, { at: t, severity: 'W', site: 'container.go:586', msg: `Failed to get RecentStats("/system.slice/containerd.service") while determining the next housekeeping: unable to find data in memory cache`, kv: [], raw: true });
        else if (k === 2)
          this.journal(node, { at: t, severity: 'I', site: 'scope.go:117', msg: 'RemoveContainer', kv: [['containerID', hex(r, 64)]] });
        else if (k === 3) {
          // A CronJob pod that runs for a few seconds and completes (exit 0, no kill).
          const job = `batch/report-cron-${jobIndex++}-${hex(r, 5)}`;
          const uid = uuid(r);
          const cid = hex(r, 64);
          this.journal(node, { at: t, severity: 'I', site: 'kubelet.go:2425', msg: 'SyncLoop ADD', kv: [['source', 'api'], ['pods', [job]]] });
          this.journal(node, { at: t + 1_400_000, severity: 'I', site: 'kubelet.go:2453', msg: 'SyncLoop (PLEG): event for pod', kv: [['pod', job], ['event', { ID: uid, Type: 'ContainerStarted', Data: cid }]] });
          this.journal(node, { at: t + 9_100_000, severity: 'I', site: 'kubelet.go:2453', msg: 'SyncLoop (PLEG): event for pod', kv: [['pod', job], ['event', { ID: uid, Type: 'ContainerDied', Data: cid }]] });
        } else if (k === 4)
          this.journal(node, { at: t, severity: 'I', site: 'reconciler_common.go:245', msg: `operationExecutor.VerifyControllerAttachedVolume started for volume "kube-api-access-${hex(r, 5)}" (UniqueName: "kubernetes.io/projected/${uuid(r)}-kube-api-access") pod "${proxy.split('/')[1] ?? ''}"`, kv: [['pod', proxy]] });
        else
          this.journal(node, { at: t, severity: 'I', site: 'kubelet_getters.go:218', msg: 'Pod status updated', kv: [['pod', proxy], ['status', 'Running']] });
        t += 15 * S + Math.floor(r() * 30 * S);
      }
    }
  }

  podJson(pod: PodRun): Record<string, unknown> {
    const d = pod.desc;
    const statuses = pod.containers.filter((run) => !run.desc.sidecar).map((run) => this.containerStatus(pod, run));
    const initStatuses = pod.containers.filter((run) => run.desc.sidecar).map((run) => this.containerStatus(pod, run));
    const terminal = pod.endedAt !== undefined;
    const allReadyNow = !terminal && pod.containers.every((r) => r.running?.ready === true);
    const transitions = pod.containers.flatMap((r) => r.readyTransitions.map((t) => t.at)).sort((a, b) => a - b);
    let lastReadyChange = pod.startTime;
    let prev = false;
    for (const at of transitions) {
      const all = pod.containers.every((r) => {
        const before = r.readyTransitions.filter((t) => t.at <= at);
        return before[before.length - 1]?.ready === true;
      });
      if (all !== prev) {
        lastReadyChange = at;
        prev = all;
      }
    }
    const notReady = pod.containers.filter((r) => r.running?.ready !== true).map((r) => r.desc.name);
    const readyCond = (type: string) =>
      allReadyNow
        ? { type, status: 'True', lastProbeTime: null, lastTransitionTime: isoSeconds(lastReadyChange) }
        : {
            type,
            status: 'False',
            lastProbeTime: null,
            lastTransitionTime: isoSeconds(terminal ? pod.endedAt ?? lastReadyChange : lastReadyChange),
            reason: terminal ? 'PodFailed' : 'ContainersNotReady',
            ...(terminal ? {} : { message: `containers with unready status: [${notReady.join(' ')}]` }),
          };
    const conditions: Array<Record<string, unknown>> = [];
    if (pod.endKind === 'evicted' || pod.endKind === 'node_shutdown' || pod.endKind === 'preempted') {
      conditions.push({
        type: 'DisruptionTarget',
        status: 'True',
        lastProbeTime: null,
        lastTransitionTime: isoSeconds(pod.endedAt ?? 0),
        reason: pod.endKind === 'preempted' ? 'PreemptionByScheduler' : 'TerminationByKubelet',
        message:
          pod.endKind === 'evicted'
            ? pod.evictionMessage
            : pod.endKind === 'node_shutdown'
              ? 'Pod was terminated in response to imminent node shutdown.'
              : 'default-scheduler: preempting to accommodate a higher priority pod',
      });
    }
    conditions.push(
      { type: 'PodReadyToStartContainers', status: terminal ? 'False' : 'True', lastProbeTime: null, lastTransitionTime: isoSeconds(terminal ? pod.endedAt ?? 0 : pod.startTime + 500_000) },
      { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: isoSeconds(pod.startTime) },
      readyCond('Ready'),
      readyCond('ContainersReady'),
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: isoSeconds(pod.scheduledAt) },
    );
    let phase = 'Running';
    if (terminal) {
      const allZero = statuses.every((s) => (s.state as { terminated?: { exitCode: number } }).terminated?.exitCode === 0);
      phase = pod.endKind === 'evicted' || pod.endKind === 'node_shutdown' ? 'Failed' : allZero ? 'Succeeded' : 'Failed';
    }
    const metadata: Record<string, unknown> = {
      name: d.name,
      ...(d.owner && d.owner.kind !== 'Job' ? { generateName: d.name.replace(/[^-]+$/, '') } : {}),
      namespace: d.namespace,
      uid: pod.uid,
      resourceVersion: String(Number(pod.rv) + 500000),
      creationTimestamp: isoSeconds(pod.createdAt),
      labels: d.labels ?? {},
    };
    if (pod.deletionAt !== undefined) {
      metadata.deletionTimestamp = isoSeconds(pod.deletionAt + (d.terminationGracePeriodSeconds ?? 30) * S);
      metadata.deletionGracePeriodSeconds = d.terminationGracePeriodSeconds ?? 30;
    }
    if (d.finalizers?.length) metadata.finalizers = d.finalizers;
    if (d.owner) {
      metadata.ownerReferences = [
        {
          apiVersion: d.owner.kind === 'Job' ? 'batch/v1' : 'apps/v1',
          kind: d.owner.kind,
          name: d.owner.name,
          uid: this.ownerUid(d),
          controller: true,
          blockOwnerDeletion: true,
        },
      ];
    }
    const status: Record<string, unknown> = {
      phase,
      conditions,
      hostIP: pod.hostIP,
      hostIPs: [{ ip: pod.hostIP }],
      podIP: pod.ip,
      podIPs: [{ ip: pod.ip }],
      startTime: isoSeconds(pod.startTime),
      containerStatuses: statuses,
      ...(initStatuses.length > 0 ? { initContainerStatuses: initStatuses } : {}),
      qosClass: 'Burstable',
    };
    if (pod.endKind === 'evicted') {
      status.reason = 'Evicted';
      status.message = pod.evictionMessage;
    } else if (pod.endKind === 'node_shutdown') {
      status.reason = 'Terminated';
      status.message = 'Pod was terminated in response to imminent node shutdown.';
    }
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata,
      spec: {
        ...(d.containers.some((c) => c.sidecar) ? { initContainers: d.containers.filter((c) => c.sidecar).map((c) => ({ ...this.containerSpecJson(c), restartPolicy: 'Always' })) } : {}),
        containers: d.containers.filter((c) => !c.sidecar).map((c) => ({
          name: c.name,
          image: c.image,
          imagePullPolicy: 'IfNotPresent',
          ...(c.ports?.length ? { ports: c.ports.map((p) => ({ containerPort: p, protocol: 'TCP' })) } : {}),
          ...(c.livenessProbe ? { livenessProbe: probeAsApi(c.livenessProbe) } : {}),
          ...(c.readinessProbe ? { readinessProbe: probeAsApi(c.readinessProbe) } : {}),
          ...(c.startupProbe ? { startupProbe: probeAsApi(c.startupProbe) } : {}),
          resources: {},
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        })),
        restartPolicy: 'Always',
        ...(d.hostNetwork ? { hostNetwork: true } : {}),
        terminationGracePeriodSeconds: d.terminationGracePeriodSeconds ?? 30,
        dnsPolicy: 'ClusterFirst',
        serviceAccountName: 'default',
        serviceAccount: 'default',
        nodeName: d.node,
        securityContext: {},
        schedulerName: 'default-scheduler',
        enableServiceLinks: true,
        preemptionPolicy: 'PreemptLowerPriority',
        priority: 0,
      },
      status,
    };
  }

  containerSpecJson(c: ContainerDesc): Record<string, unknown> {
    return {
      name: c.name,
      image: c.image,
      imagePullPolicy: 'IfNotPresent',
      ...(c.livenessProbe ? { livenessProbe: probeAsApi(c.livenessProbe) } : {}),
      ...(c.readinessProbe ? { readinessProbe: probeAsApi(c.readinessProbe) } : {}),
      ...(c.startupProbe ? { startupProbe: probeAsApi(c.startupProbe) } : {}),
      resources: {},
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
    };
  }

  containerStatus(pod: PodRun, run: ContainerRun): Record<string, unknown> {
    const c = run.desc;
    const terms = run.terminations;
    const last = terms[terms.length - 1];
    const prev = terms[terms.length - 2];
    const termJson = (t: Termination) => ({
      terminated: {
        exitCode: t.exitCode,
        reason: t.reason,
        startedAt: isoSeconds(t.startedAt),
        finishedAt: isoSeconds(t.finishedAt),
        containerID: `containerd://${t.containerId}`,
      },
    });
    const base = { name: c.name, image: c.image, imageID: this.imageId(c.image) };
    if (run.running) {
      return {
        ...base,
        state: { running: { startedAt: isoSeconds(run.running.startedAt) } },
        lastState: last ? termJson(last) : {},
        ready: run.running.ready,
        restartCount: terms.length,
        started: run.running.started,
        containerID: `containerd://${run.running.containerId}`,
      };
    }
    if (!last) {
      return { ...base, state: { waiting: { reason: 'ContainerCreating' } }, lastState: {}, ready: false, restartCount: 0, started: false };
    }
    if (pod.endedAt !== undefined && run.waitingBackoffS === undefined) {
      return {
        ...base,
        state: termJson(last),
        lastState: prev ? termJson(prev) : {},
        ready: false,
        restartCount: last.restartCount,
        started: false,
        containerID: `containerd://${last.containerId}`,
      };
    }
    return {
      ...base,
      state: {
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off ${goDuration(run.waitingBackoffS ?? BACKOFF_INITIAL_S)} restarting failed container=${c.name} pod=${pod.desc.name}_${pod.desc.namespace}(${pod.uid})`,
        },
      },
      lastState: termJson(last),
      ready: false,
      // convertToAPIContainerStatuses: the status is the newest (dead) container's, restartCount N, lastState N's own.
      restartCount: last.restartCount,
      started: false,
      containerID: `containerd://${last.containerId}`,
    };
  }

  truth(keptEvents: Set<StoredEvent>): TerminationTruth[] {
    const out: TerminationTruth[] = [];
    const journalOn = (this.scenario.bundle?.kubelet ?? 'short-precise') !== 'none';
    const eventsOn = (this.scenario.bundle?.events ?? 'core') !== 'none';
    const podsOn = this.scenario.bundle?.pods !== false;
    const logsOn = this.scenario.bundle?.logs !== false;
    const visible = (e: EventEmission | undefined): boolean => {
      if (!eventsOn || !e?.written || !e.object || !keptEvents.has(e.object)) return false;
      const sec = Math.floor(e.at / S);
      return Math.floor(e.object.firstAt / S) === sec || Math.floor(e.object.lastAt / S) === sec;
    };
    for (const pod of this.pods) {
      for (const run of pod.containers) {
        run.terminations.forEach((t, i) => {
          const isLast = i === run.terminations.length - 1;
          const podStatus: TerminationTruth['evidence']['podStatus'] =
            !podsOn || pod.removed ? 'none' : isLast ? (pod.endedAt !== undefined && run.waitingBackoffS === undefined ? 'state' : 'lastState') : 'none';
          const logFile = logsOn && this.logs.some((l) => l.dir.startsWith(`${pod.desc.namespace}_${pod.desc.name}_${pod.uid}/`) && l.dir.endsWith(`/${run.desc.name}`) && l.restartCount === t.restartCount && l.kept);
          const evidence = {
            killEvent: visible(t.killEmission),
            unhealthyEvents: eventsOn ? t.unhealthyEmissions.filter((e) => e.written && e.object && keptEvents.has(e.object)).length : 0,
            kubeletKill: journalOn && t.kubeletKill,
            kubeletDeath: journalOn && !t.kubeletKill && t.backOffLogged === true,
            podStatus,
            logFile,
          };
          const ref = t.killedAt ?? t.finishedAt;
          let step: string | null = null;
          let stepStartedAt: number | null = null;
          const completed: string[] = [];
          let readySeen = false;
          let tagged = false;
          let lastLine: CriLine | null = null;
          for (const l of t.lines) {
            if (l.at <= t.finishedAt) lastLine = l;
            if (l.at > ref) continue;
            const dl = l.desc;
            if (!dl) continue;
            if (dl.step || dl.stepEnd || dl.ready) tagged = true;
            if ((dl.step || dl.stepEnd || dl.ready) && step) {
              completed.push(step);
              step = null;
              stepStartedAt = null;
            }
            if (dl.step) {
              step = dl.step;
              stepStartedAt = l.at;
            }
            if (dl.ready) readySeen = true;
          }
          const respondsAfter = t.desc.respondsAfter === undefined ? 0 : t.desc.respondsAfter;
          const duringInit = tagged ? !readySeen : respondsAfter === null || ref < t.startedAt + respondsAfter * S;
          const expectedConfidence = confidenceFor(t.cause, evidence, t.failures.length > 0 && journalOn, t.reason);
          out.push({
            namespace: pod.desc.namespace,
            pod: pod.desc.name,
            podUid: pod.uid,
            node: pod.desc.node,
            container: run.desc.name,
            restartCount: t.restartCount,
            containerId: t.containerId,
            cause: t.cause,
            decidedBy: t.decidedBy,
            probeType: t.probeType,
            startedAt: isoMillis(t.startedAt),
            killedAt: t.killedAt === null ? null : isoMillis(t.killedAt),
            finishedAt: isoMillis(t.finishedAt),
            exitCode: t.exitCode,
            reason: t.reason,
            step,
            stepStartedAt: stepStartedAt === null ? null : isoMillis(stepStartedAt),
            completedSteps: completed,
            duringInit,
            probeFailures: t.failures.length,
            firstFailureAt: t.failures[0] ? isoMillis(t.failures[0].at) : null,
            lastFailureMessage: t.failures[t.failures.length - 1]?.output ?? null,
            lastLogLine: lastLine?.text ?? null,
            lastLogLineAt: lastLine ? isoMillis(lastLine.at) : null,
            evidence,
            expectedConfidence,
            expectedCause: expectedConfidence === 'low' ? 'unknown' : t.cause,
          });
        });
      }
    }
    return out;
  }
}

/** The confidence a correct analyser reaches from what the bundle shows (CONTRACT.md `killtrace.confidence`). */
export function confidenceFor(cause: Cause, ev: TerminationTruth['evidence'], journalFailures: boolean, reason?: TerminationTruth['reason']): Confidence {
  switch (cause) {
    case 'liveness_probe':
    case 'startup_probe':
      if (ev.killEvent || ev.kubeletKill) return 'high';
      return ev.unhealthyEvents > 0 || journalFailures ? 'medium' : 'low';
    case 'oom_killed':
      // Only the status' reason OOMKilled states it; a bare 137 only points at the OOM killer.
      return ev.podStatus !== 'none' && reason !== 'Error' ? 'high' : 'low';
    case 'evicted':
    case 'preempted':
    case 'node_shutdown':
    case 'stopped':
      return ev.killEvent || ev.kubeletKill || (ev.podStatus !== 'none' && cause !== 'stopped') ? 'high' : 'low';
    case 'app_exit':
      // A journal that covers the run and records no kill decision says the process ended by itself.
      return ev.podStatus !== 'none' ? 'high' : ev.logFile || ev.kubeletDeath ? 'medium' : 'low';
    default:
      return 'low';
  }
}

/** Run a scenario. Deterministic: the same scenario (and seed) gives byte-identical output. */
export function simulate(scenario: Scenario): Simulation {
  return new Sim(scenario).run();
}
