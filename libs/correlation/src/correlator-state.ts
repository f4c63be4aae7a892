import type { EventSignal, KernelOomSignal, KubeletSignal, PodSnapshot, Signal, StepProfile } from '@killtrace/schemas';
import type { WorkloadKill } from './record-assembly.js';
import type { CompiledProfile } from './step-profiles.js';
import type { StepTrackerState } from './step-tracker.js';

/**
 * The whole state of a `Correlator` as plain, JSON-safe data (no Map, no Set, no -Infinity), so the streaming
 * correlator can snapshot a partition and restore it after a crash instead of replaying its state window
 * (services/correlator/src/snapshots.ts, decision 0016). Maps become arrays of entries in insertion order: some
 * choices of the core depend on that order (the newest uid of a reused pod name, the eviction of sightings), and a
 * restored core must answer exactly as the uninterrupted one. Validation of this shape is the reader's job (zod at
 * the edge, services/correlator/src/snapshot-schema.ts); `Correlator.restore` only checks what ties it together.
 */
export interface CorrelatorState {
  /** Format of this structure; bumped on any change that an older reader would misread. */
  version: 1;
  /** The step profiles trackers are bound to (a tracker refers to its profile by index here). */
  profiles: StepProfile[];
  pods: PodState[];
  uidsByName: Array<[string, string[]]>;
  counts: Record<Signal['kind'], number>;
  kernelOoms: Array<[string, Array<[string, KernelOomSignal]>]>;
  kernelOomsOutsidePods: number;
  ignored: number;
  dirty: string[];
  emitted: Array<[string, number]>;
  finalizeAt: Array<[string, number]>;
  historyDigest: Array<[string, string]>;
  /** Undefined while no signal carried a time. */
  latestAt?: number;
  nodes: Array<[string, Record<string, string>]>;
  /** Per pod key, its probe kills per workload container at its latest analysis (the workload-wide what-if). */
  podKills: Array<[string, Array<[string, WorkloadKill[]]>]>;
  /** The same by workload container then pod key, in the core's order. */
  killsByWorkload: Array<[string, Array<[string, WorkloadKill[]]>]>;
  lastLog?: { uid: string; podKey: string; container: string; restartCount: number };
}

export interface PodState {
  key: string;
  namespace: string;
  name: string;
  uid?: string;
  snapshot?: PodSnapshot;
  snapshotObservedAt?: number;
  containers: Array<{ name: string; kubelet: KubeletSignal[]; logs: Array<[number, TrackerState]> }>;
  events: Array<[string, EventSignal]>;
  podKubelet: KubeletSignal[];
}

/** A step tracker with the index of its profile in `CorrelatorState.profiles` (absent: no profile). */
export type TrackerState = StepTrackerState & { profile?: number };

/** A compiled profile back to its source form (RegExp sources; compileProfile uses no flags). */
export function profileSource(profile: CompiledProfile): StepProfile {
  const src = (re: RegExp | undefined): { source?: string } => (re === undefined ? {} : { source: re.source });
  const opt = <K extends string>(key: K, re: RegExp | undefined): Partial<Record<K, string>> => {
    const s = src(re).source;
    return (s === undefined ? {} : { [key]: s }) as Partial<Record<K, string>>;
  };
  return {
    name: profile.name,
    match: { ...opt('namespace', profile.match.namespace), ...opt('pod', profile.match.pod), ...opt('container', profile.match.container), ...opt('image', profile.match.image) },
    ...opt('ready', profile.ready),
    steps: profile.steps.map((step) => ({ name: step.name, start: step.start.source, ...opt('end', step.end) })),
  };
}
