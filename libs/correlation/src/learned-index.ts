import type { PodEvidence } from './evidence.js';
import { learnSteps, type IncarnationTemplates, type LearnedModel } from './learned-steps.js';
import { readStatus } from './status-convention.js';
import { workloadKey } from './workload.js';

/** Learned init sequences per workload container, computed on first use (one pass indexes the pods). */
export type LearnedLookup = (workload: string) => LearnedModel | undefined;

/** Per node name, its class (node-class.ts); absent when no Node objects were given. */
export type NodeClassOf = (nodeName: string | undefined) => string | undefined;

/**
 * Builds the lookup over the current evidence. Readiness comes from what the kubelet and the API report: the
 * pod's Ready condition for a running ready container, a `SyncLoop (probe)` ready/started line for it, or the
 * profile's ready line when one matched.
 */
export function learnedLookup(
  pods: Iterable<PodEvidence>,
  classOf: NodeClassOf = () => undefined,
  horizon = Number.NEGATIVE_INFINITY,
  /** Incarnations of the workload's pods held elsewhere (other partitions, through the cluster context). */
  external: (workload: string) => readonly IncarnationTemplates[] = () => [],
): LearnedLookup {
  // Indexed on first use: a poll that builds no record without a profile pays nothing.
  let byWorkload: Map<string, Array<{ pod: PodEvidence; container: string }>> | undefined;
  const index = (): Map<string, Array<{ pod: PodEvidence; container: string }>> => {
    const built = new Map<string, Array<{ pod: PodEvidence; container: string }>>();
    for (const pod of pods) {
      if (!pod.uid) continue;
      for (const name of pod.containers.keys()) {
        const key = workloadKey(pod.namespace, pod.name, pod.snapshot, name);
        const list = built.get(key);
        if (list) list.push({ pod, container: name });
        else built.set(key, [{ pod, container: name }]);
      }
    }
    return built;
  };
  const cache = new Map<string, LearnedModel | undefined>();
  return (workload) => {
    if (cache.has(workload)) return cache.get(workload);
    byWorkload ??= index();
    const observations: IncarnationTemplates[] = [];
    for (const { pod, container } of byWorkload.get(workload) ?? []) observations.push(...observeContainer(pod, container, classOf, horizon));
    observations.push(...external(workload));
    const model = learnSteps(observations);
    cache.set(workload, model);
    return model;
  };
}

/**
 * What one container of a pod gives step learning, one entry per incarnation with log lines. `horizon`: the latest
 * event time in the whole input; a container the status shows running was alive then, whether or not it logged since
 * (a quiet healthy service).
 */
export function observeContainer(pod: PodEvidence, name: string, classOf: NodeClassOf, horizon: number): IncarnationTemplates[] {
  const container = pod.containers.get(name);
  if (!container) return [];
  const snapshot = pod.snapshot;
  const status = snapshot?.statuses.find((s) => s.name === name);
  const soleWithProbe = (type: 'readiness' | 'startup'): boolean => {
    const withProbe = (snapshot?.containers ?? []).filter((c) => c[type] !== undefined);
    return withProbe.length === 1 && withProbe[0]?.name === name;
  };
  const readyLines = [...container.kubelet, ...pod.podKubelet].filter(
    (l) => l.action === 'probe_ready' && (l.container !== undefined ? l.container === name : soleWithProbe(l.probeType === 'startup' ? 'startup' : 'readiness')),
  );
  const spec = snapshot?.containers.find((c) => c.name === name);
  // Without a readiness or startup probe a container is Ready as soon as it runs, so the Ready condition says
  // nothing about init; the liveness probe's allowance does (see below).
  const readyMeansInit = spec?.readiness !== undefined || spec?.startup !== undefined;
  const liveness = spec?.startup === undefined ? spec?.liveness : undefined;
  const ended = new Map<number, number>();
  for (const t of readStatus(status).terminations) if (t.state.finishedAt !== undefined) ended.set(t.restartCount, t.state.finishedAt);
  const out: IncarnationTemplates[] = [];
  for (const [restartCount, tracker] of container.logs) {
    const sightings = tracker.sightings;
    const first = tracker.firstLine;
    if (sightings.size === 0 || first === undefined) continue;
    const running = status?.restartCount === restartCount && status.state.kind === 'running';
    const startedAt = Math.min(first, running && status.state.kind === 'running' ? (status.state.startedAt ?? first) : first);
    const last = tracker.lastLine()?.at ?? first;
    let readyAt = tracker.ready;
    let readyIsBound = false;
    if (readyAt === undefined && readyMeansInit && running && status.ready && snapshot?.readySince !== undefined && snapshot.readySince > startedAt) readyAt = snapshot.readySince;
    if (readyAt === undefined) {
      // A kubelet ready line inside this incarnation's lifetime (between its first and last log lines).
      const line = readyLines.find((l) => l.at >= startedAt && l.at <= last);
      if (line) readyAt = line.at;
    }
    if (readyAt === undefined && liveness) {
      // It ran well past what its liveness probe allows for init (as record-assembly.ts ranPastInit): the probe
      // passed within its first failureThreshold checks, so init was over by then.
      const allowance = (liveness.initialDelaySeconds + liveness.failureThreshold * liveness.periodSeconds) * 1000;
      const past = (liveness.initialDelaySeconds + 2 * liveness.failureThreshold * liveness.periodSeconds + liveness.timeoutSeconds) * 1000;
      const alive = running ? Math.max(last, horizon) : last;
      if (alive - startedAt > past) {
        readyAt = startedAt + allowance;
        readyIsBound = true;
      }
    }
    const endedAt = readyAt === undefined ? ended.get(restartCount) : undefined;
    const next = container.logs.get(restartCount + 1)?.firstLine;
    out.push({
      id: `${pod.uid ?? pod.key}/${String(restartCount).padStart(6, '0')}`,
      sightings,
      startedAt,
      readyAt,
      ...(readyIsBound ? { readyIsBound } : {}),
      nodeClass: classOf(snapshot?.nodeName),
      ...(endedAt !== undefined && endedAt >= startedAt ? { endedAt } : {}),
      ...(next !== undefined ? { endedBy: next } : {}),
    });
  }
  return out;
}
