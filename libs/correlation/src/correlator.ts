import type { ContextFact, EventSignal, KernelOomSignal, KubeletSignal, NodeSignal, PodContext, RestartRecord, Signal, StepProfile } from '@killtrace/schemas';
import { nodeContextFact, restartRecordId, signalTime } from '@killtrace/schemas';
import { eventKey, kubeletKey, mergePodEvidence, newContainerEvidence, newerEvent, newPodEvidence, type ContainerEvidence, type PodEvidence } from './evidence.js';
import type { ClusterContext } from './cluster-context.js';
import { fromLearnedFact, killsFromFact, podKillFacts, podLearnedIncarnations } from './context-facts.js';
import { applyKernelOoms, kernelOomKey, type UnmatchedOom } from './kernel-oom.js';
import { learnedLookup, type LearnedLookup, type NodeClassOf } from './learned-index.js';
import { DEFAULT_NODE_CLASS_LABELS, nodeClassOf } from './node-class.js';
import { collectWorkloadProbes, podProbeInits, type WorkloadProbes } from './probe-lint.js';
import type { IncarnationTemplates, LearnedModel } from './learned-steps.js';
import { analyseContainer, finishContainerRecords, probeKillsOf, type ContainerAnalysis, type HistoryIndex, type WorkloadKill } from './record-assembly.js';
import { profileSource, type CorrelatorState, type PodState } from './correlator-state.js';
import { compileProfile, findProfile, type CompiledProfile } from './step-profiles.js';
import { readStatus } from './status-convention.js';
import { StepTracker, type StepTrackerState } from './step-tracker.js';
import { workloadKey } from './workload.js';

/** A 53-bit hash of a record's JSON (cyrb53): enough to tell "changed" apart, far smaller than the JSON. */
function fingerprintOf(record: RestartRecord): number {
  return hashText(JSON.stringify(record));
}

