import type { ContainerKind, ContainerSpec, ContainerStatus, EventSignal, KubeletSignal, PodSnapshot, ProbeSpec, RestartRecord, TimelineEntry } from '@killtrace/schemas';
import { classifyTermination, type Classification } from './classify-termination.js';
import type { ContainerEvidence, PodEvidence, ProbeFailure } from './evidence.js';
import { assembleIncarnations, EVENT_SLACK_MS, type Incarnation } from './incarnations.js';
import type { LearnedLookup, NodeClassOf } from './learned-index.js';
import { buildProbePatch, patchTarget, type ProbeChange } from './patch.js';
import { recommendPerClass, type PerClassRecommendation } from './per-class-recommendation.js';
import { alignIncarnation, median, p90, type LearnedModel, type LearnedProgress } from './learned-steps.js';
import { formatSeconds, largest, recommendStartupProbe, type StartupProbeRecommendation } from './recommendation.js';
import type { StepTracker } from './step-tracker.js';
import { secondsBetween, toIso, toIsoOrNull } from './time.js';
import { flattenLabels, workloadKey, workloadOf } from './workload.js';

/** Init durations seen per workload container (`namespace/owner/container`). */
export type HistoryIndex = Map<string, Array<{ podName: string; uid?: string; node?: string; restartCount: number; seconds: number; source?: 'profile' | 'ready_condition' }>>;

export interface ContainerRecordsInput {
  pod: PodEvidence;
  container: ContainerEvidence;
  clusterName: string;
  history: HistoryIndex;
  /** Learned init sequences per workload (learned-index.ts); used where no step profile matched. */
  learned?: LearnedLookup;
  /** The node class of a node (node-class.ts), undefined without its Node object. */
  nodeClassOf?: NodeClassOf;
  /** The nodes the workload's pods run on. */
  workloadNodes?: (workload: string) => ReadonlySet<string>;
}

const MAX_TIMELINE = 60;

interface Analysed {
  incarnation: Incarnation;
  classification: Classification;
  endAt?: number;
  failures: ProbeFailure[];
  tracker?: StepTracker;
  probe?: ProbeSpec;
  initializing: boolean | undefined;
  /** The journal's "PreStop hook not completed in grace period" for this incarnation's stop, if any. */
  preStopTimeout?: KubeletSignal;
  /** Where it was in the workload's learned init sequence at the decision, when no profile matched. */
  learned?: { model: LearnedModel; progress: LearnedProgress };
}

/** One probe kill of a workload container, as the workload-wide what-if counts it. */
export interface WorkloadKill {
  podUid: string;
  container: string;
  restartCount: number;
  /** The class of the node it ran on (node-class.ts), undefined without its Node object. */
  nodeClass?: string;
  /** It was still initializing when killed. */
  initializing: boolean;
  /** Seconds from its start to the kill decision. */
  elapsedSeconds?: number;
}

/**
 * One container of one pod, classified but not yet turned into records: the correlator collects the probe kills of
 * every pod of a workload (`probeKillsOf`) before the records (`finishContainerRecords`) count them per node class.
 */
export interface ContainerAnalysis {
  input: ContainerRecordsInput;
  analysed: Analysed[];
  key: string;
  spec?: ContainerSpec;
  status?: ContainerStatus;
  snapshot?: PodSnapshot;
  finished: Array<{ seconds: number; nodeClass?: string }>;
  ownClass?: string;
}

/** Builds the restart records of one container of one pod (its own kills only; see finishContainerRecords). */
export function buildContainerRecords(input: ContainerRecordsInput): RestartRecord[] {
  const analysis = analyseContainer(input);
  return analysis ? finishContainerRecords(analysis) : [];
}

