/**
 * How far to trust a timestamp, judged only by the bundle's own evidence (no clock: this module is pure). One event
 * dated years ahead, a CRI line dated 1970 or a journal written in another time zone must not move unrelated
 * records: times are bounded by the span most of the evidence agrees on, and the journal's offset against the
 * events is estimated from moments both record (the kubelet's kill decision and its Killing event).
 */

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** The time span most of the evidence agrees on, and how far around it a timestamp is still believable. */
export interface EvidenceSpan {
  /** Earliest and latest believable times (inclusive). */
  low: number;
  high: number;
  /** Newest and oldest of the times that lie inside `[low, high]`. */
  newest: number;
  oldest: number;
  /** Times given that lie outside. */
  outliers: number;
}

function quantile(sorted: readonly number[], q: number): number {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (i - lo);
}

/**
 * The believable span of a set of timestamps: the interquartile range widened by three times itself and by at least
 * `marginMs` (default 7 days) on each side, so a bundle collected over days keeps all its times while a single
 * time years away is an outlier. Fewer than 3 times tell nothing: every time is believable.
 */
export function evidenceSpan(times: readonly number[], marginMs = 7 * DAY_MS): EvidenceSpan | undefined {
  const sorted = times.filter((t) => Number.isFinite(t)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  let low = Number.NEGATIVE_INFINITY;
  let high = Number.POSITIVE_INFINITY;
  if (sorted.length >= 3) {
    const q1 = quantile(sorted, 0.25);
    const q3 = quantile(sorted, 0.75);
    const widen = Math.max(marginMs, 3 * (q3 - q1));
    low = q1 - widen;
    high = q3 + widen;
  }
  let newest = Number.NEGATIVE_INFINITY;
  let oldest = Number.POSITIVE_INFINITY;
  let outliers = 0;
  for (const t of sorted) {
    if (t < low || t > high) outliers += 1;
    else {
      newest = Math.max(newest, t);
      oldest = Math.min(oldest, t);
    }
  }
  return { low, high, newest, oldest, outliers };
}

/** True when `at` lies outside the span. */
export function isOutlier(span: EvidenceSpan | undefined, at: number): boolean {
  return span !== undefined && (at < span.low || at > span.high);
}

/** A moment recorded by both the kubelet journal and an Event, keyed by what it is about (`ns/pod/container`). */
export interface SharedMoment {
  key: string;
  at: number;
}

/** The journal's clock against the events'. */
export interface SkewEstimate {
  /** Event time minus journal time, median over the matched pairs (positive: the journal is behind). */
  offsetMs: number;
  pairs: number;
  /**
   * When the offset is a whole time-zone step (a multiple of 15 minutes, at least 15 minutes, every pair agreeing
   * within a minute): that step, which is what a `journalctl -o short*` written in local time and read as UTC gives.
   */
  timeZoneMs?: number;
}

/**
 * Estimates the journal's offset from the events: each kill decision in the journal is paired with the nearest
 * Killing event time (first or last occurrence of an aggregated event) of the same container within `windowMs`
 * (default 1 day), and the median difference is the estimate. Events carry whole seconds, so offsets under two
 * seconds are noise; `undefined` when nothing pairs.
 */
export function estimateJournalSkew(journal: readonly SharedMoment[], events: readonly SharedMoment[], windowMs = DAY_MS): SkewEstimate | undefined {
  const byKey = new Map<string, number[]>();
  for (const e of events) {
    const list = byKey.get(e.key);
    if (list) list.push(e.at);
    else byKey.set(e.key, [e.at]);
  }
  const diffs: number[] = [];
  for (const j of journal) {
    let best: number | undefined;
    for (const at of byKey.get(j.key) ?? []) {
      const d = at - j.at;
      if (Math.abs(d) <= windowMs && (best === undefined || Math.abs(d) < Math.abs(best))) best = d;
    }
    if (best !== undefined) diffs.push(best);
  }
  if (diffs.length === 0) return undefined;
  diffs.sort((a, b) => a - b);
  const offsetMs = quantile(diffs, 0.5);
  const estimate: SkewEstimate = { offsetMs, pairs: diffs.length };
  const step = Math.round(offsetMs / (15 * MINUTE_MS)) * 15 * MINUTE_MS;
  if (step !== 0 && diffs.every((d) => Math.abs(d - step) <= MINUTE_MS)) estimate.timeZoneMs = step;
  return estimate;
}

/** What `CriTimeGuard.next` did to a line's time. */
export type GuardedTime = { at: number; adjusted?: 'outlier' | 'out_of_order' };

/**
 * Keeps one container log file's times believable and in file order: a line dated outside the evidence span
 * (1970, years ahead) takes the previous line's time (or the span's nearest edge for the first line), and a line
 * dated before the previous one takes the previous one's time, so the file's order is kept and no record measures
 * uptime or silence across a clock jump.
 */
export class CriTimeGuard {
  private previous: number | undefined;

  constructor(private readonly span: EvidenceSpan | undefined) {}

  /** The time to use for the next line of the file. */
  next(at: number): GuardedTime {
    if (isOutlier(this.span, at)) {
      const span = this.span as EvidenceSpan;
      const replaced = this.previous ?? (at < span.low ? span.oldest : span.newest);
      this.previous = replaced;
      return { at: replaced, adjusted: 'outlier' };
    }
    if (this.previous !== undefined && at < this.previous) return { at: this.previous, adjusted: 'out_of_order' };
    this.previous = at;
    return { at };
  }
}
