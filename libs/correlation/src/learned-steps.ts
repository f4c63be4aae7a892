import { mineTemplates, WILDCARD } from './template-miner.js';

/**
 * Init steps learned from the logs themselves, for workloads nobody wrote a step profile for (issue 13, decision
 * 0014). Incarnations that reached ready give the init sequence: the templates (template-miner.ts) seen between
 * start and ready, ordered as they usually come. Consecutive templates form one step unless a long gap separates
 * them (a long gap after a template means that template's work was running), and templates that repeat within an
 * incarnation (a loop over devices, files, shards) form one step together. A killed incarnation is aligned against
 * the sequence: the step in progress is the one of the latest template it logged before the kill.
 *
 * Pure and order-independent: every input is a set (templates by first and last sight), sorted before use.
 */

/** When one masked key was first and last seen in one incarnation, with one line as an example. */
export interface TemplateSighting {
  first: number;
  last: number;
  example: string;
}

export interface IncarnationTemplates {
  /** Sort key that makes the choice of samples deterministic (pod uid and restart count). */
  id: string;
  sightings: ReadonlyMap<string, TemplateSighting>;
  startedAt: number;
  /** When it was known to be ready (readiness passed, a startup probe succeeded, a ready line); undefined if never. */
  readyAt?: number;
  /**
   * `readyAt` is only a bound (it ran past what its liveness probe allows for init): init was over by then, but
   * its end is the last init line before it, and lines that go on after it are its steady state (a heartbeat).
   */
  readyIsBound?: boolean;
  /** The node class the incarnation ran on (node-class.ts), if known. */
  nodeClass?: string;
  /** When it ended, if the status says (its termination's finishedAt). */
  endedAt?: number;
  /** It had ended by then (the next incarnation's first line), when its own end is not known. */
  endedBy?: number;
}

export interface LearnedStep {
  /** The template whose work the step is (the one before its long gap; a loop's first template), header removed. */
  name: string;
  /** Template indexes of the model's `templates`, in sequence order. */
  templates: number[];
  /** One raw line per template, for `profile suggest` and for readers. */
  examples: string[];
  /** Durations (seconds) of this step in incarnations that reached ready. */
  durations: number[];
  /** Per node class, the durations seen on it. */
  durationsByClass: Map<string, number[]>;
}

export interface LearnedModel {
  /** `ready`: learned from incarnations that reached ready; `ended`: none did, learned from how far they got. */
  source: 'ready' | 'ended';
  samples: number;
  templates: string[];
  steps: LearnedStep[];
  /** Template index per masked key seen in any sample or aligned incarnation. */
  templateOf: Map<string, number>;
  /** Step index per template index (templates outside the sequence are absent). */
  stepOf: Map<number, number>;
  /**
   * Per incarnation that reached ready: seconds from its start to the first sight of the last template of the
   * sequence it logged (when init was seen to end, as far as the logs tell), with its node class.
   */
  initSeconds: Array<{ id: string; seconds: number; nodeClass?: string }>;
}

export interface LearnedStepState {
  step: LearnedStep;
  index: number;
  startedAt: number;
  endedAt?: number;
}

export interface LearnedProgress {
  current?: LearnedStepState;
  completed: LearnedStepState[];
  /** The last step of the sequence had been reached. */
  reachedLast: boolean;
  /** The step in progress is not in the learned sequence: the incarnation had left it (its own first such line). */
  offSequence?: boolean;
}

const PROGRESS_WORDS = /\bprogress\b|\belapsed\b|\bstill\b|%/i;

/** At most this many incarnations are learned from (deterministic choice), to bound the work per workload. */
const MAX_SAMPLES = 16;
/** A gap is long when it is at least this many times the sequence's median gap ... */
const LONG_GAP_FACTOR = 3;
/** ... and at least this long (seconds). */
const LONG_GAP_MIN_SECONDS = 1;
/** Lines in the last second before a kill or exit report the end (an error, a signal), not a new step. */
export const TAIL_MS = 1000;