/** Classifies every incarnation of one container of one pod; undefined when it has none. */
export function analyseContainer(input: ContainerRecordsInput): ContainerAnalysis | undefined {
  const { pod, container } = input;
  const snapshot = pod.snapshot;
  const spec: ContainerSpec | undefined = snapshot?.containers.find((c) => c.name === container.name);
  const status: ContainerStatus | undefined =
    snapshot?.statuses.find((s) => s.name === container.name) ?? snapshot?.initStatuses.find((s) => s.name === container.name);
  const events = [...pod.events.values()];
  const containerEvents = events.filter((e) => e.container === container.name);
  const podEvents = events.filter((e) => e.container === undefined);

  // PLEG lines name container ids, not names: attach those whose id is known to be this container's.
  const knownIds = new Set<string>();
  for (const s of container.kubelet) if (s.containerId) knownIds.add(s.containerId);
  if (status?.containerId) knownIds.add(status.containerId);
  if (status?.lastTerminated?.containerId) knownIds.add(status.lastTerminated.containerId);
  if (status?.state.kind === 'terminated' && status.state.containerId) knownIds.add(status.state.containerId);
  for (const id of idsTiedByBackOff(pod, container.name)) knownIds.add(id);
  const pleg = pod.podKubelet.filter((s) => (s.action === 'container_died' || s.action === 'container_started') && s.containerId && knownIds.has(s.containerId));
  const kubelet = [...container.kubelet, ...pleg].sort((a, b) => a.at - b.at);
  const view: ContainerEvidence = { name: container.name, kubelet, logs: container.logs };

  const incarnations = assembleIncarnations(view, containerEvents, status, snapshot?.startTime);
  if (incarnations.length === 0) return undefined;
  const newest = Math.max(...incarnations.map((i) => i.restartCount));

  // The span of the pod's journal lines: inside it, the absence of a kill line is evidence too.
  let journalFrom: number | undefined;
  let journalTo: number | undefined;
  // A loop, not Math.min(...times): a long crash loop's journal can exceed the engine's argument limit.
  for (const line of [kubelet, pod.podKubelet].flat()) {
    if (journalFrom === undefined || line.at < journalFrom) journalFrom = line.at;
    if (journalTo === undefined || line.at > journalTo) journalTo = line.at;
  }

  // "SyncLoop (probe)" ready/started lines name the pod, not the container: they are this container's when it is
  // the pod's only container with a probe of that type.
  const readyLines = [...kubelet, ...pod.podKubelet].filter((l) => {
    if (l.action !== 'probe_ready') return false;
    if (l.container !== undefined) return l.container === container.name;
    const type = l.probeType === 'startup' ? 'startup' : 'readiness';
    const withProbe = (snapshot?.containers ?? []).filter((c) => c[type] !== undefined);
    return withProbe.length === 1 && withProbe[0]?.name === container.name;
  });
  const preStopLines = kubelet.filter((l) => l.action === 'prestop_timeout');
  const oomSibling = incarnations.find((i) => i.terminated?.reason === 'OOMKilled')?.restartCount;
  const model = input.learned?.(workloadKey(pod.namespace, pod.name, snapshot, container.name));
  const analysed: Analysed[] = [];
  let previousEnd: number | undefined;
  for (const incarnation of incarnations) {
    const tracker = container.logs.get(incarnation.restartCount);
    const endAt = endOf(incarnation, tracker);
    const from = incarnation.startedAt !== undefined ? incarnation.startedAt - EVENT_SLACK_MS : previousEnd;
    const failures = probeFailures(kubelet, containerEvents, from, endAt);
    // A start the journal itself records (PLEG ContainerStarted) is inside the journal's span by definition.
    const coverFrom = incarnation.startSource === 'kubelet_log' ? incarnation.startedAt : from;
    const classification = classifyTermination({
      incarnation,
      pod: snapshot,
      podEvents,
      podKubelet: pod.podKubelet,
      containerKubelet: kubelet,
      failures,
      liveness: spec?.liveness,
      startup: spec?.startup,
      endAt,
      isNewest: incarnation.restartCount === newest,
      oomSibling: oomSibling !== incarnation.restartCount ? oomSibling : undefined,
      journalCovers: journalFrom !== undefined && journalTo !== undefined && coverFrom !== undefined && endAt !== undefined && journalFrom <= coverFrom && journalTo >= endAt,
    });
    const probe = classification.probeType === 'startup' ? spec?.startup : classification.probeType === 'liveness' ? spec?.liveness : undefined;
    // A PLEG start lags the real start by up to a relist period (1 s), so a fast readiness success can precede it.
    const seenReady = readyLines.some((l) => incarnation.startedAt !== undefined && l.at >= incarnation.startedAt - EVENT_SLACK_MS && l.at <= (classification.killedAt ?? endAt ?? Number.POSITIVE_INFINITY));
    const stopAt = (incarnation.episode?.marks ?? []).find((m) => m.kind === 'killing' || m.kind === 'decision')?.at;
    const preStopTimeout = stopAt === undefined ? undefined : preStopLines.find((l) => l.at >= stopAt && l.at <= (endAt ?? stopAt) + EVENT_SLACK_MS && (l.containerId === undefined || incarnation.containerId === undefined || l.containerId === incarnation.containerId));
    const decisionAt = classification.killedAt ?? endAt;
    const progress = model && tracker && !tracker.profile && decisionAt !== undefined ? alignIncarnation(model, tracker.sightings, decisionAt) : undefined;
    const learned = model && progress?.current ? { model, progress } : undefined;
    let init = initializing(classification, incarnation, tracker, spec, endAt, seenReady);
    // Incarnations that reached ready went through the whole sequence: one that had not reached its last step was
    // still initializing.
    if (init === undefined && learned && model?.source === 'ready' && !learned.progress.reachedLast && classification.cause !== 'app_exit') init = true;
    analysed.push({ incarnation, classification, endAt, failures, tracker, probe, preStopTimeout, learned, initializing: init });
    previousEnd = endAt ?? previousEnd;
  }

  const key = workloadKey(pod.namespace, pod.name, snapshot, container.name);
  const classOf = input.nodeClassOf ?? ((): undefined => undefined);
  // Finished inits: a profile's ready line or the Ready condition (the history), and where neither says, the end of
  // the learned sequence in incarnations that reached ready (learned-steps.ts initSeconds).
  const finished: Array<{ seconds: number; nodeClass?: string }> = (input.history.get(key) ?? []).map((h) => ({ seconds: h.seconds, nodeClass: classOf(h.node) }));
  const known = new Set((input.history.get(key) ?? []).map((h) => `${h.uid ?? ''}/${h.restartCount}`));
  for (const s of model?.initSeconds ?? []) {
    const [uid = '', count = ''] = s.id.split('/');
    if (!known.has(`${uid}/${Number(count)}`)) finished.push({ seconds: s.seconds, nodeClass: s.nodeClass });
  }
  return { input, analysed, key, spec, status, snapshot, finished, ownClass: classOf(snapshot?.nodeName) };
}

const isProbeKill = (a: Analysed): boolean => a.classification.cause === 'liveness_probe' || a.classification.cause === 'startup_probe';

/** The probe kills of one analysed container, for the workload-wide count. */
export function probeKillsOf(analysis: ContainerAnalysis): WorkloadKill[] {
  return analysis.analysed.filter(isProbeKill).map((a) => ({
    podUid: analysis.input.pod.uid ?? analysis.input.pod.key,
    container: analysis.input.container.name,
    restartCount: a.incarnation.restartCount,
    ...(analysis.ownClass !== undefined ? { nodeClass: analysis.ownClass } : {}),
    initializing: a.initializing === true,
    ...(killElapsed(a) !== undefined ? { elapsedSeconds: killElapsed(a) } : {}),
  }));
}

