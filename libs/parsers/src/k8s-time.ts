/**
 * Kubernetes and log timestamps -> epoch milliseconds (fractional: microseconds and nanoseconds survive as far as a
 * double allows, i.e. about a microsecond for current dates).
 */

const DAY_MS = 86_400_000;

function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

function twoDigits(s: string, i: number): number {
  const a = digit(s, i);
  const b = digit(s, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function validDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  if (day > (DAYS_IN_MONTH[month - 1] ?? 31)) return false;
  if (month === 2 && day === 29) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return true;
}

// One-entry cache of the `YYYY-MM-DDTHH:MM` prefix: log lines arrive in bursts within the same minute, so most
// timestamps skip Date.UTC and the calendar checks.
let cachedPrefix = '';
let cachedPrefixMs = 0;

/**
 * Parses RFC 3339 / RFC3339Nano (`2026-10-02T06:30:45Z`, `2026-10-02T06:30:45.15040087Z`, `...+02:00`, `...+0200`),
 * any fraction length. Returns undefined for anything else (never throws). `end`: the timestamp is `s[0, end)`, the
 * rest of `s` is ignored (a CRI line parses its timestamp without slicing it out).
 */
export function parseRfc3339(s: string, end: number = typeof s === 'string' ? s.length : 0): number | undefined {
  if (typeof s !== 'string' || end < 20 || end > s.length) return undefined;
  let base: number;
  // Compared in place: slicing the prefix (and the timestamp out of its line) cost an allocation per log line.
  if (cachedPrefix.length === 16 && s.startsWith(cachedPrefix)) {
    base = cachedPrefixMs;
  } else {
    const y = digit(s, 0) * 1000 + digit(s, 1) * 100 + twoDigits(s, 2);
    if (digit(s, 0) < 0 || digit(s, 1) < 0 || twoDigits(s, 2) < 0) return undefined;
    if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return undefined; // '-'
    const sep = s.charCodeAt(10);
    if (sep !== 84 && sep !== 116 && sep !== 32) return undefined; // 'T' 't' ' '
    if (s.charCodeAt(13) !== 58) return undefined; // ':'
    const mo = twoDigits(s, 5);
    const d = twoDigits(s, 8);
    const h = twoDigits(s, 11);
    const mi = twoDigits(s, 14);
    if (!validDate(y, mo, d) || h < 0 || h > 23 || mi < 0 || mi > 59) return undefined;
    base = Date.UTC(y, mo - 1, d, h, mi);
    if (y < 100) base = new Date(base).setUTCFullYear(y); // Date.UTC maps 0..99 to 1900..1999
    cachedPrefix = s.slice(0, 16);
    cachedPrefixMs = base;
  }
  if (s.charCodeAt(16) !== 58) return undefined;
  const sec = twoDigits(s, 17);
  if (sec < 0 || sec > 60) return undefined;
  let i = 19;
  let fractionMs = 0;
  if (s.charCodeAt(i) === 46) {
    // '.'
    i++;
    let value = 0;
    let scale = 1;
    const start = i;
    while (i < end) {
      const c = digit(s, i);
      if (c < 0) break;
      if (i - start < 9) {
        value = value * 10 + c;
        scale *= 10;
      }
      i++;
    }
    if (i === start) return undefined;
    fractionMs = (value * 1000) / scale;
  }
  let offsetMs = 0;
  const z = s.charCodeAt(i);
  if (z === 90 || z === 122) {
    // 'Z' 'z'
    i++;
  } else if (z === 43 || z === 45) {
    // '+' '-'
    const oh = twoDigits(s, i + 1);
    let om: number;
    let end: number;
    if (s.charCodeAt(i + 3) === 58) {
      om = twoDigits(s, i + 4);
      end = i + 6;
    } else {
      om = twoDigits(s, i + 3);
      end = i + 5;
    }
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return undefined;
    offsetMs = (oh * 60 + om) * 60_000 * (z === 43 ? 1 : -1);
    i = end;
  } else {
    return undefined;
  }
  if (i !== end) return undefined;
  return base + sec * 1000 + fractionMs - offsetMs;
}

/** Like parseRfc3339 for a value of unknown type (a JSON field): undefined unless a valid timestamp string. */
export function parseK8sTime(value: unknown): number | undefined {
  return typeof value === 'string' ? parseRfc3339(value) : undefined;
}

const MONTHS: Record<string, number> = {
  Jan: 1, Feb: 2, Mar: 3, Apr: 4, May: 5, Jun: 6, Jul: 7, Aug: 8, Sep: 9, Oct: 10, Nov: 11, Dec: 12,
};

/** `Oct` -> 10 (journal `short` prefixes); undefined for anything else. */
export function monthFromAbbreviation(abbreviation: string): number | undefined {
  return MONTHS[abbreviation];
}

/** A wall-clock time without a year (klog headers, journal `short` prefixes), read as UTC. */
export interface YearlessTime {
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Milliseconds within the second, fractional (microseconds). */
  fractionMs: number;
}

/** Epoch ms of a year-less time in a given year, or undefined when the date does not exist (Feb 29, Apr 31...). */
export function yearlessInYear(t: YearlessTime, year: number): number | undefined {
  if (!validDate(year, t.month, t.day)) return undefined;
  if (t.hour > 23 || t.minute > 59 || t.second > 60) return undefined;
  return Date.UTC(year, t.month - 1, t.day, t.hour, t.minute, t.second) + t.fractionMs;
}

/**
 * Places a year-less time in the year (anchor's year, one before or one after) that puts it nearest to `anchorMs`.
 * This resolves the Dec -> Jan rollover in both directions without state: `Dec 31 23:59` next to an anchor of
 * `Jan 1 00:05 2027` is 2026.
 */
export function yearlessNearest(t: YearlessTime, anchorMs: number): number | undefined {
  const anchorYear = new Date(anchorMs).getUTCFullYear();
  let best: number | undefined;
  for (const year of [anchorYear, anchorYear - 1, anchorYear + 1]) {
    const ms = yearlessInYear(t, year);
    if (ms === undefined) continue;
    if (best === undefined || Math.abs(ms - anchorMs) < Math.abs(best - anchorMs)) best = ms;
  }
  return best;
}

/**
 * Places a year-less time in the latest year that does not put it after `notAfterMs` plus a day (clock skew, time
 * zones): what a live log's line read at `notAfterMs` must be. `Dec 31 23:59` read on `Jan 2 2027` is 2026.
 */
export function yearlessNotAfter(t: YearlessTime, notAfterMs: number): number | undefined {
  const latest = new Date(notAfterMs).getUTCFullYear();
  // Feb 29 may be up to 8 years back (no leap day in 2100); every other date is found in the first two years.
  for (let year = latest; year >= latest - 8; year -= 1) {
    const ms = yearlessInYear(t, year);
    if (ms !== undefined && ms <= notAfterMs + DAY_MS) return ms;
  }
  return undefined;
}

/** Midpoint of a year, the neutral anchor for "this timestamp is from year Y". */
export function yearAnchor(year: number): number {
  return Date.UTC(year, 0, 1) + 182 * DAY_MS;
}

/** UTC year of an epoch-ms time. */
export function utcYear(ms: number): number {
  return new Date(ms).getUTCFullYear();
}