/** Learns the init sequence of one workload container from its incarnations; undefined when nothing to learn. */
export function learnSteps(observations: readonly IncarnationTemplates[]): LearnedModel | undefined {
  const withLines = observations.filter((o) => o.sightings.size > 0).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (withLines.length === 0) return undefined;
  const ready = withLines.filter((o) => o.readyAt !== undefined);
  const source: LearnedModel['source'] = ready.length > 0 ? 'ready' : 'ended';
  const samples = (ready.length > 0 ? ready : withLines).slice(0, MAX_SAMPLES);

  const keys = new Set<string>();
  for (const o of withLines.slice(0, MAX_SAMPLES * 2)) for (const key of o.sightings.keys()) keys.add(key);
  for (const o of samples) for (const key of o.sightings.keys()) keys.add(key);
  const mined = mineTemplates(keys);

  // A template an incarnation first logged after it was ready is the service at work. Where another incarnation is
  // ready only by a bound, the same template inside its window is most likely that too (a heartbeat seen once).
  const afterReady = new Set<number>();
  for (const o of samples) {
    if (o.readyAt === undefined) continue;
    for (const [key, s] of o.sightings) {
      const t = mined.templateOf.get(key);
      if (t !== undefined && s.first > o.readyAt) afterReady.add(t);
    }
  }

  // Per sample, per template: first and last sight inside the init window.
  type Seen = { first: number; last: number; example: string };
  const perSample: Array<{ o: IncarnationTemplates; seen: Map<number, Seen>; end: number }> = samples.map((o) => {
    // Never ready and its end known: lines in the last second before it report the end (TAIL_MS).
    const end = o.readyAt ?? (o.endedAt !== undefined ? o.endedAt - TAIL_MS : Number.POSITIVE_INFINITY);
    const seen = new Map<number, Seen>();
    for (const [key, s] of o.sightings) {
      if (s.first > end) continue;
      // Ready only by a bound: a line that goes on past it is what the service does once up (`sync status ok`).
      if (o.readyIsBound === true && o.readyAt !== undefined && s.last > o.readyAt) continue;
      const t = mined.templateOf.get(key);
      if (t === undefined) continue;
      if (o.readyIsBound === true && afterReady.has(t)) continue;
      const prev = seen.get(t);
      if (!prev) seen.set(t, { first: s.first, last: Math.min(s.last, end), example: s.example });
      else {
        if (s.first < prev.first) {
          prev.first = s.first;
          prev.example = s.example;
        }
        prev.last = Math.max(prev.last, Math.min(s.last, end));
      }
    }
    if (o.readyAt === undefined && o.endedAt === undefined) dropEndReport(seen);
    // Ready only by a bound: init ended with its last init line. Never seen ready: the work of its last template
    // ran until the end, whenever that was.
    const lastInit = o.readyIsBound === true ? latestSight(seen) : undefined;
    return { o, seen, end: lastInit ?? o.readyAt ?? o.endedAt ?? o.endedBy ?? Number.MAX_SAFE_INTEGER };
  });

  // A template repeated within any incarnation (first and last sight apart) is part of a loop.
  const repeated = new Set<number>();
  for (const o of withLines.slice(0, MAX_SAMPLES * 2)) {
    const spans = new Map<number, { first: number; last: number }>();
    for (const [key, s] of o.sightings) {
      const t = mined.templateOf.get(key);
      if (t === undefined) continue;
      const prev = spans.get(t);
      if (!prev) spans.set(t, { first: s.first, last: s.last });
      else spans.set(t, { first: Math.min(prev.first, s.first), last: Math.max(prev.last, s.last) });
    }
    for (const [t, span] of spans) if (span.last > span.first) repeated.add(t);
  }

  // Templates seen in at least half of the samples make the sequence.
  const presence = new Map<number, number>();
  for (const s of perSample) for (const t of s.seen.keys()) presence.set(t, (presence.get(t) ?? 0) + 1);
  const quorum = Math.ceil(perSample.length / 2);
  const members = [...presence].filter(([, n]) => n >= quorum).map(([t]) => t);
  if (members.length === 0) return undefined;

  const offsets = new Map<number, number>();
  for (const t of members) offsets.set(t, median(perSample.flatMap((s) => (s.seen.has(t) ? [(s.seen.get(t) as Seen).first - s.o.startedAt] : []))));
  const before = (a: number, b: number): number => {
    let n = 0;
    for (const s of perSample) {
      const x = s.seen.get(a);
      const y = s.seen.get(b);
      if (x && y && x.first < y.first) n += 1;
    }
    return n;
  };
  const order = [...members].sort((a, b) => before(b, a) - before(a, b) || (offsets.get(a) ?? 0) - (offsets.get(b) ?? 0) || a - b);

  // The gap after each template: the median time to the next one, over the samples that show both.
  const gaps: Array<number | undefined> = order.map((t, i) => {
    const next = order[i + 1];
    const values: number[] = [];
    for (const s of perSample) {
      const x = s.seen.get(t);
      if (!x) continue;
      if (next === undefined) values.push(s.end - x.first);
      else {
        const y = s.seen.get(next);
        if (y) values.push(y.first - x.first);
      }
    }
    return values.length > 0 ? median(values) : undefined;
  });
  const defined = gaps.slice(0, -1).filter((g): g is number => g !== undefined);
  // A single template repeating on its own (`redo in progress, elapsed ...`, `index progress 61 %`) reports the
  // progress of the work before it: it belongs to that step. A loop of several templates is per-item work (bind,
  // unbind, reset, attach for every GPU): a step of its own.
  const runs: number[][] = [];
  for (const t of order) {
    const run = runs[runs.length - 1];
    if (run && repeated.has(t) && repeated.has(run[run.length - 1] as number)) run.push(t);
    else runs.push([t]);
  }
  const progressReport = new Set<number>();
  runs.forEach((run, i) => {
    if (i > 0 && run.length === 1 && repeated.has(run[0] as number)) progressReport.add(run[0] as number);
  });
  // A line that says so (`in progress`, `elapsed`, `still`, a percentage) is a progress report even when seen once.
  order.forEach((t, i) => {
    if (i > 0 && !repeated.has(t) && PROGRESS_WORDS.test(mined.templates[t] ?? '')) progressReport.add(t);
  });
  const longGap = Math.max(LONG_GAP_MIN_SECONDS * 1000, LONG_GAP_FACTOR * (defined.length > 0 ? median(defined) : 0));

  const groups: number[][] = [];
  let group: number[] = [];
  order.forEach((t, i) => {
    group.push(t);
    const next = order[i + 1];
    if (next === undefined) return;
    const gap = gaps[i];
    const inLoop = repeated.has(t) && repeated.has(next);
    const loopEdge = repeated.has(t) !== repeated.has(next) && !progressReport.has(next) && !progressReport.has(t);
    if (progressReport.has(next)) return;
    if (!inLoop && (loopEdge || gap === undefined || gap >= longGap)) {
      groups.push(group);
      group = [];
    }
  });
  if (group.length > 0) groups.push(group);
  // A loop that ends the sequence of incarnations that reached ready is their steady state (a heartbeat), not init.
  const tail = groups[groups.length - 1];
  if (source === 'ready' && groups.length > 1 && tail && tail.every((t) => repeated.has(t))) groups.pop();

  const gapOf = new Map<number, number>();
  order.forEach((t, i) => gapOf.set(t, gaps[i] ?? 0));
  const steps: LearnedStep[] = groups.map((members) => {
    const loop = members.every((t) => repeated.has(t));
    let work = members[0] as number;
    // The work is the template before the longest gap (the later one of equals: nearer the work); progress reports
    // name nothing.
    const candidates = members.filter((t) => !progressReport.has(t));
    if (!loop && candidates.length > 0) {
      work = candidates[0] as number;
      for (const t of candidates) if ((gapOf.get(t) ?? 0) >= (gapOf.get(work) ?? 0)) work = t;
    }
    const examples = members.map((t) => perSample.map((s) => s.seen.get(t)?.example).find((e): e is string => e !== undefined) ?? mined.templates[t] ?? '');
    return { name: displayName(mined.templates[work] ?? ''), templates: members, examples, durations: [], durationsByClass: new Map() };
  });
  const stepOf = new Map<number, number>();
  steps.forEach((step, i) => step.templates.forEach((t) => stepOf.set(t, i)));

  const initSeconds: LearnedModel['initSeconds'] = [];
  if (source === 'ready') {
    for (const s of perSample) {
      let end: number | undefined;
      for (const step of steps) for (const t of step.templates) {
        const seen = s.seen.get(t);
        if (seen && (end === undefined || seen.first > end)) end = seen.first;
      }
      if (end !== undefined) initSeconds.push({ id: s.o.id, seconds: Math.max(0, end - s.o.startedAt) / 1000, ...(s.o.nodeClass !== undefined ? { nodeClass: s.o.nodeClass } : {}) });
    }
    for (const s of perSample) {
      const starts = steps.map((step) => firstOf(step.templates.map((t) => s.seen.get(t)?.first)));
      starts.forEach((start, i) => {
        if (start === undefined) return;
        const next = firstOf(starts.slice(i + 1));
        const end = next ?? s.end;
        const step = steps[i] as LearnedStep;
        const seconds = Math.max(0, end - start) / 1000;
        step.durations.push(seconds);
        if (s.o.nodeClass !== undefined) {
          const list = step.durationsByClass.get(s.o.nodeClass) ?? [];
          list.push(seconds);
          step.durationsByClass.set(s.o.nodeClass, list);
        }
      });
    }
  }
  return { source, samples: perSample.length, templates: mined.templates, steps, templateOf: mined.templateOf, stepOf, initSeconds };
}