/**
 * The records of an analysed container. `workloadKills`: the probe kills of every pod of its workload (this one's
 * included or not); the startupProbe is then sized, and its what-if counted, over the whole workload and per node
 * class, so every pod of a DaemonSet gets the same advice. Without it, this container's kills alone.
 */
export function finishContainerRecords(analysis: ContainerAnalysis, workloadKills?: readonly WorkloadKill[]): RestartRecord[] {
  const { input, analysed, spec, status, snapshot, finished, ownClass } = analysis;
  const own = probeKillsOf(analysis);
  const ownIds = new Set(own.map((k) => `${k.podUid}/${k.container}/${k.restartCount}`));
  const kills = [...own, ...(workloadKills ?? []).filter((k) => !ownIds.has(`${k.podUid}/${k.container}/${k.restartCount}`))];
  const pods = new Set(kills.map((k) => k.podUid)).size;
  const completed = finished.map((h) => h.seconds);
  const killedInInit = kills.filter((k) => k.initializing && k.elapsedSeconds !== undefined).map((k) => k.elapsedSeconds as number);
  const classOf = input.nodeClassOf ?? ((): undefined => undefined);
  let perClass: PerClassRecommendation | undefined;
  if (ownClass !== undefined) {
    // Per node class: finished inits by the class of their node, probe kills in init by the class of theirs; every
    // class the workload runs on is listed, observed or not.
    const classes = new Map<string, { completedSeconds: number[]; killedInInitSeconds: number[] }>();
    const slot = (c: string): { completedSeconds: number[]; killedInInitSeconds: number[] } => {
      let s = classes.get(c);
      if (!s) {
        s = { completedSeconds: [], killedInInitSeconds: [] };
        classes.set(c, s);
      }
      return s;
    };
    slot(ownClass);
    for (const k of kills) if (k.initializing && k.elapsedSeconds !== undefined) slot(k.nodeClass ?? ownClass).killedInInitSeconds.push(k.elapsedSeconds);
    for (const node of input.workloadNodes?.(analysis.key) ?? []) {
      const c = classOf(node);
      if (c !== undefined) slot(c);
    }
    for (const h of finished) if (h.nodeClass !== undefined) slot(h.nodeClass).completedSeconds.push(h.seconds);
    perClass = recommendPerClass([...classes].map(([nodeClass, o]) => ({ nodeClass, ...o })), spec?.liveness);
  }
  const recommendation = perClass?.recommendation ?? recommendStartupProbe({ completedSeconds: completed, killedInInitSeconds: killedInInit }, spec?.liveness);

  const kind = containerKind(spec, snapshot, input.container.name);
  return analysed.map((a) => toRecord(input, a, { kind, spec, status, recommendation, kills, pods: workloadKills ? pods : undefined, expected: completed, perClass, ownClass }));
}

/** `killtrace.container.kind`: an init container with restartPolicy Always is a native sidecar. */
export function containerKind(spec: ContainerSpec | undefined, snapshot: PodSnapshot | undefined, name: string): ContainerKind {
  const isInit = spec ? spec.init : snapshot?.initStatuses.some((st) => st.name === name) === true;
  return isInit ? (spec?.sidecar === true ? 'sidecar' : 'init') : 'main';
}

/**
 * Ids of dead containers whose PLEG `ContainerDied` line names no container (PLEG events carry only ids) but is
 * followed within seconds by the kubelet's back-off line naming this container alone: the pod worker's next sync
 * after a death is the one that refuses to restart it (`back-off 20s restarting failed container=X`). Ties a
 * death to its container when its log file is gone.
 */
function idsTiedByBackOff(pod: PodEvidence, name: string): string[] {
  const owned = new Set<string>();
  for (const c of pod.containers.values()) for (const s of c.kubelet) if (s.containerId) owned.add(s.containerId);
  for (const st of [...(pod.snapshot?.statuses ?? []), ...(pod.snapshot?.initStatuses ?? [])]) {
    if (st.containerId) owned.add(st.containerId);
    if (st.lastTerminated?.containerId) owned.add(st.lastTerminated.containerId);
  }
  const backOffs: Array<{ at: number; container: string }> = [];
  for (const c of pod.containers.values()) for (const s of c.kubelet) if (s.action === 'crash_loop_back_off') backOffs.push({ at: s.at, container: c.name });
  backOffs.sort((a, b) => a.at - b.at);
  const out: string[] = [];
  for (const died of pod.podKubelet) {
    if (died.action !== 'container_died' || !died.containerId || owned.has(died.containerId)) continue;
    const names = new Set<string>();
    for (let i = firstAtOrAfter(backOffs, died.at); i < backOffs.length && (backOffs[i] as { at: number }).at <= died.at + BACK_OFF_SYNC_MS; i += 1) names.add((backOffs[i] as { container: string }).container);
    if (names.size === 1 && names.has(name)) out.push(died.containerId);
  }
  return out;
}

/** Index of the first entry at or after `at` in a list sorted by time (binary search: long crash loops). */
function firstAtOrAfter(sorted: ReadonlyArray<{ at: number }>, at: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as { at: number }).at < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** How soon after a PLEG death the pod worker's sync logs the back-off (it is woken by the PLEG event). */
const BACK_OFF_SYNC_MS = 5000;

