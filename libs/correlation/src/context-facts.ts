import { MAX_CONTEXT_KILLS, MAX_CONTEXT_LEARNED_CHARS, type LearnedIncarnation, type PodContext, type PodKill } from '@killtrace/schemas';
import type { PodEvidence } from './evidence.js';
import { observeContainer, type NodeClassOf } from './learned-index.js';
import type { IncarnationTemplates, TemplateSighting } from './learned-steps.js';
import type { WorkloadKill } from './record-assembly.js';
import { workloadKey } from './workload.js';

/**
 * The workload-wide parts of a pod fact on the cluster context topic (docs/decisions/0017-cluster-context-topic.md,
 * amended): the pod's probe kills and its incarnations' template sightings, in the form other partitions' cores feed
 * to the same functions their own pods go through, so N cores on N partitions give one process's records.
 */

/** learned-steps.ts learns from at most this many incarnations per workload (the lowest ids), and ... */
const SAMPLES_WITH_LINES = 32;
/** ... from at most this many of those that reached ready. */
const READY_SAMPLES = 16;

/**
 * The pod's incarnations as step learning sees them (learned-index.ts observeContainer), per workload container.
 * Only those that can be among the workload's learned samples are kept (a pod's first 32 by restart count and its
 * first 16 ready ones: learned-steps.ts takes the lowest ids), then as many as fit MAX_CONTEXT_LEARNED_CHARS.
 */
export function podLearnedIncarnations(pod: PodEvidence, horizon: number): LearnedIncarnation[] {
  const out: LearnedIncarnation[] = [];
  for (const name of [...pod.containers.keys()].sort()) {
    const workload = workloadKey(pod.namespace, pod.name, pod.snapshot, name);
    const observed = observeContainer(pod, name, () => undefined, horizon).sort((a, b) => restartOf(a) - restartOf(b));
    const ready = new Set(observed.filter((o) => o.readyAt !== undefined).slice(0, READY_SAMPLES));
    observed.forEach((o, i) => {
      if (i < SAMPLES_WITH_LINES || ready.has(o)) out.push(toFact(workload, o));
    });
  }
  // Over the budget: the highest restart counts go first (the least likely to be among the workload's samples).
  let size = out.reduce((n, inc) => n + sizeOf(inc), 0);
  const kept = [...out].sort((a, b) => a.restartCount - b.restartCount || a.workload.localeCompare(b.workload));
  while (size > MAX_CONTEXT_LEARNED_CHARS && kept.length > 0) size -= sizeOf(kept.pop() as LearnedIncarnation);
  const keep = new Set(kept);
  return out.filter((inc) => keep.has(inc));
}

function restartOf(o: IncarnationTemplates): number {
  return Number(o.id.slice(o.id.lastIndexOf('/') + 1));
}

function sizeOf(inc: LearnedIncarnation): number {
  let n = 80;
  for (const [key] of inc.sightings) n += key.length + 32;
  return n;
}

function toFact(workload: string, o: IncarnationTemplates): LearnedIncarnation {
  const sightings: LearnedIncarnation['sightings'] = [];
  for (const [key, s] of [...o.sightings].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) sightings.push([key, s.first, clampLast(s, o.readyAt)]);
  return {
    workload,
    restartCount: restartOf(o),
    startedAt: o.startedAt,
    ...(o.readyAt !== undefined ? { readyAt: o.readyAt } : {}),
    ...(o.readyIsBound === true ? { readyIsBound: true as const } : {}),
    ...(o.endedAt !== undefined ? { endedAt: o.endedAt } : {}),
    ...(o.endedBy !== undefined ? { endedBy: o.endedBy } : {}),
    sightings,
  };
}

/**
 * A last sight after ready becomes 1 ms past the later of ready and the first sight: learned-steps.ts asks only
 * whether a line went on past ready and whether it repeated (last > first), and reads lasts within the window.
 */
function clampLast(s: TemplateSighting, readyAt: number | undefined): number {
  if (readyAt === undefined || s.last <= readyAt) return s.last;
  return Math.max(s.first, readyAt) + (s.last > s.first ? 1 : 0);
}

/** A learned incarnation of a pod fact as learned-steps.ts takes it, with the class of the pod's node. */
export function fromLearnedFact(uid: string, inc: LearnedIncarnation, nodeClass: string | undefined): IncarnationTemplates {
  const sightings = new Map<string, TemplateSighting>();
  // The example line is not shared: it only shows in `profile suggest`, which runs on one process's evidence.
  for (const [key, first, last] of inc.sightings) sightings.set(key, { first, last, example: key });
  return {
    id: `${uid}/${String(inc.restartCount).padStart(6, '0')}`,
    sightings,
    startedAt: inc.startedAt,
    ...(inc.readyAt !== undefined ? { readyAt: inc.readyAt } : {}),
    ...(inc.readyIsBound === true ? { readyIsBound: true } : {}),
    nodeClass,
    ...(inc.endedAt !== undefined ? { endedAt: inc.endedAt } : {}),
    ...(inc.endedBy !== undefined ? { endedBy: inc.endedBy } : {}),
  };
}

/** A pod's probe kills per workload container as a fact carries them (capped at MAX_CONTEXT_KILLS, lowest restart counts kept). */
export function podKillFacts(kills: ReadonlyMap<string, readonly WorkloadKill[]> | undefined): PodKill[] {
  const out: PodKill[] = [];
  for (const [workload, list] of kills ?? []) {
    for (const k of list) out.push({ workload, container: k.container, restartCount: k.restartCount, initializing: k.initializing, ...(k.elapsedSeconds !== undefined ? { elapsedSeconds: k.elapsedSeconds } : {}) });
  }
  out.sort((a, b) => a.workload.localeCompare(b.workload) || a.container.localeCompare(b.container) || a.restartCount - b.restartCount);
  return out.slice(0, MAX_CONTEXT_KILLS);
}

/** The kills of a context pod for one workload container, as the core's own pods' analyses give them. */
export function killsFromFact(fact: PodContext, workload: string, classOf: NodeClassOf): WorkloadKill[] {
  const nodeClass = classOf(fact.node);
  return (fact.kills ?? [])
    .filter((k) => k.workload === workload)
    .map((k) => ({
      podUid: fact.uid,
      container: k.container,
      restartCount: k.restartCount,
      ...(nodeClass !== undefined ? { nodeClass } : {}),
      initializing: k.initializing,
      ...(k.elapsedSeconds !== undefined ? { elapsedSeconds: k.elapsedSeconds } : {}),
    }));
}