/**
 * An incarnation that ended without reaching ready often logs why as its last line (an error, a signal), after a
 * silence: that line reports the end, it does not start a step. Dropped when it came once, last, after the
 * incarnation's longest silence (at least LONG_GAP_MIN_SECONDS).
 */
function dropEndReport(seen: Map<number, { first: number; last: number }>): void {
  const events: Array<{ at: number; t: number }> = [];
  for (const [t, s] of seen) {
    events.push({ at: s.first, t });
    if (s.last !== s.first) events.push({ at: s.last, t });
  }
  events.sort((a, b) => a.at - b.at);
  if (events.length < 3) return;
  const final = events[events.length - 1] as { at: number; t: number };
  const finalSeen = seen.get(final.t);
  if (!finalSeen || finalSeen.first !== finalSeen.last) return;
  let longest = 0;
  for (let i = 1; i < events.length - 1; i += 1) longest = Math.max(longest, (events[i] as { at: number }).at - (events[i - 1] as { at: number }).at);
  const gap = final.at - (events[events.length - 2] as { at: number }).at;
  if (gap >= LONG_GAP_MIN_SECONDS * 1000 && gap > longest) seen.delete(final.t);
}

/** Where an incarnation was in the learned sequence at `decisionAt` (a kill or an exit). */
export function alignIncarnation(model: LearnedModel, sightings: ReadonlyMap<string, TemplateSighting>, decisionAt: number): LearnedProgress | undefined {
  const starts = new Map<number, number>();
  let latest: { at: number; step: number } | undefined;
  let latestAny: { at: number; step: number } | undefined;
  const unmatched: Array<{ key: string; s: TemplateSighting }> = [];
  for (const [key, s] of sightings) {
    if (s.first > decisionAt) continue;
    const t = model.templateOf.get(key) ?? matchTemplate(model, key);
    const step = t === undefined ? undefined : model.stepOf.get(t);
    if (step === undefined) {
      unmatched.push({ key, s });
      continue;
    }
    starts.set(step, Math.min(starts.get(step) ?? Number.POSITIVE_INFINITY, s.first));
    const last = lastAtOrBefore(s, decisionAt);
    if (!latestAny || last > latestAny.at || (last === latestAny.at && step > latestAny.step)) latestAny = { at: last, step };
    const beforeTail = lastAtOrBefore(s, decisionAt - TAIL_MS);
    if (s.first <= decisionAt - TAIL_MS && (!latest || beforeTail > latest.at || (beforeTail === latest.at && step > latest.step))) latest = { at: beforeTail, step };
  }
  const current = latest ?? latestAny;
  if (!current) return undefined;
  const own = ownNames(model, sightings, decisionAt);
  const state = (index: number): LearnedStepState => ({ step: own(index), index, startedAt: starts.get(index) as number });
  // Off the sequence: lines the incarnations that reached ready never logged came after the last step it matched
  // (a code path they skipped). The work in progress is where it left the sequence: its first such line.
  if (model.source === 'ready') {
    let matchedFirst = Number.NEGATIVE_INFINITY;
    for (const at of starts.values()) matchedFirst = Math.max(matchedFirst, at);
    const tail = decisionAt - TAIL_MS;
    const after = unmatched.filter((u) => u.s.first > matchedFirst && u.s.first <= tail && u.s.first > current.at);
    const lastUnmatched = after.reduce((m, u) => Math.max(m, lastAtOrBefore(u.s, tail)), Number.NEGATIVE_INFINITY);
    if (after.length > 0 && lastUnmatched > current.at) {
      const first = after.reduce((a, b) => (b.s.first < a.s.first || (b.s.first === a.s.first && b.key < a.key) ? b : a));
      const step: LearnedStep = { name: displayName(first.key), templates: [], examples: [first.s.example], durations: [], durationsByClass: new Map() };
      const completed = [...starts.keys()].sort((a, b) => a - b).map((index, j, all) => ({ ...state(index), endedAt: starts.get(all[j + 1] as number) ?? first.s.first }));
      return { current: { step, index: model.steps.length, startedAt: first.s.first }, completed, reachedLast: false, offSequence: true };
    }
  }
  const completed: LearnedStepState[] = [];
  const seenIndexes = [...starts.keys()].filter((i) => i < current.step).sort((a, b) => a - b);
  seenIndexes.forEach((index, j) => {
    const next = seenIndexes[j + 1] ?? current.step;
    completed.push({ ...state(index), endedAt: starts.get(next) });
  });
  return { current: state(current.step), completed, reachedLast: current.step === model.steps.length - 1 };
}

