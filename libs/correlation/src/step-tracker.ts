import type { TemplateSighting } from './learned-steps.js';
import type { CompiledProfile } from './step-profiles.js';
import { maskHash, maskLine } from './template-miner.js';

/**
 * Follows one incarnation's application log with bounded memory: it keeps the marks a step profile
 * cares about and the most recent lines, never the whole log (a bundle may hold gigabytes of logs).
 * Everything it keeps is order-independent (minimums, bounded sorted sets), so lines that arrive out of
 * order, or twice, give the same answer as an ordered stream: the embedded analyser and the streaming
 * correlator must agree.
 */

export interface LogLine {
  at: number;
  text: string;
}

interface StepMarks {
  firstStart?: number;
  /** Smallest end-pattern matches, ascending (a few suffice: the first end after the start). */
  ends: number[];
}

const MAX_RECENT_LINES = 32;
const MAX_END_MARKS = 8;
/** Distinct masked lines kept per incarnation for step learning (the earliest ones: init comes first). */
const MAX_SIGHTINGS = 96;

export interface StepState {
  name: string;
  startedAt: number;
  /** Undefined when still running at the time asked about. */
  endedAt?: number;
}

export interface ProgressAt {
  /** The step in progress at the time asked about, if any. */
  current?: StepState;
  completed: StepState[];
  /** When the profile's `ready` line appeared, if it did before the time asked about. */
  readyAt?: number;
}

/**
 * A tracker's state as plain data (JSON-safe: no -Infinity, no Map), for snapshots (correlator-state.ts) and for the
 * analysis workers, which follow an incarnation and hand it to the main thread (services/cli/src/analysis-worker.ts).
 */
export interface StepTrackerState {
  /** Learning on (sightings kept). */
  learn: boolean;
  marks: Array<{ firstStart?: number; ends: number[] }>;
  readyAt?: number;
  firstLineAt?: number;
  lineCount: number;
  recent: LogLine[];
  /** [mask hash, sighting] pairs in insertion order (the eviction of sightings scans them in that order). */
  seen: Array<[number, { key: string; first: number; last: number; example: string }]>;
  /** Latest first sight; undefined while -Infinity. */
  latestFirst?: number;
}

export class StepTracker {
  private readonly marks: StepMarks[];
  private readyAt: number | undefined;
  private firstLineAt: number | undefined;
  private lineCount = 0;
  /**
   * The latest lines, ascending by time, deduplicated by (time, text): a ring of at most MAX_RECENT_LINES slots in
   * three parallel arrays, so that a line in time order costs no object and no array shift (the analyser feeds
   * millions). Logical line i is in slot `slot(i)`; `recentHead` is the oldest line's slot (0 until the ring is full).
   */
  private readonly recentAt: number[] = [];
  private readonly recentText: string[] = [];
  /** Whether the text in a slot owns its characters (`compact`). */
  private readonly recentOwned: boolean[] = [];
  private recentHead = 0;
  /** Per masked line (template-miner.ts), when it was first and last seen: what learned-steps.ts learns from. */
  private readonly seen: Map<number, TemplateSighting & { key: string }> | undefined;
  private latestFirst = Number.NEGATIVE_INFINITY;
  /** `sightings` as last built; dropped by every new line. */
  private sightingsView: Map<string, TemplateSighting> | undefined;

  constructor(readonly profile: CompiledProfile | undefined, learn = false) {
    this.seen = learn ? new Map() : undefined;
    this.marks = (profile?.steps ?? []).map(() => ({ ends: [] }));
  }

  /** The tracker as plain data; `StepTracker.fromState` with the same profile gives an equivalent tracker. */
  toState(): StepTrackerState {
    return {
      learn: this.seen !== undefined,
      marks: this.marks.map((m) => ({ ...(m.firstStart === undefined ? {} : { firstStart: m.firstStart }), ends: [...m.ends] })),
      ...(this.readyAt === undefined ? {} : { readyAt: this.readyAt }),
      ...(this.firstLineAt === undefined ? {} : { firstLineAt: this.firstLineAt }),
      lineCount: this.lineCount,
      recent: this.recentLines(),
      seen: this.seen ? [...this.seen].map(([hash, s]) => [hash, { key: s.key, first: s.first, last: s.last, example: s.example }]) : [],
      ...(Number.isFinite(this.latestFirst) ? { latestFirst: this.latestFirst } : {}),
    };
  }

