/**
 * How far ahead of the clock an event time may be. The watermark is the newest event time a partition has seen
 * (watermark.ts), so one signal dated in the future (a node with a wrong clock, a mangled timestamp) would finalize
 * every record of the partition at once and let eviction drop all its state. Such a signal is refused instead: it is
 * dead-lettered with the reason, counted, and neither ingested nor allowed to move the watermark.
 *
 * The reference is the correlator's clock when it reads the message live. On replay (after a restart or a
 * rebalance) the reference is the clock stored with the commit that covered the message (commit metadata `at`):
 * every replayed message was read live before that commit, so a message refused live is refused again on replay
 * (up to the few hundred milliseconds between reading and committing), and live and replayed state agree.
 */

/** The verdict on one message's event time. */
export type EventTimeVerdict = { ok: true } | { ok: false; aheadMs: number; reason: string };

/** Checks `eventTime` against `reference` (epoch ms) with `maxAheadMs` of allowed clock skew. */
export function checkEventTime(eventTime: number, reference: number, maxAheadMs: number): EventTimeVerdict {
  if (!Number.isFinite(eventTime)) return { ok: true };
  const aheadMs = eventTime - reference;
  if (aheadMs <= maxAheadMs) return { ok: true };
  return {
    ok: false,
    aheadMs,
    reason:
      `event time ${iso(eventTime)} is ${Math.round(aheadMs / 1000)} s ahead of the correlator's clock (${iso(reference)}), more than ` +
      `correlator.maxEventTimeAheadMs (${maxAheadMs} ms): not ingested, so it cannot advance the partition watermark`,
  };
}

function iso(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}