function endOf(incarnation: Incarnation, tracker: StepTracker | undefined): number | undefined {
  const marks = incarnation.episode?.marks ?? [];
  const died = marks.find((m) => m.kind === 'died');
  if (died) return died.at;
  if (incarnation.terminated?.finishedAt !== undefined) return incarnation.terminated.finishedAt;
  if (incarnation.episode) return incarnation.episode.last;
  return tracker?.lastLine()?.at;
}

/** Liveness and startup failures inside the incarnation's lifetime; the journal when present, events otherwise. */
function probeFailures(kubelet: KubeletSignal[], events: EventSignal[], from: number | undefined, to: number | undefined): ProbeFailure[] {
  const inside = (at: number): boolean => (from === undefined || at >= from) && (to === undefined || at <= to + EVENT_SLACK_MS);
  const journal: ProbeFailure[] = kubelet
    .filter((s) => (s.action === 'probe_failed' || s.action === 'probe_errored') && (s.probeType === 'liveness' || s.probeType === 'startup') && inside(s.at))
    .map((s) => ({ at: s.at, probeType: s.probeType as 'liveness' | 'startup', output: s.output, source: 'kubelet_log' }));
  if (journal.length > 0) return journal;
  const out: ProbeFailure[] = [];
  for (const event of events) {
    if (event.reason !== 'Unhealthy') continue;
    const match = /^(Liveness|Startup) probe (?:failed|errored):\s?([\s\S]*)$/.exec(event.message);
    if (!match) continue;
    const probeType = match[1] === 'Startup' ? 'startup' : 'liveness';
    const times = new Set([event.firstAt ?? event.lastAt, event.lastAt]);
    for (const at of times) if (inside(at)) out.push({ at, probeType, output: match[2], source: 'event' });
  }
  return out.sort((a, b) => a.at - b.at);
}

function initializing(c: Classification, incarnation: Incarnation, tracker: StepTracker | undefined, spec: ContainerSpec | undefined, endAt: number | undefined, seenReady: boolean): boolean | undefined {
  if (c.cause === 'startup_probe') return true;
  const at = c.killedAt ?? endAt;
  if (tracker?.profile && at !== undefined && tracker.lines > 0) {
    if (tracker.profile.ready) return tracker.ready === undefined || tracker.ready > at;
    const progress = tracker.progressAt(at);
    if (progress.current) return true;
  }
  // Seen ready (readiness success) or started (startupProbe success) before the end: init was over.
  if (seenReady) return false;
  // Liveness probes only run once a startupProbe has succeeded: a liveness kill came after init.
  if (c.cause === 'liveness_probe' && spec?.startup) return false;
  if (c.cause === 'liveness_probe' && neverPassed(incarnation, spec?.liveness, at)) return true;
  if (c.cause === 'liveness_probe' && ranPastInit(incarnation, spec?.liveness, at)) return false;
  return undefined;
}

/**
 * True when a liveness kill came long after the earliest moment the probe allows: the kill follows
 * failureThreshold consecutive failures, so a kill later than two full failure runs after the initial delay means
 * the probe passed before; the app was up and serving, and the kill is a running-service failure.
 */
export function ranPastInit(incarnation: Incarnation, probe: ProbeSpec | undefined, killAt: number | undefined): boolean {
  if (!probe || incarnation.startedAt === undefined || killAt === undefined) return false;
  const uptime = (killAt - incarnation.startedAt) / 1000;
  return uptime > probe.initialDelaySeconds + 2 * probe.failureThreshold * probe.periodSeconds + probe.timeoutSeconds + EVENT_SLACK_MS / 1000;
}

/**
 * True when a liveness kill came at the earliest moment the probe allows (initialDelay + failureThreshold
 * periods): the probe never passed once in this incarnation, so the app had not come up yet.
 */
export function neverPassed(incarnation: Incarnation, probe: ProbeSpec | undefined, killAt: number | undefined): boolean {
  if (!probe || incarnation.startedAt === undefined || killAt === undefined) return false;
  const earliestKill = probe.initialDelaySeconds + (probe.failureThreshold - 1) * probe.periodSeconds;
  const uptime = (killAt - incarnation.startedAt) / 1000;
  // One period of slack (probe workers start at a random offset) plus the start-time precision of the status.
  return uptime <= earliestKill + probe.periodSeconds + probe.timeoutSeconds + EVENT_SLACK_MS / 1000;
}

function killElapsed(a: Analysed): number | undefined {
  const start = a.incarnation.startedAt;
  const at = a.classification.killedAt ?? a.endAt;
  return start !== undefined && at !== undefined ? secondsBetween(start, at) : undefined;
}

/** The failures that led to the kill: the last run of consecutive failures of the killing probe. */
function failureRun(a: Analysed): ProbeFailure[] {
  const type = a.classification.probeType;
  if (!type) return [];
  const killAt = a.classification.killedAt ?? a.endAt ?? Number.POSITIVE_INFINITY;
  const own = a.failures.filter((f) => f.probeType === type && f.at <= killAt + EVENT_SLACK_MS);
  if (own.length === 0) return [];
  const period = (a.probe?.periodSeconds ?? 10) * 1000;
  const maxGap = period * 1.5 + (a.probe?.timeoutSeconds ?? 1) * 1000 + EVENT_SLACK_MS;
  const run: ProbeFailure[] = [own[own.length - 1] as ProbeFailure];
  for (let i = own.length - 2; i >= 0; i -= 1) {
    const f = own[i] as ProbeFailure;
    if ((run[0] as ProbeFailure).at - f.at > maxGap) break;
    run.unshift(f);
  }
  return run;
}