/**
 * Steps as this incarnation showed them: a step named by a template it never logged (another incarnation's) is named
 * by the first of the step's templates it did log instead.
 */
function ownNames(model: LearnedModel, sightings: ReadonlyMap<string, TemplateSighting>, decisionAt: number): (index: number) => LearnedStep {
  const seenTemplates = new Map<number, number>();
  for (const [key, s] of sightings) {
    if (s.first > decisionAt) continue;
    const t = model.templateOf.get(key);
    if (t !== undefined) seenTemplates.set(t, Math.min(seenTemplates.get(t) ?? Number.POSITIVE_INFINITY, s.first));
  }
  return (index) => {
    const step = model.steps[index] as LearnedStep;
    const named = step.templates.find((t) => displayName(model.templates[t] ?? '') === step.name);
    if (named === undefined || seenTemplates.has(named)) return step;
    const own = step.templates.filter((t) => seenTemplates.has(t)).sort((a, b) => (seenTemplates.get(a) ?? 0) - (seenTemplates.get(b) ?? 0))[0];
    return own === undefined ? step : { ...step, name: displayName(model.templates[own] ?? '') };
  };
}

/** The sighting's last time that is not after `at` (the first when the last is later: a loop still running). */
function lastAtOrBefore(s: TemplateSighting, at: number): number {
  return s.last <= at ? s.last : s.first;
}

