import type { EventSignal, KubeletSignal, PodSnapshot, ProbeType } from '@killtrace/schemas';
import type { StepTracker } from './step-tracker.js';

/** Everything known about one container of one pod, across its incarnations. */
export interface ContainerEvidence {
  readonly name: string;
  /** Kubelet journal entries about this container, deduplicated. */
  readonly kubelet: KubeletSignal[];
  /** Application log trackers by incarnation (restartCount). */
  readonly logs: Map<number, StepTracker>;
}

/** Everything known about one pod. Keyed by uid once known; by `namespace/name` before that. */
export interface PodEvidence {
  readonly key: string;
  namespace: string;
  name: string;
  uid?: string;
  snapshot?: PodSnapshot;
  /** Newest observation time of `snapshot` (watch streams), to keep the latest of several. */
  snapshotObservedAt?: number;
  readonly containers: Map<string, ContainerEvidence>;
  /** Event objects by their uid (aggregation updates replace older versions of the same object). */
  readonly events: Map<string, EventSignal>;
  /** Kubelet entries about the pod as a whole (eviction, node shutdown, PLEG with unknown ids). */
  readonly podKubelet: KubeletSignal[];
}

/** A probe failure that may count towards a kill (readiness failures never do). */
export interface ProbeFailure {
  at: number;
  probeType: Exclude<ProbeType, 'readiness'>;
  output?: string;
  source: 'kubelet_log' | 'event';
}

/** Creates an empty per-container evidence holder. */
export function newContainerEvidence(name: string): ContainerEvidence {
  return { name, kubelet: [], logs: new Map() };
}

/** Creates an empty per-pod evidence holder. */
export function newPodEvidence(key: string, namespace: string, name: string, uid?: string): PodEvidence {
  return { key, namespace, name, uid, containers: new Map(), events: new Map(), podKubelet: [] };
}

/** Key that identifies the same kubelet line however often it is delivered. */
export function kubeletKey(signal: KubeletSignal): string {
  return `${signal.at}|${signal.action}|${signal.container ?? ''}|${signal.containerId ?? ''}|${signal.probeType ?? ''}|${signal.text}`;
}

/** Key that identifies an Event object across aggregation updates. */
export function eventKey(event: EventSignal): string {
  return event.uid ?? `${event.involved.namespace ?? ''}/${event.involved.name}|${event.container ?? ''}|${event.reason}|${event.message}|${event.firstAt ?? event.lastAt}`;
}

/** Of two versions of one Event object, the more recent one (higher count, later lastAt). */
export function newerEvent(a: EventSignal, b: EventSignal): EventSignal {
  if (b.count !== a.count) return b.count > a.count ? b : a;
  return b.lastAt >= a.lastAt ? b : a;
}

/** Merges the evidence of `from` (collected before the uid was known) into `into`. */
export function mergePodEvidence(into: PodEvidence, from: PodEvidence): void {
  for (const [name, container] of from.containers) {
    let target = into.containers.get(name);
    if (!target) {
      target = newContainerEvidence(name);
      into.containers.set(name, target);
    }
    for (const signal of container.kubelet) target.kubelet.push(signal);
    for (const [k, tracker] of container.logs) if (!target.logs.has(k)) target.logs.set(k, tracker);
  }
  for (const [key, event] of from.events) {
    const existing = into.events.get(key);
    into.events.set(key, existing ? newerEvent(existing, event) : event);
  }
  for (const signal of from.podKubelet) into.podKubelet.push(signal);
}