interface Context {
  kind: 'main' | 'init' | 'sidecar';
  spec?: ContainerSpec;
  status?: ContainerStatus;
  recommendation?: StartupProbeRecommendation;
  /** Probe kills counted by the what-if: this container's, or the whole workload's (then `pods` is set). */
  kills: WorkloadKill[];
  pods?: number;
  expected: number[];
  perClass?: PerClassRecommendation;
  ownClass?: string;
}

function toRecord(input: ContainerRecordsInput, a: Analysed, ctx: Context): RestartRecord {
  const { pod } = input;
  const snapshot = pod.snapshot;
  const { incarnation, classification: c, tracker } = a;
  const k = incarnation.restartCount;
  const killAt = c.killedAt;
  const endAt = a.endAt;
  const decisionAt = killAt ?? endAt;
  const probeInduced = c.cause === 'liveness_probe' || c.cause === 'startup_probe';
  const run = probeInduced ? failureRun(a) : [];
  const progress = tracker && decisionAt !== undefined ? tracker.progressAt(decisionAt) : undefined;
  const lastLine = tracker ? tracker.lastLine(decisionAt) ?? tracker.lastLine() : undefined;
  // A learned step is named unless init is known to be over, or the incarnation had reached the last step of a
  // sequence learned from incarnations that reached ready (then it was most likely serving).
  const learnedStep =
    !tracker?.profile && a.learned && a.initializing !== false && (a.initializing === true || a.learned.model.source !== 'ready' || !a.learned.progress.reachedLast)
      ? a.learned.progress.current
      : undefined;
  const step = progress?.current ?? (learnedStep ? { name: learnedStep.step.name, startedAt: learnedStep.startedAt } : undefined);
  const completedSteps = learnedStep ? (a.learned?.progress.completed ?? []).map((s) => s.step.name) : (progress?.completed.map((s) => s.name) ?? []);
  const typical = learnedStep && learnedStep.step.durations.length > 0 ? learnedStep.step.durations : undefined;
  const phase: 'initializing' | 'running' | 'unknown' = a.initializing === true ? 'initializing' : a.initializing === false ? 'running' : 'unknown';
  const timestamp = decisionAt ?? incarnation.startedAt ?? 0;
  const workload = workloadOf(snapshot?.owners ?? []);
  const terminated = incarnation.terminated;
  const image = ctx.spec?.image ?? ctx.status?.image ?? null;
  const expected = ctx.expected.length > 0 ? largest(ctx.expected) : null;
  const budget = a.probe ? a.probe.failureThreshold * a.probe.periodSeconds : null;

  const recommendation = recommend(a, ctx, phase, input);
  const record: RestartRecord = {
    '@timestamp': toIso(timestamp),
    message: '',
    event: { kind: 'event', category: ['process'], type: ['end'], action: 'container-restart', dataset: 'killtrace.restart' },
    orchestrator: { type: 'kubernetes', cluster: { name: input.clusterName } },
    kubernetes: {
      namespace: pod.namespace,
      pod: { name: pod.name, uid: pod.uid ?? '' },
      node: { name: snapshot?.nodeName ?? null },
      container: { name: input.container.name },
      labels: flattenLabels(snapshot?.labels ?? {}),
      ...(workload.daemonset ? { daemonset: { name: workload.daemonset } } : {}),
      ...(workload.deployment ? { deployment: { name: workload.deployment } } : {}),
      ...(workload.statefulset ? { statefulset: { name: workload.statefulset } } : {}),
      ...(workload.replicaset ? { replicaset: { name: workload.replicaset } } : {}),
      ...(workload.job ? { job: { name: workload.job } } : {}),
    },
    container: { id: incarnation.containerId ?? null, image: { name: image } },
    killtrace: {
      status: 'final',
      restart: { count: k, count_source: incarnation.countSource },
      container: { kind: ctx.kind },
      kill_event: killEventOf(incarnation),
      prestop_outlived_grace: a.preStopTimeout !== undefined,
      cause: c.cause,
      decided_by: c.decidedBy,
      confidence: c.confidence,
      probe_induced: probeInduced,
      during_init: a.initializing === true,
      exit_code: terminated?.exitCode ?? null,
      signal: terminated?.signal ?? null,
      reason: terminated?.reason ?? null,
      started_at: toIsoOrNull(incarnation.startedAt),
      killed_at: toIsoOrNull(killAt),
      finished_at: toIsoOrNull(endAt),
      uptime_seconds: incarnation.startedAt !== undefined && endAt !== undefined ? secondsBetween(incarnation.startedAt, endAt) : null,
      probe: {
        type: probeInduced ? (c.probeType ?? null) : null,
        handler: a.probe && a.probe.handler !== 'unknown' ? a.probe.handler : null,
        period_seconds: a.probe?.periodSeconds ?? null,
        timeout_seconds: a.probe?.timeoutSeconds ?? null,
        failure_threshold: a.probe?.failureThreshold ?? null,
        initial_delay_seconds: a.probe?.initialDelaySeconds ?? null,
        budget_seconds: budget,
        failures: probeInduced ? (run.length > 0 ? (run[0]?.source === 'event' ? null : run.length) : null) : null,
        first_failure_at: run[0] && run[0].source === 'kubelet_log' ? toIso(run[0].at) : null,
        last_failure_message: run[run.length - 1]?.output ?? null,
      },
      init: {
        phase,
        step: step?.name ?? null,
        step_started_at: toIsoOrNull(step?.startedAt),
        step_elapsed_seconds: step && decisionAt !== undefined ? secondsBetween(step.startedAt, decisionAt) : null,
        completed_steps: completedSteps,
        expected_seconds: expected,
        profile: tracker?.profile?.name ?? null,
        step_source: step ? (learnedStep ? 'learned' : 'profile') : null,
        step_median_seconds: typical ? Math.round(median(typical) * 1000) / 1000 : null,
        step_p90_seconds: typical ? Math.round(p90(typical) * 1000) / 1000 : null,
        node_class: ctx.ownClass ?? null,
      },
      log: {
        last_line: lastLine?.text ?? null,
        last_line_at: toIsoOrNull(lastLine?.at),
        silence_seconds: lastLine && decisionAt !== undefined ? Math.max(0, secondsBetween(lastLine.at, decisionAt)) : null,
      },
      recommendation,
      timeline: [],
    },
  };
  record.killtrace.timeline = timeline(a, run, record);
  record.message = explain(record, c, a);
  return record;
}

