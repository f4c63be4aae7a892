/**
 * Event-time watermark of one partition, computed from the two co-partitioned topics (signals, logs).
 *
 * A low watermark (the minimum of the two topics' newest event times) never runs ahead of either topic, but it
 * stalls forever when one topic of a partition is quiet (a partition whose pods log nothing). The maximum of the
 * two never stalls, but while the consumer catches up on a backlog it would run ahead of the lagging topic and
 * declare records final before their late evidence was read. So: a topic with a backlog (consumer lag > 0)
 * holds the watermark back at its newest event time; a caught-up topic does not, and once both are caught up the
 * watermark is the newest event time seen. Allowed lateness covers the remaining skew between producers.
 */

export interface TopicProgress {
  /** Newest event time (Kafka message timestamp) read on this topic-partition; -Infinity before the first. */
  maxEventTime: number;
  /** Messages between what was read and the partition's high watermark; 0 when caught up or unknown. */
  lag: number;
}

/** The watermark the topics allow now (not yet made monotonic; see `advanceWatermark`). */
export function partitionWatermark(topics: readonly TopicProgress[]): number {
  const lagging = topics.filter((t) => t.lag > 0 && Number.isFinite(t.maxEventTime));
  if (lagging.length > 0) return Math.min(...lagging.map((t) => t.maxEventTime));
  return Math.max(Number.NEGATIVE_INFINITY, ...topics.map((t) => t.maxEventTime));
}

/** Watermarks never go back: a late message must not turn a final record provisional again. */
export function advanceWatermark(previous: number, topics: readonly TopicProgress[]): number {
  return Math.max(previous, partitionWatermark(topics));
}

/**
 * Commit metadata: the partition watermark at the time of the commit, so a restart knows where replay starts, and
 * (`at`) the correlator's clock when it committed, against which replay re-checks event times (event-time-bound.ts).
 */
export function encodeCommitMetadata(watermark: number, at?: number): string {
  return JSON.stringify({ v: 1, wm: Number.isFinite(watermark) ? watermark : null, ...(at === undefined ? {} : { at }) });
}

/** The clock stored by `encodeCommitMetadata`, or undefined when absent (older commits) or not ours. */
export function decodeCommitClock(metadata: string | null | undefined): number | undefined {
  if (metadata == null || metadata === '') return undefined;
  try {
    const parsed = JSON.parse(metadata) as { v?: unknown; at?: unknown };
    return parsed.v === 1 && typeof parsed.at === 'number' && Number.isFinite(parsed.at) ? parsed.at : undefined;
  } catch {
    return undefined;
  }
}

/** The watermark stored by `encodeCommitMetadata`, or undefined when absent or not ours. */
export function decodeCommitMetadata(metadata: string | null | undefined): number | undefined {
  if (metadata == null || metadata === '') return undefined;
  try {
    const parsed = JSON.parse(metadata) as { v?: unknown; wm?: unknown };
    return parsed.v === 1 && typeof parsed.wm === 'number' && Number.isFinite(parsed.wm) ? parsed.wm : undefined;
  } catch {
    return undefined;
  }
}
