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