/** The aggregated Event behind this kill, when one object counts several kills. */
function killEventOf(incarnation: Incarnation): RestartRecord['killtrace']['kill_event'] {
  const mark = (incarnation.episode?.marks ?? []).find((m) => m.aggregate !== undefined);
  const agg = mark?.aggregate;
  return agg ? { count: agg.count, first_at: toIso(agg.firstAt), last_at: toIso(agg.lastAt) } : null;
}

/** The recommendation as a patch of the owning workload (patch.ts), or a note saying why there is none. */
function patchFor(input: ContainerRecordsInput, ctx: Context, change: ProbeChange | undefined): NonNullable<RestartRecord['killtrace']['recommendation']['patch']> | null {
  if (!change) return null;
  const pod = input.pod;
  const target = patchTarget(workloadOf(pod.snapshot?.owners ?? []), pod.namespace, input.container.name, ctx.kind === 'sidecar');
  const patch = buildProbePatch(target, change);
  const kind = 'reason' in target ? null : target.kind;
  const name = 'reason' in target ? null : target.name;
  if ('reason' in patch) return { kind, name, namespace: pod.namespace, container: input.container.name, strategic_merge_patch: null, kubectl: null, kustomize: null, helm_values: null, note: patch.reason };
  return { kind, name, namespace: pod.namespace, container: input.container.name, strategic_merge_patch: JSON.stringify(patch.strategicMergePatch), kubectl: patch.kubectl, kustomize: patch.kustomize, helm_values: patch.helmValues, note: null };
}

function recommend(a: Analysed, ctx: Context, phase: string, input: ContainerRecordsInput): RestartRecord['killtrace']['recommendation'] {
  const c = a.classification;
  const rec = ctx.recommendation;
  const probeInduced = c.cause === 'liveness_probe' || c.cause === 'startup_probe';
  if (probeInduced && phase === 'initializing' && rec) {
    const budget = rec.budgetSeconds;
    const isAvoided = (k: WorkloadKill): boolean => k.initializing && k.elapsedSeconds !== undefined && k.elapsedSeconds < budget;
    const avoided = ctx.kills.filter(isAvoided).length;
    const scope = ctx.pods !== undefined ? `this workload (${ctx.pods} pod(s))` : 'this container';
    const whatIf = {
      kills_observed: ctx.kills.length,
      kills_avoided: avoided,
      text: `With this startupProbe, ${avoided} of the ${ctx.kills.length} probe kill(s) observed for ${scope} would not have happened at the moment they did.`,
    };
    const text =
      c.cause === 'startup_probe'
        ? `Raise the startupProbe's failureThreshold to ${rec.failureThreshold} (periodSeconds ${rec.periodSeconds}, ${formatSeconds(budget)} in all) so init can finish.`
        : `Add a startupProbe (same check as the liveness probe) with periodSeconds ${rec.periodSeconds} and failureThreshold ${rec.failureThreshold} (${formatSeconds(budget)}), so the liveness probe only starts once init is done; or raise the liveness failureThreshold.`;
    const perClass = ctx.perClass?.classes.map((k) => ({
      node_class: k.nodeClass,
      completed: k.completed,
      completed_max_seconds: k.completedMaxSeconds,
      killed_in_init: k.killedInInit,
      killed_max_seconds: k.killedMaxSeconds,
      budget_seconds: k.budgetSeconds,
      kills_observed: ctx.kills.filter((x) => (x.nodeClass ?? ctx.ownClass) === k.nodeClass).length,
      kills_avoided: ctx.kills.filter((x) => (x.nodeClass ?? ctx.ownClass) === k.nodeClass && isAvoided(x)).length,
    }));
    if (perClass) {
      const hit = perClass.filter((k) => k.kills_observed > 0);
      const quiet = perClass.length - hit.length;
      whatIf.text += ` Per node class: ${hit.map((k) => `${k.node_class}: ${k.kills_avoided} of ${k.kills_observed} avoided`).join('; ')}${quiet > 0 ? `; ${quiet} other class(es) of this workload had no probe kill` : ''}.`;
    }
    return {
      text,
      startup_probe: { period_seconds: rec.periodSeconds, failure_threshold: rec.failureThreshold },
      basis: rec.basis,
      what_if: whatIf,
      per_class: perClass ?? null,
      patch: patchFor(input, ctx, c.cause === 'startup_probe' ? { kind: 'raise-startup', periodSeconds: rec.periodSeconds, failureThreshold: rec.failureThreshold } : ctx.spec?.liveness ? { kind: 'add-startup', liveness: ctx.spec.liveness, periodSeconds: rec.periodSeconds, failureThreshold: rec.failureThreshold } : undefined),
    };
  }
  const text = adviceFor(c, a);
  return { text, startup_probe: null, basis: null, what_if: null, per_class: null, patch: null };
}

