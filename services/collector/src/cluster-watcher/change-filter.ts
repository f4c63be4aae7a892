import type { EventSignal, PodSignal } from '@killtrace/schemas';

/**
 * Pure de-duplication of what the informers deliver (no I/O, no clock). An informer re-delivers objects after a
 * relist (410 Gone, restart of the watch after an error) and reports every resourceVersion bump, most of which
 * (heartbeats, conditions' probe times, managed fields) mean nothing to Killtrace. Only these are published:
 * - a pod whose snapshot (spec-relevant parts: probes, owners, labels; container statuses: restartCount, state,
 *   lastState.terminated; phase/reason) differs from the last one published for its uid;
 * - an event seen for the first time, or whose `count` (or `series.count`) rose since the last one published.
 * A key is remembered as soon as its signal is queued (`commit*`): the publish queue keeps the signal until Kafka
 * accepts it, so a re-delivery meanwhile need not be published again.
 */
export class ChangeFilter {
  private readonly pods = new Map<string, { resourceVersion: string | undefined; fingerprint: string }>();
  private readonly events = new Map<string, { resourceVersion: string | undefined; count: number }>();

  /** True when this pod snapshot should be published. */
  podChanged(signal: PodSignal): boolean {
    const last = this.pods.get(signal.pod.uid);
    if (last === undefined) return true;
    if (signal.resourceVersion !== undefined && last.resourceVersion === signal.resourceVersion) return false;
    return last.fingerprint !== podFingerprint(signal);
  }

  commitPod(signal: PodSignal): void {
    this.pods.set(signal.pod.uid, { resourceVersion: signal.resourceVersion, fingerprint: podFingerprint(signal) });
  }

  /** Remembers a pod's resourceVersion without publishing (an unchanged snapshot). */
  seenPod(signal: PodSignal): void {
    const last = this.pods.get(signal.pod.uid);
    if (last !== undefined) last.resourceVersion = signal.resourceVersion;
  }

  forgetPod(uid: string): void {
    this.pods.delete(uid);
  }

  /** True when this event is new or its count rose. */
  eventChanged(signal: EventSignal): boolean {
    const key = eventKey(signal);
    const last = this.events.get(key);
    if (last === undefined) return true;
    if (signal.resourceVersion !== undefined && last.resourceVersion === signal.resourceVersion) return false;
    return signal.count > last.count;
  }

  commitEvent(signal: EventSignal): void {
    this.events.set(eventKey(signal), { resourceVersion: signal.resourceVersion, count: signal.count });
  }

  forgetEvent(key: string): void {
    this.events.delete(key);
  }

  size(): { pods: number; events: number } {
    return { pods: this.pods.size, events: this.events.size };
  }
}

/** An event's identity: its own uid, else namespace/name of the Event object is not in the signal, so the involved object + reason. */
export function eventKey(signal: EventSignal): string {
  return signal.uid ?? `${signal.involved.namespace ?? ''}/${signal.involved.name}/${signal.reason}/${signal.firstAt ?? ''}`;
}

/** What makes two snapshots of one pod different for Killtrace: the snapshot without observation metadata. */
export function podFingerprint(signal: PodSignal): string {
  return stableJson(signal.pod);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
