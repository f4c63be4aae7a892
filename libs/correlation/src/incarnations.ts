import type { ContainerStatus, EventSignal, KubeletSignal, TerminatedState } from '@killtrace/schemas';
import type { ContainerEvidence } from './evidence.js';

/**
 * Places termination evidence into incarnations (restartCount values). Journal lines and events carry
 * times, sometimes container ids, never a restart count; log files and the pod status carry restart counts.
 * Kills are grouped into episodes (decision -> kill -> death), and episodes are numbered against those
 * anchors. Evidence that is missing (rotated journals, rate-limited events, deleted log files) is most
 * likely missing at the old end, so episodes are aligned to the newest anchor and counted backwards.
 */

export type MarkKind = 'decision' | 'killing' | 'died' | 'status_end' | 'event_kill' | 'event_stop';

export interface TerminationMark {
  at: number;
  kind: MarkKind;
  containerId?: string;
  probeType?: 'liveness' | 'startup';
  gracePeriodSeconds?: number;
  text: string;
  source: 'kubelet_log' | 'event' | 'pod_status';
}

export interface Episode {
  marks: TerminationMark[];
  containerIds: Set<string>;
  first: number;
  last: number;
}

export interface Incarnation {
  restartCount: number;
  containerId?: string;
  startedAt?: number;
  /** How `startedAt` is known. */
  startSource?: 'kubelet_log' | 'pod_status' | 'app_log';
  terminated?: TerminatedState;
  episode?: Episode;
  /** True when the only evidence that it ended is that a later incarnation exists. */
  endInferred: boolean;
}

const DEFAULT_GRACE_SECONDS = 30;
/** Event times have second precision: allow this much either side when matching them to precise times. */
export const EVENT_SLACK_MS = 2000;

/** Groups a container's termination marks into episodes, one per death. */
export function buildEpisodes(marks: TerminationMark[], graceSeconds: number): Episode[] {
  const sorted = [...marks].sort((a, b) => a.at - b.at || kindOrder(a.kind) - kindOrder(b.kind));
  const episodes: Episode[] = [];
  let current: Episode | undefined;
  for (const mark of sorted) {
    const grace = (mark.gracePeriodSeconds ?? graceSeconds) * 1000;
    const window = grace + 10_000;
    const closed = current?.marks.some((m) => m.kind === 'died' || m.kind === 'status_end') ?? false;
    const idClash = mark.containerId !== undefined && current !== undefined && current.containerIds.size > 0 && !current.containerIds.has(mark.containerId);
    // A decision after a death starts a new episode; so does a different container id or a long gap.
    const startsNew =
      !current || idClash || mark.at - current.first > window || (closed && (mark.kind === 'decision' || mark.kind === 'killing') && mark.at - current.last > EVENT_SLACK_MS);
    if (startsNew || !current) {
      current = { marks: [], containerIds: new Set(), first: mark.at, last: mark.at };
      episodes.push(current);
    }
    current.marks.push(mark);
    current.last = Math.max(current.last, mark.at);
    if (mark.containerId) current.containerIds.add(mark.containerId);
  }
  return episodes;
}

function kindOrder(kind: MarkKind): number {
  return ['decision', 'event_kill', 'event_stop', 'killing', 'died', 'status_end'].indexOf(kind);
}

/** Termination marks from the journal, events and status of one container. */
export function collectMarks(container: ContainerEvidence, events: EventSignal[], status: ContainerStatus | undefined): TerminationMark[] {
  const marks: TerminationMark[] = [];
  for (const signal of container.kubelet) {
    const mark = kubeletMark(signal);
    if (mark) marks.push(mark);
  }
  for (const event of events) {
    if (event.reason !== 'Killing' || event.container !== container.name) continue;
    const kind = /failed (liveness|startup) probe/i.exec(event.message);
    const times = event.count > 1 && event.firstAt !== undefined && event.firstAt < event.lastAt - 500 ? [event.firstAt, event.lastAt] : [event.lastAt];
    for (const at of times) {
      marks.push({
        at,
        kind: kind ? 'event_kill' : 'event_stop',
        probeType: kind ? (kind[1]?.toLowerCase() as 'liveness' | 'startup') : undefined,
        text: event.message,
        source: 'event',
      });
    }
  }
  for (const terminated of statusTerminations(status)) {
    if (terminated.state.finishedAt === undefined) continue;
    marks.push({ at: terminated.state.finishedAt, kind: 'status_end', containerId: terminated.state.containerId, text: `terminated: ${terminated.state.reason ?? 'exit'} (exit ${terminated.state.exitCode})`, source: 'pod_status' });
  }
  return marks;
}