/** Advice for a probe kill of a service that was up: about the probe's check, timeout and threshold, not init. */
function runningAdvice(c: Classification, a: Analysed): string {
  const p = a.probe;
  const start = a.incarnation.startedAt;
  const at = c.killedAt ?? a.endAt;
  const ran = start !== undefined && at !== undefined ? ` after ${formatSeconds(secondsBetween(start, at))} of service` : '';
  const check = p?.target ? ` (${p.target})` : '';
  const tolerance = p ? ` timeoutSeconds (${p.timeoutSeconds} s) and failureThreshold x periodSeconds (${p.failureThreshold} x ${p.periodSeconds} s)` : ' timeoutSeconds and failureThreshold';
  return `The ${c.probeType ?? 'liveness'} probe killed a service that was up${ran}: a running-service failure (deadlock, overload, a dependency it waits on), not a slow start. Find out why its check${check} stopped answering (see its last lines); check that the probe tests the process itself rather than its dependencies, and whether${tolerance} fit the pauses it can have. A startupProbe would not change this.`;
}

function adviceFor(c: Classification, a: Analysed): string {
  switch (c.cause) {
    case 'liveness_probe':
    case 'startup_probe':
      return a.initializing === false
        ? runningAdvice(c, a)
        : `The ${c.probeType ?? 'liveness'} probe killed it; without a step profile or history Killtrace cannot tell whether init was still running. Compare the uptime with the probe's budget, and add a startupProbe if init can take longer.`;
    case 'oom_killed':
      return 'The kernel OOM killer ended it: raise the memory limit or reduce the memory the app needs; no probe change will help.';
    case 'evicted':
      return 'The kubelet evicted the pod under node pressure: set requests that reflect real usage, or move the workload to a node with room.';
    case 'preempted':
      return 'A higher-priority pod preempted it: review PriorityClasses or add capacity.';
    case 'node_shutdown':
      return 'The node shut down: nothing to change in the pod; check the node lifecycle.';
    case 'stopped':
      return 'The API stopped it (deletion, rollout or scale-down): expected unless nobody asked for it.';
    case 'app_exit':
      return 'The application exited by itself: read its last lines and exit code; probes were not involved.';
    default:
      return 'Not enough evidence to say why it ended: collect the kubelet journal (journalctl -u kubelet) and events closer to the restart.';
  }
}

function timeline(a: Analysed, run: ProbeFailure[], record: RestartRecord): TimelineEntry[] {
  const entries: Array<{ at: number; source: TimelineEntry['source']; text: string }> = [];
  const inc = a.incarnation;
  const sourceOfStart = inc.startSource === 'app_log' ? 'app_log' : inc.startSource === 'kubelet_log' ? 'kubelet_log' : inc.startSource === 'event' ? 'event' : 'pod_status';
  if (inc.startedAt !== undefined) entries.push({ at: inc.startedAt, source: sourceOfStart, text: `incarnation ${inc.restartCount} started` });
  const decisionAt = a.classification.killedAt ?? a.endAt;
  if (a.tracker && decisionAt !== undefined) {
    const progress = a.tracker.progressAt(decisionAt);
    for (const step of progress.completed) entries.push({ at: step.startedAt, source: 'app_log', text: `step ${step.name} started (took ${formatSeconds(((step.endedAt ?? step.startedAt) - step.startedAt) / 1000)})` });
    if (progress.current) entries.push({ at: progress.current.startedAt, source: 'app_log', text: `step ${progress.current.name} started` });
    if (progress.readyAt !== undefined) entries.push({ at: progress.readyAt, source: 'app_log', text: 'init complete (ready line)' });
  }
  if (a.learned && !a.tracker?.profile && record.killtrace.init.step_source === 'learned') {
    for (const s of a.learned.progress.completed) entries.push({ at: s.startedAt, source: 'app_log', text: `learned step ${s.step.name} started${s.endedAt !== undefined ? ` (took ${formatSeconds((s.endedAt - s.startedAt) / 1000)})` : ''}` });
    const current = a.learned.progress.current;
    if (current) entries.push({ at: current.startedAt, source: 'app_log', text: `learned step ${current.step.name} started` });
  }
  for (const f of run) entries.push({ at: f.at, source: f.source, text: `${f.probeType} probe failed${f.output ? `: ${f.output}` : ''}` });
  const last = record.killtrace.log.last_line_at;
  if (last && record.killtrace.log.last_line !== null) entries.push({ at: Date.parse(last), source: 'app_log', text: `last line: ${truncate(record.killtrace.log.last_line, 200)}` });
  for (const mark of inc.episode?.marks ?? []) {
    entries.push({ at: mark.at, source: mark.source, text: mark.kind === 'died' ? 'container died' : mark.text });
  }
  if (a.preStopTimeout) entries.push({ at: a.preStopTimeout.at, source: 'kubelet_log', text: a.preStopTimeout.text });
  if (inc.terminated && !(inc.episode?.marks ?? []).some((m) => m.kind === 'status_end') && inc.terminated.finishedAt !== undefined) {
    entries.push({ at: inc.terminated.finishedAt, source: 'pod_status', text: `terminated: ${inc.terminated.reason ?? 'exit'} (exit ${inc.terminated.exitCode})` });
  }
  entries.push({ at: decisionAt ?? inc.startedAt ?? 0, source: 'inference', text: `${a.classification.cause} (${a.classification.confidence}): ${a.classification.reasoning}` });
  entries.sort((x, y) => x.at - y.at || sourceRank(x.source) - sourceRank(y.source));
  const trimmed = entries.length > MAX_TIMELINE ? [...entries.slice(0, MAX_TIMELINE / 2), ...entries.slice(-MAX_TIMELINE / 2)] : entries;
  return trimmed.map((e) => ({ at: toIso(e.at), source: e.source, text: e.text }));
}