  /** Rebuilds a tracker from `toState` output; `profile` is the one it was bound to (its marks line up with the steps). */
  static fromState(state: StepTrackerState, profile: CompiledProfile | undefined): StepTracker {
    const steps = profile?.steps.length ?? 0;
    if (state.marks.length !== steps) throw new Error(`step tracker state has ${state.marks.length} step marks, its profile ${profile?.name ?? '(none)'} has ${steps} steps`);
    const tracker = new StepTracker(profile, state.learn);
    state.marks.forEach((m, i) => {
      const marks = tracker.marks[i] as StepMarks;
      if (m.firstStart !== undefined) marks.firstStart = m.firstStart;
      marks.ends.push(...m.ends);
    });
    tracker.readyAt = state.readyAt;
    tracker.firstLineAt = state.firstLineAt;
    tracker.lineCount = state.lineCount;
    // The old array form kept at most MAX_RECENT_LINES too, so its snapshots fit the ring as they are.
    for (const line of state.recent.slice(-MAX_RECENT_LINES)) tracker.pushRecent(line.at, line.text, true);
    if (tracker.seen) for (const [hash, s] of state.seen) tracker.seen.set(hash, { ...s });
    tracker.latestFirst = state.latestFirst ?? Number.NEGATIVE_INFINITY;
    return tracker;
  }

  /** Feeds one (joined) log line. */
  add(at: number, text: string): void {
    this.lineCount += 1;
    if (this.firstLineAt === undefined || at < this.firstLineAt) this.firstLineAt = at;
    this.remember(at, text);
    if (this.seen) {
      this.sightingsView = undefined;
      this.sight(at, text);
    }
    const profile = this.profile;
    if (!profile) return;
    if (profile.ready?.test(text) && (this.readyAt === undefined || at < this.readyAt)) this.readyAt = at;
    const steps = profile.steps;
    for (let index = 0; index < steps.length; index += 1) {
      const step = steps[index];
      const marks = this.marks[index];
      if (!step || !marks) continue;
      if (step.start.test(text) && (marks.firstStart === undefined || at < marks.firstStart)) marks.firstStart = at;
      if (step.end?.test(text)) insertBounded(marks.ends, at, MAX_END_MARKS);
    }
  }

  /** Masked lines with their first and last sight, when learning is on (empty otherwise). */
  get sightings(): ReadonlyMap<string, TemplateSighting> {
    if (!this.seen) return EMPTY_SIGHTINGS;
    if (this.sightingsView) return this.sightingsView;
    const out = new Map<string, TemplateSighting>();
    for (const s of this.seen.values()) {
      const prev = out.get(s.key);
      // Two hashes for one key cannot happen (same key, same hash); merged anyway for safety.
      if (!prev) out.set(s.key, s);
      else out.set(s.key, { first: Math.min(prev.first, s.first), last: Math.max(prev.last, s.last), example: prev.first <= s.first ? prev.example : s.example });
    }
    this.sightingsView = out;
    return out;
  }

  get lines(): number {
    return this.lineCount;
  }

  get firstLine(): number | undefined {
    return this.firstLineAt;
  }

  /** When init completed (the `ready` line), if seen at all. */
  get ready(): number | undefined {
    return this.readyAt;
  }

  /** The last line at or before `at` among the recent lines kept, or the latest line when `at` is undefined. */
  lastLine(at?: number): LogLine | undefined {
    for (let i = this.recentAt.length - 1; i >= 0; i -= 1) {
      const s = this.slot(i);
      const lineAt = this.recentAt[s] as number;
      if (at === undefined || lineAt <= at) return { at: lineAt, text: this.recentText[s] as string };
    }
    return undefined;
  }

  /** Which step was running, and which had finished, at time `at`. */
  progressAt(at: number): ProgressAt {
    const profile = this.profile;
    const readyAt = this.readyAt !== undefined && this.readyAt <= at ? this.readyAt : undefined;
    if (!profile) return { completed: [], readyAt };
    const started = profile.steps
      .map((step, index) => ({ name: step.name, marks: this.marks[index], hasEnd: step.end !== undefined }))
      .filter((s): s is { name: string; marks: StepMarks; hasEnd: boolean } => s.marks?.firstStart !== undefined && s.marks.firstStart <= at)
      .map((s) => ({ name: s.name, startedAt: s.marks.firstStart as number, ends: s.marks.ends, hasEnd: s.hasEnd }))
      .sort((a, b) => a.startedAt - b.startedAt);
    const states: StepState[] = started.map((step, i) => {
      const explicitEnd = step.ends.find((end) => end >= step.startedAt);
      const nextStart = started[i + 1]?.startedAt;
      const readyEnd = this.readyAt !== undefined && this.readyAt >= step.startedAt ? this.readyAt : undefined;
      // An explicit end pattern wins; otherwise the next step's start, or `ready`, ends the step.
      const candidates = [explicitEnd, nextStart, readyEnd].filter((t): t is number => t !== undefined);
      const endedAt = candidates.length > 0 ? Math.min(...candidates) : undefined;
      return { name: step.name, startedAt: step.startedAt, endedAt: endedAt !== undefined && endedAt <= at ? endedAt : undefined };
    });
    const completed = states.filter((s) => s.endedAt !== undefined);
    const running = states.filter((s) => s.endedAt === undefined);
    return { current: running[running.length - 1], completed, readyAt };
  }

