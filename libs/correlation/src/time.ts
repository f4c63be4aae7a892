/** Formats epoch milliseconds as ISO-8601 with millisecond precision (what Elasticsearch `date` keeps). */
export function toIso(ms: number): string {
  return new Date(Math.floor(ms)).toISOString();
}

/** Like `toIso`, for optional times. */
export function toIsoOrNull(ms: number | undefined): string | null {
  return ms === undefined ? null : toIso(ms);
}

/** Seconds between two epoch-ms times, rounded to milliseconds. */
export function secondsBetween(from: number, to: number): number {
  return Math.round(to - from) / 1000;
}

/** The smaller of two optional numbers. */
export function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/** The larger of two optional numbers. */
export function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}
