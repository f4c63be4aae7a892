import type { ContainerStatus, EventSignal, KubeletSignal, TerminatedState } from '@killtrace/schemas';
import type { ContainerEvidence } from './evidence.js';
import { readStatus, type CountSource, type StatusTermination } from './status-convention.js';

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
  /** For a mark from an aggregated Event: the kills that one object counts, and when the first and last were. */
  aggregate?: { count: number; firstAt: number; lastAt: number; key: string };
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
  startSource?: 'kubelet_log' | 'pod_status' | 'app_log' | 'event';
  /** How `restartCount` was established. */
  countSource: CountSource;
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
    const aggregated = event.count > 1 && event.firstAt !== undefined && event.firstAt < event.lastAt - 500;
    const times = aggregated ? [event.firstAt as number, event.lastAt] : [event.lastAt];
    const aggregate = event.count > 1 && event.firstAt !== undefined ? { count: event.count, firstAt: event.firstAt, lastAt: event.lastAt, key: `${event.uid ?? ''}|${event.message}|${event.firstAt}` } : undefined;
    for (const at of times) {
      marks.push({
        at,
        kind: kind ? 'event_kill' : 'event_stop',
        probeType: kind ? (kind[1]?.toLowerCase() as 'liveness' | 'startup') : undefined,
        text: event.message,
        source: 'event',
        ...(aggregate ? { aggregate } : {}),
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

/** The terminations the pod status knows, with their restart counts (the kubelet's convention, status-convention.ts). */
export function statusTerminations(status: ContainerStatus | undefined): StatusTermination[] {
  return readStatus(status).terminations;
}

interface Anchor {
  restartCount: number;
  start?: number;
  startSource?: Incarnation['startSource'];
  containerId?: string;
  terminated?: TerminatedState;
  source: CountSource;
}

const SOURCE_RANK: CountSource[] = ['container_id', 'log_file', 'start_time', 'pod_status', 'event_counts', 'episode_order', 'fallback'];
const better = (a: CountSource, b: CountSource): CountSource => (SOURCE_RANK.indexOf(a) <= SOURCE_RANK.indexOf(b) ? a : b);

/** How long after the pod's startTime its first container start can come (image pull, init containers). */
const FIRST_START_WINDOW_MS = 10 * 60_000;

/** Restart counts that evidence names explicitly: pod status, log files, container ids, Started event counts. */
function collectAnchors(container: ContainerEvidence, status: ContainerStatus | undefined, events: EventSignal[], podStart: number | undefined): Map<number, Anchor> {
  const anchors = new Map<number, Anchor>();
  const anchor = (k: number, source: CountSource): Anchor => {
    let a = anchors.get(k);
    if (!a) {
      a = { restartCount: k, source };
      anchors.set(k, a);
    }
    a.source = better(a.source, source);
    return a;
  };
  for (const [k, tracker] of container.logs) {
    if (tracker.firstLine !== undefined) {
      const a = anchor(k, 'log_file');
      a.start = tracker.firstLine;
      a.startSource = 'app_log';
    }
  }
  const view = readStatus(status);
  for (const { restartCount, state, via } of view.terminations) {
    // Identity before arithmetic: a log file whose first line follows this startedAt is this incarnation's.
    const byStart = via === 'pod_status' ? logFileStartingAt(container, state.startedAt) : undefined;
    const a = byStart !== undefined ? anchor(byStart, 'start_time') : anchor(restartCount, via);
    a.terminated = state;
    a.containerId = state.containerId ?? a.containerId;
    if (state.startedAt !== undefined) setStart(a, state.startedAt, 'pod_status');
  }
  if (view.running) {
    const a = anchor(view.running.restartCount, 'pod_status');
    a.containerId = view.running.containerId ?? a.containerId;
    if (view.running.startedAt !== undefined) setStart(a, view.running.startedAt, 'pod_status');
  }
  // Aggregated Started events: firstTimestamp is the first start, lastTimestamp the latest, count the starts
  // (client-go's event aggregation). They name incarnations only when they agree with the status (or there is none).
  const started = events.filter((e) => e.reason === 'Started' && e.container === container.name).sort((x, y) => y.count - x.count || y.lastAt - x.lastAt || (x.uid ?? '').localeCompare(y.uid ?? ''))[0];
  const consistent = started !== undefined && (status === undefined || started.count === view.terminationCount + (view.running ? 1 : 0));
  // Even when rate limiting lost some starts, the object's firstTimestamp is the first start if the pod is young
  // enough for that object to be the first one (minutes after the pod's startTime: image pull, init containers).
  const firstIsZero = started?.firstAt !== undefined && (consistent || (podStart !== undefined && started.firstAt >= podStart - EVENT_SLACK_MS && started.firstAt - podStart <= FIRST_START_WINDOW_MS));
  if (started && firstIsZero) {
    const first = anchor(0, 'event_counts');
    if (first.start === undefined && started.firstAt !== undefined) setStart(first, started.firstAt, 'event');
  }
  if (started && consistent) {
    if (started.count > 1) {
      const latest = anchor(started.count - 1, 'event_counts');
      if (latest.start === undefined) setStart(latest, started.lastAt, 'event');
    }
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

/**
 * The log file whose first line comes just after `startedAt` (second precision in the status; back-off keeps
 * incarnations at least 10 s apart), when exactly one does.
 */
function logFileStartingAt(container: ContainerEvidence, startedAt: number | undefined): number | undefined {
  if (startedAt === undefined) return undefined;
  const matches = [...container.logs].filter(([, t]) => t.firstLine !== undefined && t.firstLine >= startedAt - 1000 && t.firstLine <= startedAt + 10_000);
  return matches.length === 1 ? matches[0]?.[0] : undefined;
}

/** Reconstructs the incarnations of one container that ended, each with its termination episode. */
export function assembleIncarnations(container: ContainerEvidence, events: EventSignal[], status: ContainerStatus | undefined, podStart?: number, graceSeconds = DEFAULT_GRACE_SECONDS): Incarnation[] {
  const anchors = collectAnchors(container, status, events, podStart);
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
  const newestEnded = status ? (readStatus(status).newestEnded ?? -1) : undefined;
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

  // An aggregated Killing event's first and last occurrence are `count - 1` kills apart.
  const gaps = aggregateGaps(episodes);
  const ks: number[] = new Array<number>(episodes.length).fill(0);
  const backwards = bounds.every((b) => Number.isFinite(b.ub));
  if (backwards) {
    let next = Number.POSITIVE_INFINITY;
    for (let i = episodes.length - 1; i >= 0; i -= 1) {
      const b = bounds[i] as { lb: number; ub: number };
      let cap = Math.min(b.ub, next - 1);
      for (const g of gaps) if (g.first === i) cap = Math.min(cap, (ks[g.last] as number) - g.distance);
      const k = Math.max(b.lb, cap);
      ks[i] = k;
      next = k;
    }
  } else {
    let previous = -1;
    for (let i = 0; i < episodes.length; i += 1) {
      const b = bounds[i] as { lb: number; ub: number };
      let floor = Math.max(b.lb, previous + 1);
      for (const g of gaps) if (g.last === i) floor = Math.max(floor, (ks[g.first] as number) + g.distance);
      const k = Math.min(b.ub, floor);
      ks[i] = k;
      previous = k;
    }
  }
  const anyAnchor = anchors.size > 0 || newestEnded !== undefined;

  const incarnations = new Map<number, Incarnation>();
  const get = (k: number): Incarnation => {
    let inc = incarnations.get(k);
    if (!inc) {
      const a = anchors.get(k);
      inc = { restartCount: k, containerId: a?.containerId, startedAt: a?.start, startSource: a?.startSource, terminated: a?.terminated, endInferred: false, countSource: a?.source ?? (anyAnchor ? 'episode_order' : 'fallback') };
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
    // Identity: a journal line names this incarnation's container id (the status' own id only restates the status).
    const journalIds = episode.marks.filter((m) => m.source === 'kubelet_log' && m.containerId !== undefined).map((m) => m.containerId as string);
    if (journalIds.some((cid) => idToK.get(cid) === k)) inc.countSource = 'container_id';
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

/** Pairs of episodes holding the first and the last occurrence of one aggregated Event, and the kills between. */
function aggregateGaps(episodes: Episode[]): Array<{ first: number; last: number; distance: number }> {
  const byKey = new Map<string, { count: number; first: number; last: number }>();
  episodes.forEach((episode, i) => {
    for (const mark of episode.marks) {
      if (!mark.aggregate) continue;
      const entry = byKey.get(mark.aggregate.key) ?? { count: mark.aggregate.count, first: i, last: i };
      entry.first = Math.min(entry.first, i);
      entry.last = Math.max(entry.last, i);
      byKey.set(mark.aggregate.key, entry);
    }
  });
  return [...byKey.values()].filter((e) => e.last > e.first).map((e) => ({ first: e.first, last: e.last, distance: e.count - 1 }));
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