function kubeletMark(signal: KubeletSignal): TerminationMark | undefined {
  const base = { at: signal.at, containerId: signal.containerId, text: signal.text, source: 'kubelet_log' as const };
  switch (signal.action) {
    case 'kill_decision': {
      const probe = /failed (liveness|startup) probe/i.exec(signal.output ?? signal.text);
      return { ...base, kind: 'decision', probeType: probe ? (probe[1]?.toLowerCase() as 'liveness' | 'startup') : undefined, text: signal.output ?? signal.text };
    }
    case 'killing':
      return { ...base, kind: 'killing', gracePeriodSeconds: signal.gracePeriodSeconds };
    case 'container_died':
      return { ...base, kind: 'died' };
    default:
      return undefined;
  }
}

/** The terminations the pod status knows, with their restart counts (only the last two at most). */
export function statusTerminations(status: ContainerStatus | undefined): Array<{ restartCount: number; state: TerminatedState }> {
  if (!status) return [];
  const out: Array<{ restartCount: number; state: TerminatedState }> = [];
  if (status.lastTerminated && status.restartCount > 0) out.push({ restartCount: status.restartCount - 1, state: status.lastTerminated });
  if (status.state.kind === 'terminated') {
    const { kind: _kind, ...state } = status.state;
    out.push({ restartCount: status.restartCount, state });
  }
  return out;
}

interface Anchor {
  restartCount: number;
  start?: number;
  startSource?: Incarnation['startSource'];
  containerId?: string;
  terminated?: TerminatedState;
}

/** Restart counts that evidence names explicitly: pod status, log files, container ids. */
function collectAnchors(container: ContainerEvidence, status: ContainerStatus | undefined): Map<number, Anchor> {
  const anchors = new Map<number, Anchor>();
  const anchor = (k: number): Anchor => {
    let a = anchors.get(k);
    if (!a) {
      a = { restartCount: k };
      anchors.set(k, a);
    }
    return a;
  };
  for (const [k, tracker] of container.logs) {
    if (tracker.firstLine !== undefined) {
      const a = anchor(k);
      a.start = tracker.firstLine;
      a.startSource = 'app_log';
    }
  }
  for (const { restartCount, state } of statusTerminations(status)) {
    const a = anchor(restartCount);
    a.terminated = state;
    a.containerId = state.containerId ?? a.containerId;
    if (state.startedAt !== undefined) setStart(a, state.startedAt, 'pod_status');
  }
  if (status?.state.kind === 'running') {
    const a = anchor(status.restartCount);
    a.containerId = status.containerId ?? a.containerId;
    if (status.state.startedAt !== undefined) setStart(a, status.state.startedAt, 'pod_status');
  }
  // PLEG ContainerStarted is precise; it names an incarnation once its container id is known.
  const byId = new Map<string, Anchor>();
  for (const a of anchors.values()) if (a.containerId) byId.set(a.containerId, a);
  for (const signal of container.kubelet) {
    if (signal.action !== 'container_started' || !signal.containerId) continue;
    const a = byId.get(signal.containerId);
    if (a) setStart(a, signal.at, 'kubelet_log', true);
  }
  return anchors;
}

function setStart(a: Anchor, at: number, source: NonNullable<Anchor['startSource']>, precise = false): void {
  // Status times have second precision and the first log line comes after the start: prefer precise sources.
  if (a.start === undefined || precise || (source === 'pod_status' && a.startSource === 'app_log' && at <= a.start)) {
    a.start = at;
    a.startSource = source;
  }
}