/** cyrb53 of a string. */
function hashText(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * The correlation core: signals in, restart records out. Pure and deterministic: no clock, no I/O, and the
 * records depend only on the set of signals ingested, not on their order, so `killtrace analyze` over files
 * and the streaming correlator over Kafka produce the same records for the same evidence.
 */

export interface CorrelatorOptions {
  /** `orchestrator.cluster.name` of every record. */
  clusterName: string;
  /**
   * Every step profile, in matching order (the first whose `match` fits wins). The core ships none: the built-in
   * ones are data files that the caller loads and merges (libs/profiles, `resolveProfiles`).
   */
  profiles?: readonly StepProfile[];
  /** Learn init steps from the logs of workloads without a matching profile (learned-steps.ts; default true). */
  learnSteps?: boolean;
  /** Node labels whose values make a node class (node-class.ts; default DEFAULT_NODE_CLASS_LABELS). */
  nodeClassLabels?: readonly string[];
  /**
   * Cluster-wide init observations, placements and node labels shared by the cores of every partition
   * (cluster-context.ts, decision 0017): pods this core does not hold count in its workloads' history as if it did.
   */
  context?: ClusterContext;
}

/** One finished init of one incarnation (Correlator.initDurations). */
export interface InitDuration {
  /** `namespace/owner/container` (workload.ts workloadKey). */
  workload: string;
  podUid: string;
  restartCount: number;
  /** Seconds from the container's start to the end of init. */
  seconds: number;
  source: 'profile' | 'ready_condition' | 'learned';
  nodeClass?: string;
}

/** A record with its document id, and whether later evidence may still change it. */
export interface RecordUpdate {
  id: string;
  record: RestartRecord;
}

/** A container whose pod status counts more terminations than the evidence could explain. */
export interface CoverageGap {
  namespace: string;
  pod: string;
  uid: string;
  container: string;
  /** Terminations the pod status counts (status-convention.ts: restartCount, plus one when the newest incarnation has ended). */
  terminations: number;
  /** Of those, how many have a record. */
  explained: number;
  /** What counts them: the pod status' restartCount, or (no status) the counts of aggregated Killing events. */
  countedBy: 'pod_status' | 'kill_events';
}

export interface CorrelatorStats {
  pods: number;
  containers: number;
  incarnationsWithLogs: number;
  signals: Record<Signal['kind'], number>;
  /** Signals about objects that are not pods (nodes, deployments): not used. */
  ignored: number;
}

export class Correlator {
  private readonly pods = new Map<string, PodEvidence>();
  private readonly uidsByName = new Map<string, Set<string>>();
  private profiles: CompiledProfile[];
  private readonly kubeletSeen = new Set<string>();
  private readonly counts: CorrelatorStats['signals'] = { pod: 0, event: 0, kubelet: 0, app_log: 0, kernel_oom: 0, node: 0 };
  /** Kernel OOM kills by pod uid (from their cgroup path), deduplicated; joined in `podRecords` (kernel-oom.ts). */
  private readonly kernelOoms = new Map<string, Map<string, KernelOomSignal>>();
  /** Kernel OOM kills outside any pod (system services): counted for the report, never a record. */
  private kernelOomsOutsidePods = 0;
  private ignored = 0;
  /** Pods whose records may have changed since the last `poll`. */
  private readonly dirty = new Set<string>();
  /** Per record id, a hash of the record last returned by `poll`. */
  private readonly emitted = new Map<string, number>();
  /** Per pod, the earliest time one of its provisional records turns final. */
  private readonly finalizeAt = new Map<string, number>();
  /** Per workload, a digest of its init history at the last poll. */
  private readonly historyDigest = new Map<string, string>();
  /** Per pod (key), its probe kills per workload container at its latest analysis (the workload-wide what-if). */
  private readonly podKills = new Map<string, Map<string, WorkloadKill[]>>();
  /** The same, by workload container then pod (what a record's what-if reads). */
  private readonly killsByWorkload = new Map<string, Map<string, WorkloadKill[]>>();
  /**
   * The latest event time of any signal ingested: how far the input reaches (a running container was alive then).
   * A maximum over the set of signals, so independent of their order.
   */
  private latestAt = Number.NEGATIVE_INFINITY;
  /** Node labels by node name (Node objects), for node classes. */
  private readonly nodes = new Map<string, Record<string, string>>();
  /** The context's version at the last poll (its changes may change records). */
  private polledContextVersion = 0;
  /** Bumped by every change of the evidence: `history()` is computed once per evidence and context version. */
  private generation = 0;
  private historyCache: { generation: number; contextVersion: number; index: HistoryIndex } | undefined;
  /** Per pod (key), what it gives step learning (its context fact's form) and a hash per workload container; recomputed when the pod is dirty. */
  private readonly podLearnedCache = new Map<string, { facts: NonNullable<PodContext['learned']>; digests: Map<string, number> }>();
  /** Per pod (key), those hashes at the last poll: a change re-polls the workload's other pods (their learned steps). */
  private readonly learnedPolled = new Map<string, Map<string, number>>();
  private contextKillsIndex: { version: string; index: Map<string, WorkloadKill[]> } | undefined;
  private contextLearnedIndex: { version: string; index: Map<string, IncarnationTemplates[]> } | undefined;
  /** Per context fact (facts are replaced, never changed), the hash of its learned part per workload container. */
  private readonly learnedFactHashes = new WeakMap<PodContext, Map<string, number>>();
  /** Bumped by every Node object ingested (node classes of context pods may change). */
  private nodesVersion = 0;
  /** Per held pod (key), its context fact as last built (null: it tells nothing); dropped when it is analysed again or evicted. */
  private readonly podFactCache = new Map<string, PodContext | null>();
  private lastLog: { uid: string; podKey: string; container: string; restartCount: number; tracker: StepTracker } | undefined;

  constructor(private readonly options: CorrelatorOptions) {
    this.profiles = (options.profiles ?? []).map(compileProfile);
  }

  /**
   * Replaces the step profiles, keeping every piece of evidence. A profile is bound to an incarnation when its first
   * log line arrives (the tracker keeps only the marks its profile asks for, not the lines), so the new profiles
   * apply to incarnations whose logs start from now on; those already followed keep the profile they started with.
   */
  setProfiles(profiles: readonly StepProfile[]): void {
    this.profiles = profiles.map(compileProfile);
  }

  /**
   * The whole state as plain data (correlator-state.ts): `Correlator.restore` of it gives a core that answers every
   * later `ingest`/`poll`/`evictBefore` exactly as this one does, including what it already emitted. Shares no
   * mutable object with this core (kubelet lines, events and snapshots are immutable once ingested).
   */
  saveState(): CorrelatorState {
    const profileIndex = new Map<CompiledProfile, number>();
    const profiles: ReturnType<typeof profileSource>[] = [];
    const indexOf = (profile: CompiledProfile): number => {
      let index = profileIndex.get(profile);
      if (index === undefined) {
        index = profiles.length;
        profileIndex.set(profile, index);
        profiles.push(profileSource(profile));
      }
      return index;
    };
    const pods: PodState[] = [...this.pods.values()].map((pod) => ({
      key: pod.key,
      namespace: pod.namespace,
      name: pod.name,
      ...(pod.uid === undefined ? {} : { uid: pod.uid }),
      ...(pod.snapshot === undefined ? {} : { snapshot: pod.snapshot }),
      ...(pod.snapshotObservedAt === undefined ? {} : { snapshotObservedAt: pod.snapshotObservedAt }),
      containers: [...pod.containers.values()].map((c) => ({
        name: c.name,
        kubelet: [...c.kubelet],
        logs: [...c.logs].map(([k, tracker]): [number, PodState['containers'][number]['logs'][number][1]] => [
          k,
          { ...tracker.toState(), ...(tracker.profile === undefined ? {} : { profile: indexOf(tracker.profile) }) },
        ]),
      })),
      events: [...pod.events],
      podKubelet: [...pod.podKubelet],
    }));
    const last = this.lastLog;
    return {
      version: 1,
      profiles,
      pods,
      uidsByName: [...this.uidsByName].map(([name, uids]) => [name, [...uids]]),
      counts: { ...this.counts },
      kernelOoms: [...this.kernelOoms].map(([uid, kills]) => [uid, [...kills]]),
      kernelOomsOutsidePods: this.kernelOomsOutsidePods,
      ignored: this.ignored,
      dirty: [...this.dirty],
      emitted: [...this.emitted],
      finalizeAt: [...this.finalizeAt],
      historyDigest: [...this.historyDigest],
      ...(Number.isFinite(this.latestAt) ? { latestAt: this.latestAt } : {}),
      nodes: [...this.nodes].map(([name, labels]) => [name, { ...labels }]),
      podKills: [...this.podKills].map(([pod, byWorkload]) => [pod, [...byWorkload].map(([w, kills]) => [w, kills.map((k) => ({ ...k }))])]),
      killsByWorkload: [...this.killsByWorkload].map(([w, byPod]) => [w, [...byPod].map(([pod, kills]) => [pod, kills.map((k) => ({ ...k }))])]),
      ...(last === undefined ? {} : { lastLog: { uid: last.uid, podKey: last.podKey, container: last.container, restartCount: last.restartCount } }),
    };
  }

  /**
   * A core rebuilt from `saveState` output, with `options` for what comes next (profiles for incarnations not yet
   * seen). Trackers keep the profile they were bound to (stored in the state). Throws when the state does not hold
   * together (a tracker whose profile index or step count does not fit): the caller then rebuilds by replay.
   */
  static restore(options: CorrelatorOptions, state: CorrelatorState): Correlator {
    if (state.version !== 1) throw new Error(`unknown correlator state version ${String(state.version)}`);
    const core = new Correlator(options);
    const profiles = state.profiles.map(compileProfile);
    for (const p of state.pods) {
      const pod: PodEvidence = newPodEvidence(p.key, p.namespace, p.name, p.uid);
      if (p.snapshot !== undefined) pod.snapshot = p.snapshot;
      if (p.snapshotObservedAt !== undefined) pod.snapshotObservedAt = p.snapshotObservedAt;
      for (const c of p.containers) {
        const container = newContainerEvidence(c.name);
        container.kubelet.push(...c.kubelet);
        for (const [k, t] of c.logs) {
          const profile = t.profile === undefined ? undefined : profiles[t.profile];
          if (t.profile !== undefined && profile === undefined) throw new Error(`pod ${p.key}: tracker refers to profile ${t.profile} of ${profiles.length}`);
          container.logs.set(k, StepTracker.fromState(t, profile));
        }
        pod.containers.set(c.name, container);
      }
      for (const [key, event] of p.events) pod.events.set(key, event);
      pod.podKubelet.push(...p.podKubelet);
      core.pods.set(pod.key, pod);
      // Every stored kubelet line is in the dedup set and vice versa (ingestKubelet, evictBefore).
      for (const container of pod.containers.values()) for (const signal of container.kubelet) core.kubeletSeen.add(kubeletKey(signal));
      for (const signal of pod.podKubelet) core.kubeletSeen.add(kubeletKey(signal));
    }
    for (const [name, uids] of state.uidsByName) core.uidsByName.set(name, new Set(uids));
    Object.assign(core.counts, state.counts);
    for (const [uid, kills] of state.kernelOoms) core.kernelOoms.set(uid, new Map(kills));
    core.kernelOomsOutsidePods = state.kernelOomsOutsidePods;
    core.ignored = state.ignored;
    for (const key of state.dirty) core.dirty.add(key);
    for (const [id, fingerprint] of state.emitted) core.emitted.set(id, fingerprint);
    for (const [key, at] of state.finalizeAt) core.finalizeAt.set(key, at);
    for (const [key, digest] of state.historyDigest) core.historyDigest.set(key, digest);
    core.latestAt = state.latestAt ?? Number.NEGATIVE_INFINITY;
    for (const [name, labels] of state.nodes) core.nodes.set(name, { ...labels });
    for (const [pod, byWorkload] of state.podKills) core.podKills.set(pod, new Map(byWorkload.map(([w, kills]) => [w, kills.map((k) => ({ ...k }))])));
    for (const [w, byPod] of state.killsByWorkload) core.killsByWorkload.set(w, new Map(byPod.map(([pod, kills]) => [pod, kills.map((k) => ({ ...k }))])));
    // The cluster context is not part of the state (its reader rebuilds it): the first poll after a restore looks at it.
    core.polledContextVersion = -1;
    const last = state.lastLog;
    const tracker = last === undefined ? undefined : core.pods.get(last.podKey)?.containers.get(last.container)?.logs.get(last.restartCount);
    if (last !== undefined && tracker !== undefined) core.lastLog = { ...last, tracker };
    return core;
  }

  /** Adds one piece of evidence. */
  ingest(signal: Signal): void {
    this.generation += 1;
    this.counts[signal.kind] += 1;
    const at = signalTime(signal);
    if (at !== undefined && at > this.latestAt) this.latestAt = at;
    switch (signal.kind) {
      case 'pod':
        return this.ingestPod(signal);
      case 'event':
        return this.ingestEvent(signal);
      case 'kubelet':
        return this.ingestKubelet(signal);
      case 'app_log':
        return this.ingestAppLog(signal);
      case 'node':
        return this.ingestNode(signal);
      case 'kernel_oom':
        return this.ingestKernelOom(signal);
    }
  }

  /**
   * Kernel OOM kills no record explains, and why (pod unknown, container or incarnation not identifiable, not in a
   * pod at all), so a report can list them instead of dropping them.
   */
  unmatchedKernelOoms(): UnmatchedOom[] {
    const out: UnmatchedOom[] = [];
    const history = this.history();
    const learned = this.learned();
    const nodes = this.workloadNodesIndex();
    for (const [uid, kills] of this.kernelOoms) {
      const pod = this.pods.get(uid);
      if (!pod) {
        for (const k of kills.values()) out.push({ podUid: uid, containerId: k.containerId, process: k.process, at: k.at, reason: 'pod_unknown' });
        continue;
      }
      this.podRecords(pod, history, learned, nodes, out);
    }
    return out.sort((a, b) => a.at - b.at);
  }

  /** Kernel OOM kills read that were outside any pod's cgroup. */
  kernelOomsOutsidePodCount(): number {
    return this.kernelOomsOutsidePods;
  }

  /** Every restart record the evidence supports so far, oldest first. */
  records(): RestartRecord[] {
    const history = this.history();
    const learned = this.learned();
    const nodes = this.workloadNodesIndex();
    // Every pod classified first: a pod's what-if counts the kills of all pods of its workload.
    this.podKills.clear();
    this.killsByWorkload.clear();
    this.podFactCache.clear();
    const analysed = [...this.pods.values()].map((pod) => ({ pod, analyses: this.podAnalyses(pod, history, learned, nodes) }));
    const out: RestartRecord[] = [];
    for (const { pod, analyses } of analysed) out.push(...this.finishPod(pod, analyses));
    return out.sort((a, b) => a['@timestamp'].localeCompare(b['@timestamp']) || a.kubernetes.pod.name.localeCompare(b.kubernetes.pod.name));
  }

  /**
   * Records that are new or changed since the last call, for the streaming correlator. Records stay
   * `provisional` until `watermark` (event time the input has reached) passes their end by `latenessMs`.
   * Only pods that can have changed are rebuilt: those with new evidence, those whose provisional records are
   * due to turn final, and those of a workload whose init history changed (it feeds every pod's recommendation).
   */
  poll(watermark: number, latenessMs: number): RecordUpdate[] {
    this.polledContextVersion = this.options.context?.version ?? 0;
    const history = this.history();
    const candidates = new Set<string>(this.dirty);
    for (const [key, finalizeAt] of this.finalizeAt) if (finalizeAt <= watermark) candidates.add(key);
    const nodes = this.workloadNodesIndex();
    const changed = this.changedWorkloads(history, nodes, this.contextWorkloadDigests());
    for (const workload of this.learnedChanges(candidates)) changed.add(workload);
    if (changed.size > 0) {
      for (const pod of this.pods.values()) {
        const names = [...pod.containers.keys(), ...(pod.snapshot?.statuses ?? []).map((s) => s.name)];
        if (names.some((name) => changed.has(workloadKey(pod.namespace, pod.name, pod.snapshot, name)))) candidates.add(pod.key);
      }
    }
    const updates: RecordUpdate[] = [];
    const learned = this.learned();
    // Classify the candidates first; where a workload's probe kills changed, its other pods' what-if did too.
    const analysed = new Map<string, ContainerAnalysis[]>();
    const killDigest = (): Map<string, string> => {
      const digest = new Map<string, string[]>();
      for (const [workload, byPod] of this.killsByWorkload) for (const list of byPod.values()) digest.set(workload, [...(digest.get(workload) ?? []), ...list.map((k) => `${k.podUid}/${k.container}/${k.restartCount}/${k.nodeClass ?? ''}/${k.initializing}/${k.elapsedSeconds ?? ''}`)]);
      return new Map([...digest].map(([w, list]) => [w, list.sort().join(',')]));
    };
    const before = killDigest();
    for (const key of [...this.podKills.keys()]) if (!this.pods.has(key)) this.setPodKills(key, new Map());
    for (const key of candidates) {
      const pod = this.pods.get(key);
      if (pod) analysed.set(key, this.podAnalyses(pod, history, learned, nodes));
    }
    const after = killDigest();
    const killsChanged = new Set([...before.keys(), ...after.keys()].filter((w) => before.get(w) !== after.get(w)));
    if (killsChanged.size > 0) {
      for (const pod of this.pods.values()) {
        if (analysed.has(pod.key)) continue;
        if ([...pod.containers.keys()].some((name) => killsChanged.has(workloadKey(pod.namespace, pod.name, pod.snapshot, name)))) {
          candidates.add(pod.key);
          analysed.set(pod.key, this.podAnalyses(pod, history, learned, nodes));
        }
      }
    }
    for (const key of candidates) {
      const pod = this.pods.get(key);
      if (!pod) continue;
      let nextFinalize = Number.POSITIVE_INFINITY;
      for (const record of this.finishPod(pod, analysed.get(key) ?? [])) {
        const finalizeAt = Date.parse(record.killtrace.finished_at ?? record['@timestamp']) + latenessMs;
        const final = finalizeAt <= watermark;
        record.killtrace.status = final ? 'final' : 'provisional';
        if (!final) nextFinalize = Math.min(nextFinalize, finalizeAt);
        const id = restartRecordId(record.kubernetes.pod.uid, record.kubernetes.container.name, record.killtrace.restart.count);
        const fingerprint = fingerprintOf(record);
        if (this.emitted.get(id) === fingerprint) continue;
        this.emitted.set(id, fingerprint);
        updates.push({ id, record });
      }
      if (Number.isFinite(nextFinalize)) this.finalizeAt.set(key, nextFinalize);
      else this.finalizeAt.delete(key);
    }
    this.dirty.clear();
    return updates;
  }

  /**
   * Workload containers whose learning input from this core's pods changed since the last poll: those of the
   * `candidates` (pods with new evidence) whose incarnations tell step learning something new, and those of pods
   * evicted since. Their other pods' learned steps may have changed too.
   */
  private learnedChanges(candidates: ReadonlySet<string>): Set<string> {
    const changed = new Set<string>();
    if (this.options.learnSteps === false) return changed;
    for (const [key, digests] of [...this.learnedPolled]) {
      if (this.pods.has(key)) continue;
      for (const workload of digests.keys()) changed.add(workload);
      this.learnedPolled.delete(key);
    }
    for (const key of candidates) {
      const pod = this.pods.get(key);
      if (!pod?.uid) continue;
      const now = this.podLearned(pod).digests;
      const before = this.learnedPolled.get(key);
      for (const workload of new Set([...now.keys(), ...(before?.keys() ?? [])])) if (now.get(workload) !== before?.get(workload)) changed.add(workload);
      if (now.size > 0) this.learnedPolled.set(key, now);
      else this.learnedPolled.delete(key);
    }
    return changed;
  }

  /** True when the cluster context changed since the last poll (records of this core may have changed). */
  contextPending(): boolean {
    return (this.options.context?.version ?? 0) !== this.polledContextVersion;
  }

  /**
   * Workloads whose init history differs from the last poll's: the observations with their nodes' classes, and the
   * classes the workload runs on (both feed every pod's recommendation, and may come from other partitions).
   */
  private changedWorkloads(history: HistoryIndex, workloadNodes: (key: string) => ReadonlySet<string>, fromContext: ReadonlyMap<string, string>): Set<string> {
    const changed = new Set<string>();
    const seen = new Set<string>();
    const keys = new Set<string>([...history.keys(), ...fromContext.keys()]);
    if (this.nodes.size > 0 || (this.options.context?.nodeCount ?? 0) > 0) {
      for (const pod of this.pods.values()) {
        for (const name of pod.containers.keys()) keys.add(workloadKey(pod.namespace, pod.name, pod.snapshot, name));
        for (const status of pod.snapshot?.statuses ?? []) keys.add(workloadKey(pod.namespace, pod.name, pod.snapshot, status.name));
      }
    }
    for (const key of keys) {
      const entries = history.get(key) ?? [];
      seen.add(key);
      const classes = [...workloadNodes(key)].map((n) => this.classOf(n) ?? '').sort().join(',');
      const digest = `${entries.map((e) => `${e.podName}/${e.restartCount}/${e.seconds}/${this.classOf(e.node) ?? ''}`).sort().join(',')}|${classes}|${fromContext.get(key) ?? ''}`;
      if (this.historyDigest.get(key) !== digest) {
        changed.add(key);
        this.historyDigest.set(key, digest);
      }
    }
    for (const key of [...this.historyDigest.keys()]) {
      if (!seen.has(key)) {
        changed.add(key);
        this.historyDigest.delete(key);
      }
    }
    return changed;
  }

  /**
   * Forgets every pod whose newest evidence (by event time) is older than `cutoff`, with its kubelet-line
   * dedup keys and the fingerprints `poll` remembers. Deterministic: whether a pod goes depends only on the set
   * of its evidence and on `cutoff`, never on arrival order, so a live run and a replay of the same window
   * evict the same pods. Returns how many pods were forgotten.
   */
  evictBefore(cutoff: number): number {
    let evicted = 0;
    for (const [uid, kills] of [...this.kernelOoms]) {
      if (!this.pods.has(uid) && [...kills.values()].every((k) => k.at < cutoff)) this.kernelOoms.delete(uid);
    }
    for (const [key, pod] of [...this.pods]) {
      if (podLatest(pod) >= cutoff) continue;
      this.generation += 1;
      this.pods.delete(key);
      this.podLearnedCache.delete(key);
      this.podFactCache.delete(key);
      this.dirty.delete(key);
      this.finalizeAt.delete(key);
      if (this.lastLog && this.lastLog.uid === pod.uid) this.lastLog = undefined;
      for (const container of pod.containers.values()) for (const signal of container.kubelet) this.kubeletSeen.delete(kubeletKey(signal));
      for (const signal of pod.podKubelet) this.kubeletSeen.delete(kubeletKey(signal));
      const nameKey = `${pod.namespace}/${pod.name}`;
      if (pod.uid) this.kernelOoms.delete(pod.uid);
      if (pod.uid) {
        const uids = this.uidsByName.get(nameKey);
        uids?.delete(pod.uid);
        if (uids?.size === 0) this.uidsByName.delete(nameKey);
        const prefix = `${pod.uid}:`;
        for (const id of [...this.emitted.keys()]) if (id.startsWith(prefix)) this.emitted.delete(id);
      }
      evicted += 1;
    }
    return evicted;
  }

  /**
   * Containers with more terminations than records: the pod status counts every restart, but the evidence of
   * the older ones (log files, journal lines, events) may be gone. Lets a report say what it could not explain.
   */
  coverage(records: readonly RestartRecord[]): CoverageGap[] {
    const explained = new Map<string, number>();
    for (const r of records) {
      const key = `${r.kubernetes.pod.uid}/${r.kubernetes.container.name}`;
      explained.set(key, (explained.get(key) ?? 0) + 1);
    }
    const gaps: CoverageGap[] = [];
    for (const pod of this.pods.values()) {
      if (!pod.uid) continue;
      const statuses = pod.snapshot ? [...pod.snapshot.statuses, ...pod.snapshot.initStatuses] : [];
      for (const status of statuses) {
        const terminations = readStatus(status).terminationCount;
        const found = explained.get(`${pod.uid}/${status.name}`) ?? 0;
        if (terminations > found) {
          gaps.push({ namespace: pod.namespace, pod: pod.name, uid: pod.uid, container: status.name, terminations, explained: found, countedBy: 'pod_status' });
        }
      }
      // Without a status, an aggregated Killing event still counts its kills (client-go eventObserve): those
      // between its first and last occurrence have no time of their own, so no record.
      const killCounts = new Map<string, number>();
      for (const event of pod.events.values()) {
        if (event.reason !== 'Killing' || event.container === undefined || statuses.some((st) => st.name === event.container)) continue;
        killCounts.set(event.container, (killCounts.get(event.container) ?? 0) + event.count);
      }
      for (const [container, terminations] of killCounts) {
        const found = explained.get(`${pod.uid}/${container}`) ?? 0;
        if (terminations > found) gaps.push({ namespace: pod.namespace, pod: pod.name, uid: pod.uid, container, terminations, explained: found, countedBy: 'kill_events' });
      }
    }
    return gaps.sort((a, b) => b.terminations - b.explained - (a.terminations - a.explained));
  }

  /** What has been ingested, for summaries and metrics. */
  stats(): CorrelatorStats {
    let containers = 0;
    let incarnationsWithLogs = 0;
    for (const pod of this.pods.values()) {
      containers += pod.containers.size;
      for (const c of pod.containers.values()) incarnationsWithLogs += c.logs.size;
    }
    return { pods: this.pods.size, containers, incarnationsWithLogs, signals: { ...this.counts }, ignored: this.ignored };
  }

  private ingestPod(signal: Extract<Signal, { kind: 'pod' }>): void {
    const snapshot = signal.pod;
    const pod = this.podFor(snapshot.namespace, snapshot.name, snapshot.uid);
    const newer =
      pod.snapshot === undefined ||
      signal.observedAt === undefined ||
      pod.snapshotObservedAt === undefined ||
      signal.observedAt >= pod.snapshotObservedAt;
    if (newer) {
      pod.snapshot = snapshot;
      pod.snapshotObservedAt = signal.observedAt ?? pod.snapshotObservedAt;
    }
    this.dirty.add(pod.key);
  }

  private ingestNode(signal: NodeSignal): void {
    this.nodes.set(signal.node.name, signal.node.labels);
    this.nodesVersion += 1;
    // Every pod on the node may get a class now; pods of the same workloads elsewhere see it through history.
    for (const pod of this.pods.values()) if (pod.snapshot?.nodeName === signal.node.name) this.dirty.add(pod.key);
  }

  /** The node class of a node, when its Node object was given. */
  private readonly classOf: NodeClassOf = (nodeName) => {
    const labels = nodeName === undefined ? undefined : (this.nodes.get(nodeName) ?? this.options.context?.nodeLabels(nodeName));
    return labels === undefined ? undefined : nodeClassOf(labels, this.options.nodeClassLabels ?? DEFAULT_NODE_CLASS_LABELS);
  };

  private ingestEvent(event: EventSignal): void {
    if (event.involved.kind !== 'Pod' || event.involved.namespace === undefined) {
      this.ignored += 1;
      return;
    }
    const pod = this.podFor(event.involved.namespace, event.involved.name, event.involved.uid, event.lastAt);
    const key = eventKey(event);
    const existing = pod.events.get(key);
    pod.events.set(key, existing ? newerEvent(existing, event) : event);
    this.dirty.add(pod.key);
  }

  private ingestKubelet(signal: KubeletSignal): void {
    const key = kubeletKey(signal);
    if (this.kubeletSeen.has(key)) return;
    this.kubeletSeen.add(key);
    const pod = this.podFor(signal.pod.namespace, signal.pod.name, signal.pod.uid, signal.at);
    if (signal.container) this.container(pod, signal.container).kubelet.push(signal);
    else pod.podKubelet.push(signal);
    this.dirty.add(pod.key);
  }

  private ingestKernelOom(signal: KernelOomSignal): void {
    if (signal.podUid === undefined) {
      this.kernelOomsOutsidePods += 1;
      return;
    }
    let kills = this.kernelOoms.get(signal.podUid);
    if (!kills) {
      kills = new Map();
      this.kernelOoms.set(signal.podUid, kills);
    }
    kills.set(kernelOomKey(signal), signal);
    if (this.pods.has(signal.podUid)) this.dirty.add(signal.podUid);
  }

  private ingestAppLog(signal: Extract<Signal, { kind: 'app_log' }>): void {
    // Hot path: log lines come in runs from one incarnation (a file, or a batch from one partition).
    const last = this.lastLog;
    if (last && last.uid === signal.pod.uid && last.container === signal.container && last.restartCount === signal.restartCount) {
      last.tracker.add(signal.at, signal.text);
      this.dirty.add(last.podKey);
      return;
    }
    const pod = this.podFor(signal.pod.namespace, signal.pod.name, signal.pod.uid);
    const container = this.container(pod, signal.container);
    let tracker = container.logs.get(signal.restartCount);
    if (!tracker) {
      const image = pod.snapshot?.containers.find((c) => c.name === signal.container)?.image;
      const profile = findProfile(this.profiles, { namespace: signal.pod.namespace, pod: signal.pod.name, container: signal.container, image });
      tracker = new StepTracker(profile, profile === undefined && this.options.learnSteps !== false);
      container.logs.set(signal.restartCount, tracker);
    }
    tracker.add(signal.at, signal.text);
    this.dirty.add(pod.key);
    last?.tracker.compact();
    this.lastLog = { uid: signal.pod.uid, podKey: pod.key, container: signal.container, restartCount: signal.restartCount, tracker };
  }

  /**
   * How the app logs of an incarnation not yet followed would be tracked: the index of its step profile among the
   * profiles given (none: learn, when learning is on). For a reader that follows logs elsewhere (analysis workers).
   */
  logTracking(target: { namespace: string; pod: string; uid: string; container: string }): { profile?: number; learn: boolean } {
    const image = this.pods.get(target.uid)?.snapshot?.containers.find((c) => c.name === target.container)?.image;
    const profile = findProfile(this.profiles, { namespace: target.namespace, pod: target.pod, container: target.container, image });
    return profile === undefined ? { learn: this.options.learnSteps !== false } : { profile: this.profiles.indexOf(profile), learn: false };
  }

  /** A tracker for an incarnation not yet followed, as `logTracking` says; hand it back with `ingestTrackedLogs`. */
  newLogTracker(target: { namespace: string; pod: string; uid: string; container: string }): StepTracker {
    const tracking = this.logTracking(target);
    return new StepTracker(tracking.profile === undefined ? undefined : this.profiles[tracking.profile], tracking.learn);
  }

  /**
   * Adds an incarnation's app logs followed outside `ingest` (a `newLogTracker` tracker, or the state of one made in a
   * worker with `logTracking`'s answer): the same evidence as ingesting its `signals` app log signals one by one,
   * whose latest time was `latestAt`. The incarnation must not be followed yet.
   */
  ingestTrackedLogs(target: { namespace: string; pod: string; uid: string; container: string; restartCount: number }, tracked: StepTracker | StepTrackerState, signals: number, latestAt: number | undefined): void {
    if (signals === 0) return;
    this.generation += 1;
    this.counts.app_log += signals;
    if (latestAt !== undefined && latestAt > this.latestAt) this.latestAt = latestAt;
    const pod = this.podFor(target.namespace, target.pod, target.uid);
    const container = this.container(pod, target.container);
    if (container.logs.has(target.restartCount)) throw new Error(`incarnation ${target.uid}/${target.container}/${target.restartCount} is already followed`);
    let tracker: StepTracker;
    if (tracked instanceof StepTracker) {
      tracker = tracked;
      tracker.compact();
    } else {
      const tracking = this.logTracking(target);
      tracker = StepTracker.fromState(tracked, tracking.profile === undefined ? undefined : this.profiles[tracking.profile]);
    }
    container.logs.set(target.restartCount, tracker);
    this.dirty.add(pod.key);
    this.lastLog?.tracker.compact();
    this.lastLog = undefined;
  }

  private container(pod: PodEvidence, name: string): ContainerEvidence {
    let container = pod.containers.get(name);
    if (!container) {
      container = newContainerEvidence(name);
      pod.containers.set(name, container);
    }
    return container;
  }

  /**
   * The evidence holder of a pod. Evidence without a uid (some kubelet lines) is keyed by name until the uid
   * is known; a name reused by a new pod (StatefulSets) is told apart by time.
   */
  private podFor(namespace: string, name: string, uid: string | undefined, at?: number): PodEvidence {
    const nameKey = `${namespace}/${name}`;
    if (uid) {
      let pod = this.pods.get(uid);
      if (!pod) {
        pod = newPodEvidence(uid, namespace, name, uid);
        this.pods.set(uid, pod);
        let uids = this.uidsByName.get(nameKey);
        if (!uids) {
          uids = new Set();
          this.uidsByName.set(nameKey, uids);
        }
        uids.add(uid);
      }
      const pending = this.pods.get(nameKey);
      if (pending && this.uidsByName.get(nameKey)?.size === 1) {
        mergePodEvidence(pod, pending);
        this.pods.delete(nameKey);
      }
      return pod;
    }
    const uids = this.uidsByName.get(nameKey);
    if (uids && uids.size > 0) {
      const chosen = this.chooseByTime([...uids], at);
      const pod = chosen ? this.pods.get(chosen) : undefined;
      if (pod) return pod;
    }
    let pending = this.pods.get(nameKey);
    if (!pending) {
      pending = newPodEvidence(nameKey, namespace, name);
      this.pods.set(nameKey, pending);
    }
    return pending;
  }

  private chooseByTime(uids: string[], at: number | undefined): string | undefined {
    if (uids.length === 1 || at === undefined) return uids[uids.length - 1];
    let best: { uid: string; start: number } | undefined;
    for (const uid of uids) {
      const start = this.pods.get(uid)?.snapshot?.startTime ?? Number.NEGATIVE_INFINITY;
      if (start <= at && (!best || start > best.start)) best = { uid, start };
    }
    return best?.uid ?? uids[0];
  }

  /**
   * Init durations per workload and container (computeHistory), computed once per state of the evidence and the
   * context: `poll` and the `contextFacts` that follows it share one index. Callers only read it.
   */
  private history(): HistoryIndex {
    const contextVersion = this.options.context?.version ?? 0;
    const cached = this.historyCache;
    if (cached && cached.generation === this.generation && cached.contextVersion === contextVersion) return cached.index;
    const index = this.computeHistory();
    this.historyCache = { generation: this.generation, contextVersion, index };
    return index;
  }

  /**
   * Init durations per workload and container: from each incarnation's `ready` line (step profiles), and from
   * the pod's Ready condition for the running incarnation of a single-container pod (no profile needed).
   */
  private computeHistory(): HistoryIndex {
    const index: HistoryIndex = new Map();
    const add = (key: string, entry: HistoryIndex extends Map<string, Array<infer E>> ? E : never): void => {
      const list = index.get(key);
      if (list) list.push(entry);
      else index.set(key, [entry]);
    };
    for (const pod of this.pods.values()) {
      if (!pod.uid) continue;
      const snapshot = pod.snapshot;
      const fromProfile = new Set<string>();
      for (const container of pod.containers.values()) {
        const key = workloadKey(pod.namespace, pod.name, snapshot, container.name);
        for (const [k, tracker] of container.logs) {
          if (tracker.ready === undefined || tracker.firstLine === undefined) continue;
          const status = snapshot?.statuses.find((s) => s.name === container.name);
          const statusStart = status?.restartCount === k && status.state.kind === 'running' ? status.state.startedAt : undefined;
          const start = Math.min(tracker.firstLine, statusStart ?? Number.POSITIVE_INFINITY);
          add(key, { podName: pod.name, uid: pod.uid, node: snapshot?.nodeName, restartCount: k, seconds: Math.max(0, tracker.ready - start) / 1000, source: 'profile' });
          fromProfile.add(`${container.name}/${k}`);
        }
      }
      const app = snapshot?.statuses ?? [];
      const only = app.length === 1 ? app[0] : undefined;
      // Without a readiness or startup probe the kubelet reports a container ready as soon as it runs (prober
      // manager UpdatePodStatus), so the Ready condition says nothing about init then.
      const onlySpec = snapshot?.containers.find((c) => c.name === only?.name);
      const readyMeansInit = onlySpec?.readiness !== undefined || onlySpec?.startup !== undefined;
      if (only && readyMeansInit && snapshot?.readySince !== undefined && only.ready && only.state.kind === 'running' && only.state.startedAt !== undefined) {
        const seconds = (snapshot.readySince - only.state.startedAt) / 1000;
        if (seconds >= 0 && !fromProfile.has(`${only.name}/${only.restartCount}`)) {
          add(workloadKey(pod.namespace, pod.name, snapshot, only.name), { podName: pod.name, uid: pod.uid, node: snapshot.nodeName, restartCount: only.restartCount, seconds, source: 'ready_condition' });
        }
      }
    }
    // Pods other cores hold: the observations their cores computed from the same kind of evidence (contextFacts).
    for (const fact of this.contextPods()) {
      for (const o of fact.init) add(o.workload, { podName: fact.name, uid: fact.uid, node: fact.node, restartCount: o.restartCount, seconds: o.seconds });
    }
    return index;
  }

  /**
   * What each pod this core holds tells the other partitions (decision 0017): its node, its workload containers,
   * its init observations, its probe kills (as of the last poll or records()), its incarnations' template
   * sightings and the init durations the probe linter counts, as the context topic carries them. Pods that tell
   * none of these are left out. Node objects this core was given (a bundle replayed into `signals`) are shared too,
   * with their class labels only.
   */
  contextFacts(): ContextFact[] {
    let init: Map<string, PodContext['init']> | undefined;
    const initOf = (uid: string): PodContext['init'] => {
      if (!init) {
        init = new Map();
        for (const [workload, entries] of this.history()) {
          for (const e of entries) {
            if (e.uid === undefined) continue;
            const list = init.get(e.uid) ?? [];
            list.push({ workload, restartCount: e.restartCount, seconds: e.seconds });
            init.set(e.uid, list);
          }
        }
      }
      return init.get(uid) ?? [];
    };
    const out: ContextFact[] = [];
    for (const [name, labels] of this.nodes) out.push(nodeContextFact(name, labels, this.options.nodeClassLabels ?? DEFAULT_NODE_CLASS_LABELS));
    for (const pod of this.pods.values()) {
      if (!pod.uid) continue;
      // Unchanged since it was built (no new evidence, not re-analysed): the same object, so the publisher can skip it.
      const cached = this.dirty.has(pod.key) ? undefined : this.podFactCache.get(pod.key);
      if (cached !== undefined) {
        if (cached !== null) out.push(cached);
        continue;
      }
      const fact = this.podFact(pod, initOf(pod.uid));
      this.podFactCache.set(pod.key, fact);
      if (fact !== null) out.push(fact);
    }
    return out;
  }

  /** A held pod's context fact, or null when it tells nothing. */
  private podFact(pod: PodEvidence, init: PodContext['init']): PodContext | null {
    if (!pod.uid) return null;
    const node = pod.snapshot?.nodeName;
    const observations = [...init].sort((a, b) => a.workload.localeCompare(b.workload) || a.restartCount - b.restartCount);
    const kills = podKillFacts(this.podKills.get(pod.key));
    const learned = this.options.learnSteps === false ? [] : this.podLearned(pod).facts;
    const probeInit = podProbeInits(pod);
    if (node === undefined && observations.length === 0 && kills.length === 0 && learned.length === 0 && probeInit.length === 0) return null;
    const names = new Set([...pod.containers.keys(), ...(pod.snapshot?.statuses ?? []).map((s) => s.name)]);
    const workloads = [...new Set([...names].map((n) => workloadKey(pod.namespace, pod.name, pod.snapshot, n)))].sort();
    return {
      kind: 'pod',
      uid: pod.uid,
      namespace: pod.namespace,
      name: pod.name,
      ...(node === undefined ? {} : { node }),
      workloads,
      init: observations,
      ...(kills.length > 0 ? { kills } : {}),
      ...(learned.length > 0 ? { learned } : {}),
      ...(probeInit.length > 0 ? { probeInit } : {}),
    };
  }

  /**
   * What a pod this core holds gives step learning, in its fact's form, with a hash per workload container; cached
   * until the pod has new evidence (the quiet-container liveness bound of learned-index.ts uses the horizon of the
   * moment it was computed).
   */
  private podLearned(pod: PodEvidence): { facts: NonNullable<PodContext['learned']>; digests: Map<string, number> } {
    const cached = this.podLearnedCache.get(pod.key);
    if (cached && !this.dirty.has(pod.key)) return cached;
    const facts = podLearnedIncarnations(pod, this.latestAt);
    const texts = new Map<string, string>();
    for (const f of facts) texts.set(f.workload, `${texts.get(f.workload) ?? ''}${JSON.stringify(f)}`);
    const entry = { facts, digests: new Map([...texts].map(([w, text]) => [w, hashText(text)])) };
    this.podLearnedCache.set(pod.key, entry);
    return entry;
  }

  /**
   * Per workload container, a digest of what pods of other partitions tell about it through the context (their
   * kills with their nodes' classes, their learned incarnations): a change rebuilds this core's pods of it.
   */
  private contextWorkloadDigests(): Map<string, string> {
    const parts = new Map<string, string[]>();
    const add = (workload: string, part: string): void => {
      const list = parts.get(workload);
      if (list) list.push(part);
      else parts.set(workload, [part]);
    };
    for (const fact of this.contextPods()) {
      const nodeClass = this.classOf(fact.node) ?? '';
      for (const k of fact.kills ?? []) add(k.workload, `k${fact.uid}/${k.container}/${k.restartCount}/${nodeClass}/${k.initializing}/${k.elapsedSeconds ?? ''}`);
      let hashes = this.learnedFactHashes.get(fact);
      if (!hashes) {
        const learned = new Map<string, string>();
        for (const inc of fact.learned ?? []) learned.set(inc.workload, `${learned.get(inc.workload) ?? ''}${JSON.stringify(inc)}`);
        hashes = new Map([...learned].map(([w, text]) => [w, hashText(text)]));
        this.learnedFactHashes.set(fact, hashes);
      }
      for (const [workload, hash] of hashes) add(workload, `l${fact.uid}/${nodeClass}/${hash}`);
    }
    return new Map([...parts].map(([w, list]) => [w, list.sort().join(',')]));
  }

  /** What the context-derived indexes depend on: the context and the node labels this core was given. */
  private contextIndexVersion(): string {
    return `${this.options.context?.version ?? 0}/${this.nodesVersion}`;
  }

  /** Learned incarnations of context pods (other partitions'), per workload container; indexed once per context and nodes version. */
  private contextLearned(): (workload: string) => IncarnationTemplates[] {
    let index: Map<string, IncarnationTemplates[]> | undefined;
    return (workload) => {
      const version = this.contextIndexVersion();
      if (!index && this.contextLearnedIndex?.version === version) index = this.contextLearnedIndex.index;
      if (!index) {
        const built = new Map<string, IncarnationTemplates[]>();
        for (const fact of this.contextPods()) {
          const nodeClass = this.classOf(fact.node);
          for (const inc of fact.learned ?? []) {
            const list = built.get(inc.workload) ?? [];
            list.push(fromLearnedFact(fact.uid, inc, nodeClass));
            built.set(inc.workload, list);
          }
        }
        index = built;
        this.contextLearnedIndex = { version, index };
      }
      return index.get(workload) ?? [];
    };
  }

  /** Context facts of pods this core does not hold (its own pods' evidence is newer than what it published). */
  private *contextPods(): Generator<PodContext> {
    const context = this.options.context;
    if (!context) return;
    for (const fact of context.podFacts()) if (!this.pods.has(fact.uid)) yield fact;
  }

  /** Init sequences learned per workload container (`namespace/owner/container`), for `killtrace profile suggest`. */
  learnedModels(): Map<string, LearnedModel> {
    const lookup = this.learned();
    const out = new Map<string, LearnedModel>();
    for (const pod of this.pods.values()) {
      if (!pod.uid) continue;
      for (const name of pod.containers.keys()) {
        const key = workloadKey(pod.namespace, pod.name, pod.snapshot, name);
        const model = out.has(key) ? undefined : lookup(key);
        if (model) out.set(key, model);
      }
    }
    return out;
  }

  /**
   * Every finished init the evidence shows, one per incarnation: a profile's ready line, the Ready condition (with a
   * readiness or startup probe), or where neither says, the end of the learned sequence (learned-steps.ts). What
   * the recommendation sizes the startupProbe from; the learn bench compares the sources.
   */
  initDurations(): InitDuration[] {
    const out: InitDuration[] = [];
    const known = new Set<string>();
    for (const [workload, entries] of this.history()) {
      for (const h of entries) {
        known.add(`${workload}|${h.uid ?? ''}/${h.restartCount}`);
        out.push({ workload, podUid: h.uid ?? '', restartCount: h.restartCount, seconds: h.seconds, source: h.source ?? 'profile', nodeClass: this.classOf(h.node) });
      }
    }
    for (const [workload, model] of this.learnedModels()) {
      for (const s of model.initSeconds) {
        const [uid = '', count = ''] = s.id.split('/');
        if (known.has(`${workload}|${uid}/${Number(count)}`)) continue;
        out.push({ workload, podUid: uid, restartCount: Number(count), seconds: s.seconds, source: 'learned', nodeClass: s.nodeClass });
      }
    }
    return out.sort((a, b) => a.workload.localeCompare(b.workload) || a.podUid.localeCompare(b.podUid) || a.restartCount - b.restartCount);
  }

  /**
   * Workload containers with probes, their node classes and the init durations seen: the probe linter's input. Pods
   * of other partitions (the context) count for the workloads this core has a pod of, so every partition gives the
   * same entry for a workload.
   */
  workloadProbes(): WorkloadProbes[] {
    return collectWorkloadProbes(this.pods.values(), this.classOf, this.learned(), [...this.contextPods()]);
  }

  /**
   * Nodes the pods of each workload container run on (for the classes its recommendation covers), indexed in one
   * pass on first use: one index per records()/poll() call.
   */
  private workloadNodesIndex(): (key: string) => ReadonlySet<string> {
    let index: Map<string, Set<string>> | undefined;
    const none: ReadonlySet<string> = new Set();
    return (key) => {
      if (this.nodes.size === 0 && (this.options.context?.nodeCount ?? 0) === 0) return none;
      if (!index) {
        const built = new Map<string, Set<string>>();
        for (const pod of this.pods.values()) {
          const node = pod.snapshot?.nodeName;
          if (!node) continue;
          const names = new Set([...pod.containers.keys(), ...(pod.snapshot?.statuses ?? []).map((s) => s.name)]);
          for (const name of names) {
            const k = workloadKey(pod.namespace, pod.name, pod.snapshot, name);
            const set = built.get(k) ?? new Set<string>();
            set.add(node);
            built.set(k, set);
          }
        }
        for (const fact of this.contextPods()) {
          if (fact.node === undefined) continue;
          for (const k of fact.workloads) {
            const set = built.get(k) ?? new Set<string>();
            set.add(fact.node);
            built.set(k, set);
          }
        }
        index = built;
      }
      return index.get(key) ?? none;
    };
  }

  /** Learned init sequences over the current evidence (undefined lookups when learning is off). */
  private learned(): LearnedLookup {
    if (this.options.learnSteps === false) return () => undefined;
    return learnedLookup(this.pods.values(), this.classOf, this.latestAt, this.options.context ? this.contextLearned() : undefined);
  }

  /** The pod's containers classified (record-assembly.ts analyseContainer); remembers its probe kills per workload. */
  private podAnalyses(pod: PodEvidence, history: HistoryIndex, learned: LearnedLookup, workloadNodes: (key: string) => ReadonlySet<string>): ContainerAnalysis[] {
    if (!pod.uid) return [];
    const names = new Set<string>([...pod.containers.keys()]);
    for (const status of pod.snapshot?.statuses ?? []) names.add(status.name);
    for (const status of pod.snapshot?.initStatuses ?? []) names.add(status.name);
    // Events alone (no node access) still state kill decisions: their containers get records too.
    for (const event of pod.events.values()) if (event.container !== undefined && event.reason === 'Killing') names.add(event.container);
    const out: ContainerAnalysis[] = [];
    const kills = new Map<string, WorkloadKill[]>();
    for (const name of [...names].sort()) {
      const analysis = analyseContainer({ pod, container: this.container(pod, name), clusterName: this.options.clusterName, history, learned, nodeClassOf: this.classOf, workloadNodes });
      if (!analysis) continue;
      out.push(analysis);
      const own = probeKillsOf(analysis);
      if (own.length > 0) kills.set(analysis.key, [...(kills.get(analysis.key) ?? []), ...own]);
    }
    this.setPodKills(pod.key, kills);
    return out;
  }

  /** Replaces one pod's probe kills in both indexes. */
  private setPodKills(podKey: string, kills: Map<string, WorkloadKill[]>): void {
    this.podFactCache.delete(podKey);
    for (const workload of this.podKills.get(podKey)?.keys() ?? []) {
      const byPod = this.killsByWorkload.get(workload);
      byPod?.delete(podKey);
      if (byPod?.size === 0) this.killsByWorkload.delete(workload);
    }
    if (kills.size === 0) {
      this.podKills.delete(podKey);
      return;
    }
    this.podKills.set(podKey, kills);
    for (const [workload, list] of kills) {
      const byPod = this.killsByWorkload.get(workload) ?? new Map<string, WorkloadKill[]>();
      byPod.set(podKey, list);
      this.killsByWorkload.set(workload, byPod);
    }
  }

  /** The probe kills of every pod of a workload container: own pods' latest analyses, other partitions' pods' facts. */
  private workloadKills(key: string): WorkloadKill[] {
    const out: WorkloadKill[] = [];
    for (const list of this.killsByWorkload.get(key)?.values() ?? []) out.push(...list);
    out.push(...this.contextKills().get(key) ?? []);
    return out;
  }

  /** Probe kills of context pods per workload container, indexed once per context version. */
  private contextKills(): Map<string, WorkloadKill[]> {
    const version = this.contextIndexVersion();
    if (this.contextKillsIndex?.version === version) return this.contextKillsIndex.index;
    const index = new Map<string, WorkloadKill[]>();
    for (const fact of this.contextPods()) {
      for (const workload of new Set((fact.kills ?? []).map((k) => k.workload))) index.set(workload, [...(index.get(workload) ?? []), ...killsFromFact(fact, workload, this.classOf)]);
    }
    this.contextKillsIndex = { version, index };
    return index;
  }

  private podRecords(pod: PodEvidence, history: HistoryIndex, learned: LearnedLookup, workloadNodes: (key: string) => ReadonlySet<string>, unmatched?: UnmatchedOom[]): RestartRecord[] {
    return this.finishPod(pod, this.podAnalyses(pod, history, learned, workloadNodes), unmatched);
  }

  /** Records of analysed containers; their what-if counts the workload's kills known from every pod's analysis. */
  private finishPod(pod: PodEvidence, analyses: readonly ContainerAnalysis[], unmatched?: UnmatchedOom[]): RestartRecord[] {
    if (!pod.uid) return [];
    const out: RestartRecord[] = [];
    for (const analysis of analyses) out.push(...finishContainerRecords(analysis, this.workloadKills(analysis.key)));
    const kills = this.kernelOoms.get(pod.uid);
    return kills ? applyKernelOoms(out, [...kills.values()], pod, this.options.clusterName, unmatched) : out;
  }
}

/** The newest event time among a pod's evidence; -Infinity when nothing it holds carries a time. */
function podLatest(pod: PodEvidence): number {
  let latest = Number.NEGATIVE_INFINITY;
  const see = (t: number | undefined): void => {
    if (t !== undefined && t > latest) latest = t;
  };
  const snapshot = pod.snapshot;
  if (snapshot) {
    see(pod.snapshotObservedAt);
    see(snapshot.startTime);
    see(snapshot.deletionTimestamp);
    see(snapshot.readySince);
    for (const status of [...snapshot.statuses, ...snapshot.initStatuses]) {
      see(status.lastTerminated?.finishedAt);
      see(status.lastTerminated?.startedAt);
      if (status.state.kind === 'running') see(status.state.startedAt);
      if (status.state.kind === 'terminated') see(status.state.finishedAt ?? status.state.startedAt);
    }
  }
  for (const event of pod.events.values()) see(event.lastAt);
  for (const signal of pod.podKubelet) see(signal.at);
  for (const container of pod.containers.values()) {
    for (const signal of container.kubelet) see(signal.at);
    for (const tracker of container.logs.values()) see(tracker.lastLine()?.at);
  }
  return latest;
}
