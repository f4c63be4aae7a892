/**
 * How far to trust a timestamp, judged only by the bundle's own evidence (no clock: this module is pure). One event
 * dated years ahead, a CRI line dated 1970 or a journal written in another time zone must not move unrelated
 * records: times are bounded by the span most of the evidence agrees on, and the journal's offset against the
 * events is estimated from moments both record (the kubelet's kill decision and its Killing event).
 */

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** How closely two kills must agree on the offset: events carry whole seconds (truncated), the journal microseconds. */
const AGREE_MS = 2_000;

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
  /** Event time minus journal time, median over the agreeing pairs (positive: the journal is behind). */
  offsetMs: number;
  /** Kill decisions whose Killing event agrees with the offset (within a minute). */
  pairs: number;
  /**
   * When the offset is a whole time-zone step (a multiple of 15 minutes, within two seconds): that step, which is
   * what a `journalctl -o short*` printed in local time and read as UTC gives.
   */
  timeZoneMs?: number;
}

/**
 * Estimates the journal's offset from the events. Aggregated Killing events keep only their first and last times,
 * so a kill decision cannot simply be paired with the nearest event time: every difference (event time minus
 * decision time, same container, within `windowMs`, default 1 day) is a candidate offset, and the candidate that
 * the most kill decisions agree with (within a minute) wins; the estimate is the median of those decisions'
 * differences (agreeing within two seconds: a clock offset is constant, and events carry whole seconds). Unless
 * there is a single kill with a single candidate, or the offset is a whole time-zone step, at least two kills must
 * agree. `undefined` when nothing pairs or agrees.
 */
export function estimateJournalSkew(journal: readonly SharedMoment[], events: readonly SharedMoment[], windowMs = DAY_MS): SkewEstimate | undefined {
  const byKey = new Map<string, number[]>();
  for (const e of events) {
    const list = byKey.get(e.key);
    if (list) list.push(e.at);
    else byKey.set(e.key, [e.at]);
  }
  // Per kill decision, its differences to the same container's event times.
  const perDecision: number[][] = [];
  for (const j of journal) {
    const diffs = (byKey.get(j.key) ?? []).map((at) => at - j.at).filter((d) => Math.abs(d) <= windowMs);
    if (diffs.length > 0) perDecision.push(diffs);
  }
  if (perDecision.length === 0) return undefined;
  const all = perDecision.flat();
  // Bounded work for huge crash loops: at most ~2000 candidates, evenly chosen.
  const stride = Math.max(1, Math.ceil(all.length / 2000));
  let best: { offset: number; matched: number[] } | undefined;
  for (let i = 0; i < all.length; i += stride) {
    const candidate = all[i] as number;
    const matched: number[] = [];
    for (const diffs of perDecision) {
      let closest: number | undefined;
      for (const d of diffs) if (Math.abs(d - candidate) <= AGREE_MS && (closest === undefined || Math.abs(d - candidate) < Math.abs(closest - candidate))) closest = d;
      if (closest !== undefined) matched.push(closest);
    }
    const better =
      !best ||
      matched.length > best.matched.length ||
      (matched.length === best.matched.length && (zoneLike(candidate) !== zoneLike(best.offset) ? zoneLike(candidate) : Math.abs(candidate) < Math.abs(best.offset)));
    if (better) best = { offset: candidate, matched };
  }
  const agreeing = (best as { matched: number[] }).matched.sort((x, y) => x - y);
  const offsetMs = quantile(agreeing, 0.5);
  const single = perDecision.length === 1 && all.length === 1;
  // One kill agreeing to the second with a whole time-zone step is no coincidence; any other offset needs two.
  if (agreeing.length < 2 && !single && !zoneLike(offsetMs)) return undefined;
  const estimate: SkewEstimate = { offsetMs, pairs: agreeing.length };
  if (zoneLike(offsetMs)) estimate.timeZoneMs = Math.round(offsetMs / (15 * MINUTE_MS)) * 15 * MINUTE_MS;
  return estimate;
}

/** A non-zero whole multiple of 15 minutes, within two seconds: what a journal in another time zone is off by. */
function zoneLike(offsetMs: number): boolean {
  const step = Math.round(offsetMs / (15 * MINUTE_MS)) * 15 * MINUTE_MS;
  return step !== 0 && Math.abs(offsetMs - step) <= AGREE_MS;
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

  /** What the last `time` call did to its line's time (undefined: kept as written). */
  adjusted: GuardedTime['adjusted'];

  /** The time to use for the next line of the file. */
  next(at: number): GuardedTime {
    const time = this.time(at);
    return this.adjusted === undefined ? { at: time } : { at: time, adjusted: this.adjusted };
  }

  /** `next` without an object per line (the CRI hot path): the time to use; `adjusted` says what was done. */
  time(at: number): number {
    if (isOutlier(this.span, at)) {
      const span = this.span as EvidenceSpan;
      const replaced = this.previous ?? (at < span.low ? span.oldest : span.newest);
      this.previous = replaced;
      this.adjusted = 'outlier';
      return replaced;
    }
    if (this.previous !== undefined && at < this.previous) {
      this.adjusted = 'out_of_order';
      return this.previous;
    }
    this.previous = at;
    this.adjusted = undefined;
    return at;
  }
}