function sourceRank(source: TimelineEntry['source']): number {
  return ['pod_status', 'kubelet_log', 'event', 'app_log', 'inference'].indexOf(source);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const CAUSE_PHRASE: Record<string, string> = {
  liveness_probe: 'killed by the kubelet after its liveness probe failed',
  startup_probe: 'killed by the kubelet after its startup probe failed',
  oom_killed: 'killed by the kernel OOM killer',
  evicted: 'evicted by the kubelet',
  preempted: 'preempted for a higher-priority pod',
  app_exit: 'ended by the application itself',
  stopped: 'stopped through the API (deletion, rollout or scale-down)',
  node_shutdown: 'stopped because its node shut down',
  unknown: 'ended for a reason the evidence does not show',
};

function explain(r: RestartRecord, c: Classification, a: Analysed): string {
  const kt = r.killtrace;
  const kindWord = kt.container.kind === 'sidecar' ? 'Sidecar container' : kt.container.kind === 'init' ? 'Init container' : 'Container';
  const where = `${kindWord} ${r.kubernetes.container.name} of pod ${r.kubernetes.namespace}/${r.kubernetes.pod.name}${r.kubernetes.node.name ? ` on ${r.kubernetes.node.name}` : ''} (restart ${kt.restart.count})`;
  const parts = [`${where} was ${CAUSE_PHRASE[c.cause] ?? c.cause}`];
  if (kt.probe_induced && kt.probe.budget_seconds !== null) {
    const failures = kt.probe.failures !== null ? `${kt.probe.failures} failed ${kt.probe.type} probes` : `failed ${kt.probe.type} probes`;
    parts[0] += ` (${failures}, ${kt.probe.period_seconds} s apart: ${kt.probe.budget_seconds} s of tolerance)`;
  }
  let sentence = `${parts[0]}${kt.uptime_seconds !== null ? ` after ${formatSeconds(kt.uptime_seconds)} of uptime` : ''}.`;
  if (kt.init.step && kt.init.step_elapsed_seconds !== null && kt.init.step_source === 'learned') {
    const usual = kt.init.step_median_seconds;
    const samples = a.learned?.progress.current?.step.durations.length ?? 0;
    sentence += ` ${kt.init.phase === 'initializing' ? 'It was still initializing: l' : 'L'}earned from this workload's logs (no step profile), step \`${kt.init.step}\` had run ${formatSeconds(kt.init.step_elapsed_seconds)}${usual !== null && usual !== undefined ? `; it usually takes ${formatSeconds(usual)} (median of ${samples} incarnation(s) that reached ready${kt.init.step_p90_seconds !== null && kt.init.step_p90_seconds !== undefined && samples > 1 ? `, p90 ${formatSeconds(kt.init.step_p90_seconds)}` : ''})` : ''}.`;
  } else if (kt.init.step && kt.init.step_elapsed_seconds !== null) {
    sentence += ` It was still initializing: step ${kt.init.step} had been running for ${formatSeconds(kt.init.step_elapsed_seconds)}${kt.init.completed_steps.length > 0 ? ` (done: ${kt.init.completed_steps.join(', ')})` : ''}.`;
  } else if (kt.init.phase === 'initializing' && kt.probe.type === 'liveness' && !kt.init.profile) {
    sentence += ` It had not finished initializing: the liveness probe never passed once in this incarnation (it failed from its first check, ${kt.probe.initial_delay_seconds ?? 0} s after the start).`;
  } else if (kt.init.phase === 'initializing') {
    sentence += ' It had not finished initializing.';
  } else if (kt.init.phase === 'running' && kt.init.profile) {
    sentence += ' Init had completed.';
  }
  if (kt.log.silence_seconds !== null && kt.log.last_line !== null && kt.log.silence_seconds >= 5) {
    sentence += ` Its last log line ("${truncate(kt.log.last_line, 100)}") came ${formatSeconds(kt.log.silence_seconds)} before the ${kt.killed_at ? 'kill' : 'end'}.`;
  }
  if (kt.exit_code !== null) sentence += ` Exit code ${kt.exit_code}${kt.reason ? ` (${kt.reason})` : ''}.`;
  if (kt.exit_code === 137 && kt.killed_at !== null && c.decidedBy === 'kubelet' && kt.reason !== 'OOMKilled') {
    sentence += ' Exit 137 after the kill decision: it did not stop within the grace period after SIGTERM, so the runtime sent SIGKILL.';
  }
  if (kt.prestop_outlived_grace) {
    const grace = a.preStopTimeout?.gracePeriodSeconds;
    sentence += ` Its preStop hook outlived the grace period${grace !== undefined ? ` (${grace} s)` : ''}: the kubelet journal says "PreStop hook not completed in grace period", so the kubelet stopped waiting for the hook and sent SIGTERM with only the 2 s minimum left before SIGKILL. Shorten the hook or raise terminationGracePeriodSeconds.`;
  }
  if (kt.kill_event) {
    sentence += ` This kill is one of ${kt.kill_event.count} that one aggregated Killing event counts (the first at ${kt.kill_event.first_at}, the last at ${kt.kill_event.last_at}).`;
  }
  if (kt.restart.count_source === 'fallback') {
    sentence += ' No evidence names its restart count (no pod status, log file or Started event counts): the kills shown are numbered from 0 in time order.';
  } else if (kt.restart.count_source === 'event_counts') {
    sentence += ' Its restart count is inferred from the Started/Killing event counts.';
  }
  sentence += ` Confidence ${kt.confidence}: ${c.reasoning}.`;
  if (kt.recommendation.text) sentence += ` ${kt.recommendation.text}`;
  return sentence;
}