/** Reconstructs the incarnations of one container that ended, each with its termination episode. */
export function assembleIncarnations(container: ContainerEvidence, events: EventSignal[], status: ContainerStatus | undefined, graceSeconds = DEFAULT_GRACE_SECONDS): Incarnation[] {
  const anchors = collectAnchors(container, status);
  const episodes = buildEpisodes(collectMarks(container, events, status), graceSeconds);
  const idToK = new Map<string, number>();
  for (const a of anchors.values()) if (a.containerId) idToK.set(a.containerId, a.restartCount);

  // Ids seen in kill lines for an episode whose death the status also reports tie that id to the anchor.
  const assigned = new Map<Episode, number>();
  for (const episode of episodes) {
    for (const id of episode.containerIds) {
      const k = idToK.get(id);
      if (k !== undefined) assigned.set(episode, k);
    }
  }

  const starts = [...anchors.values()].filter((a) => a.start !== undefined).sort((a, b) => a.restartCount - b.restartCount);
  // The newest incarnation that can have ended: the status knows how many restarts there were.
  const newestEnded = status ? (status.state.kind === 'terminated' ? status.restartCount : status.restartCount - 1) : undefined;
  const bounds = episodes.map((episode) => {
    const fixed = assigned.get(episode);
    if (fixed !== undefined) return { lb: fixed, ub: fixed };
    const t = episodeTime(episode);
    let lb = 0;
    let ub = newestEnded ?? Number.POSITIVE_INFINITY;
    for (const a of starts) {
      if ((a.start as number) <= t) lb = Math.max(lb, a.restartCount);
      else ub = Math.min(ub, a.restartCount - 1);
    }
    return { lb, ub };
  });

  const ks: number[] = new Array<number>(episodes.length).fill(0);
  if (bounds.every((b) => Number.isFinite(b.ub))) {
    let next = Number.POSITIVE_INFINITY;
    for (let i = episodes.length - 1; i >= 0; i -= 1) {
      const b = bounds[i] as { lb: number; ub: number };
      const k = Math.max(b.lb, Math.min(b.ub, next - 1));
      ks[i] = k;
      next = k;
    }
  } else {
    let previous = -1;
    for (let i = 0; i < episodes.length; i += 1) {
      const b = bounds[i] as { lb: number; ub: number };
      const k = Math.min(b.ub, Math.max(b.lb, previous + 1));
      ks[i] = k;
      previous = k;
    }
  }

  const incarnations = new Map<number, Incarnation>();
  const get = (k: number): Incarnation => {
    let inc = incarnations.get(k);
    if (!inc) {
      const a = anchors.get(k);
      inc = { restartCount: k, containerId: a?.containerId, startedAt: a?.start, startSource: a?.startSource, terminated: a?.terminated, endInferred: false };
      incarnations.set(k, inc);
    }
    return inc;
  };
  episodes.forEach((episode, i) => {
    const k = ks[i] as number;
    const inc = get(k);
    if (inc.episode) {
      // Two episodes for one incarnation: evidence disagreed on numbering; keep both marks in one episode.
      inc.episode = mergeEpisodes(inc.episode, episode);
    } else {
      inc.episode = episode;
    }
    if (!inc.containerId && episode.containerIds.size === 1) inc.containerId = [...episode.containerIds][0];
  });
  for (const a of anchors.values()) if (a.terminated) get(a.restartCount);

  // Kill lines name the container id of incarnations whose logs are gone; PLEG then gives their precise start.
  const startedById = new Map<string, number>();
  for (const signal of container.kubelet) {
    if (signal.action === 'container_started' && signal.containerId) startedById.set(signal.containerId, signal.at);
  }
  for (const inc of incarnations.values()) {
    const ids = [inc.containerId, ...(inc.episode?.containerIds ?? [])].filter((id): id is string => id !== undefined);
    const started = ids.map((id) => startedById.get(id)).find((at) => at !== undefined);
    if (started !== undefined && (inc.startedAt === undefined || inc.startSource !== 'kubelet_log')) {
      inc.startedAt = started;
      inc.startSource = 'kubelet_log';
    }
  }

  // A log file for a later incarnation proves that this one ended, even with no other trace of it.
  const logKs = [...container.logs.keys()];
  const newestLog = Math.max(-1, ...logKs, ...(newestEnded !== undefined ? [newestEnded + 1] : []));
  for (const k of logKs) {
    if (k < newestLog && !incarnations.has(k)) {
      const inc = get(k);
      inc.endInferred = true;
    }
  }
  return [...incarnations.values()].sort((a, b) => a.restartCount - b.restartCount);
}

function episodeTime(episode: Episode): number {
  const decision = episode.marks.find((m) => m.kind === 'decision' || m.kind === 'killing');
  return decision?.at ?? episode.first;
}

function mergeEpisodes(a: Episode, b: Episode): Episode {
  return {
    marks: [...a.marks, ...b.marks].sort((x, y) => x.at - y.at),
    containerIds: new Set([...a.containerIds, ...b.containerIds]),
    first: Math.min(a.first, b.first),
    last: Math.max(a.last, b.last),
  };
}