/** A key that was not mined (a new incarnation) joins the template of the same length that it fits. */
function matchTemplate(model: LearnedModel, key: string): number | undefined {
  const tokens = key.split(' ');
  for (let i = 0; i < model.templates.length; i += 1) {
    const t = (model.templates[i] as string).split(' ');
    if (t.length !== tokens.length) continue;
    if (t.every((tok, j) => tok === WILDCARD || tok === tokens[j])) {
      model.templateOf.set(key, i);
      return i;
    }
  }
  return undefined;
}

const LEVEL_WORD = /^[[(<]?(trace|debug|info|notice|warn|warning|error|err|fatal|critical|level)[\])>]?:?$/i;

/** A template without its log header (severity letters, timestamps, `LOG:`): what a reader recognises. */
export function displayName(template: string): string {
  const tokens = template.split(' ');
  let i = 0;
  while (i < tokens.length - 1) {
    const t = tokens[i] as string;
    if (t === WILDCARD || t.length <= 2 || /^[A-Z]{2,5}:?$/.test(t) || /^\[?[A-Z]+\]?:?$/.test(t) || LEVEL_WORD.test(t)) i += 1;
    else break;
  }
  return tokens.slice(i).join(' ');
}

/** The latest first or last sight in a sample's window; undefined when empty. */
function latestSight(seen: ReadonlyMap<number, { first: number; last: number }>): number | undefined {
  let best: number | undefined;
  for (const s of seen.values()) if (best === undefined || s.last > best) best = s.last;
  return best;
}

function firstOf(values: ReadonlyArray<number | undefined>): number | undefined {
  let best: number | undefined;
  for (const v of values) if (v !== undefined && (best === undefined || v < best)) best = v;
  return best;
}

/** The median of a non-empty list (the lower middle for an even count, so it is a value that was seen). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
}

/** The 90th percentile (nearest rank). */
export function p90(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length * 0.9) - 1)] as number;
}