  private sight(at: number, text: string): void {
    const seen = this.seen as Map<number, TemplateSighting & { key: string }>;
    const hash = maskHash(text);
    const prev = seen.get(hash);
    if (prev) {
      if (at < prev.first) {
        prev.first = at;
        prev.example = ownString(text.length > 400 ? text.slice(0, 400) : text);
      }
      if (at > prev.last) prev.last = at;
      return;
    }
    if (seen.size >= MAX_SIGHTINGS) {
      // Keep the earliest-starting lines: evict the latest first sight when this one is earlier. In-order input
      // (the usual case) returns here without a scan.
      if (at >= this.latestFirst) return;
      let latestKey: number | undefined;
      let latestAt = Number.NEGATIVE_INFINITY;
      for (const [k, s] of seen) if (s.first > latestAt) {
        latestAt = s.first;
        latestKey = k;
      }
      if (latestKey === undefined || at >= latestAt) return;
      seen.delete(latestKey);
      let next = at;
      for (const s of seen.values()) if (s.first > next) next = s.first;
      this.latestFirst = next;
    } else if (at > this.latestFirst) this.latestFirst = at;
    // The key is built from slices of the line, which would pin the whole chunk the line was read from.
    seen.set(hash, { key: ownString(maskLine(text)), first: at, last: at, example: ownString(text.length > 400 ? text.slice(0, 400) : text) });
  }

  /** The slot of logical recent line `i` (0 = oldest). */
  private slot(i: number): number {
    const s = this.recentHead + i;
    return s >= MAX_RECENT_LINES ? s - MAX_RECENT_LINES : s;
  }

  /** The kept lines, oldest first, as plain data. */
  private recentLines(): LogLine[] {
    const out: LogLine[] = [];
    for (let i = 0; i < this.recentAt.length; i += 1) {
      const s = this.slot(i);
      out.push({ at: this.recentAt[s] as number, text: this.recentText[s] as string });
    }
    return out;
  }

  /** Appends a line later than every kept one; a full ring overwrites its oldest line. */
  private pushRecent(at: number, text: string, owned: boolean): void {
    if (this.recentAt.length < MAX_RECENT_LINES) {
      this.recentAt.push(at);
      this.recentText.push(text);
      this.recentOwned.push(owned);
      return;
    }
    const s = this.recentHead;
    this.recentAt[s] = at;
    this.recentText[s] = text;
    this.recentOwned[s] = owned;
    this.recentHead = s + 1 === MAX_RECENT_LINES ? 0 : s + 1;
  }

  private remember(at: number, text: string): void {
    const ats = this.recentAt;
    const size = ats.length;
    // In time order (the usual case): append, no search.
    if (size === 0 || at > (ats[this.slot(size - 1)] as number)) {
      this.pushRecent(at, text, false);
      return;
    }
    if (size >= MAX_RECENT_LINES && at < (ats[this.recentHead] as number)) return;
    let index = size;
    while (index > 0 && (ats[this.slot(index - 1)] as number) > at) index -= 1;
    // Lines redelivered by an at-least-once stream must not crowd out real ones.
    for (let j = index - 1; j >= 0 && ats[this.slot(j)] === at; j -= 1) if (this.recentText[this.slot(j)] === text) return;
    if (size < MAX_RECENT_LINES) {
      // Not full yet: the slots are in logical order (recentHead is 0).
      ats.splice(index, 0, at);
      this.recentText.splice(index, 0, text);
      this.recentOwned.splice(index, 0, false);
      return;
    }
    // Full (and index >= 1, as at >= the oldest time): the oldest line goes, lines 1..index-1 move down one, the new
    // line takes logical place index-1; the lines after it stay where they are.
    for (let i = 0; i < index - 1; i += 1) {
      const to = this.slot(i);
      const from = this.slot(i + 1);
      ats[to] = ats[from] as number;
      this.recentText[to] = this.recentText[from] as string;
      this.recentOwned[to] = this.recentOwned[from] as boolean;
    }
    const s = this.slot(index - 1);
    ats[s] = at;
    this.recentText[s] = text;
    this.recentOwned[s] = false;
  }

  /**
   * Makes the kept lines own their characters. A line read from a file is a substring of a large chunk, and in V8
   * a substring keeps its whole parent alive: called when input moves on to another incarnation, so each kept line
   * is copied at most once instead of every line being copied on arrival.
   */
  compact(): void {
    for (let s = 0; s < this.recentAt.length; s += 1) {
      if (!this.recentOwned[s]) {
        this.recentText[s] = ownString(this.recentText[s] as string);
        this.recentOwned[s] = true;
      }
    }
  }
}

/** A copy of `text` that does not share (and so pin) the buffer it was sliced from. */
function ownString(text: string): string {
  return text.length < 13 ? text : (` ${text}`).slice(1);
}

const EMPTY_SIGHTINGS: ReadonlyMap<string, TemplateSighting> = new Map();

function insertBounded(sorted: number[], value: number, max: number): void {
  if (sorted.includes(value)) return;
  let index = sorted.length;
  while (index > 0 && (sorted[index - 1] ?? -Infinity) > value) index -= 1;
  if (index >= max) return;
  sorted.splice(index, 0, value);
  if (sorted.length > max) sorted.pop();
}
