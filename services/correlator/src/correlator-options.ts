import type { Config } from '@killtrace/config';

/**
 * The correlator's compiled options: the shared configuration (libs/config) with the service's settings
 * (`correlator.*`, i.e. the `KILLTRACE_CORRELATOR_*` variables, validated by the shared schema) flattened, derived
 * defaults applied, and a few fixed internals. Nothing here reads the environment.
 */
export interface CorrelatorServiceOptions {
  config: Config;
  /** Consumer group of all correlator instances of one cluster (`correlator.groupId`, else `<clientId>.correlator`). */
  groupId: string;
  /** Evidence older than this (event time, behind the partition watermark) is evicted; replay reads this far back. */
  stateWindowMs: number;
  /** From `correlator.allowedLatenessMs`: how long late evidence may still change a record before it is final. */
  allowedLatenessMs: number;
  /** How often dirty partitions are polled and their records written (the commit cadence). */
  flushIntervalMs: number;
  /** Ingested messages not yet covered by a successful flush; above this the consumer waits (back-pressure). */
  maxUnflushedMessages: number;
  /** Event time between two evictions of a partition's state. */
  evictEveryMs: number;
  /** `/readyz` fails while the consumer lag (messages, all assigned partitions) is above this. */
  readyMaxLag: number;
  /** Exponential back-off of sink retries. */
  retryInitialMs: number;
  retryMaxMs: number;
  /** Fetch sizes bound the memory of one in-flight batch. */
  maxBytesPerPartition: number;
  maxBytes: number;
  /** From `correlator.idleTimeoutMs`: quiet time after which a partition's watermark follows the clock. */
  idleTimeoutMs: number;
  /** From `correlator.maxEventTimeAheadMs`: how far ahead of the clock an event time may be (event-time-bound.ts). */
  maxEventTimeAheadMs: number;
  /** On SIGTERM, how long the in-flight batch may take to finish before the process gives up (no commit). */
  shutdownGraceMs: number;
  /** From `correlator.sessionTimeoutMs`: consumer group session timeout (heartbeats every third of it, at most 3 s). */
  sessionTimeoutMs: number;
  /** From `correlator.snapshot*` and `kafka.topics.snapshots`: state snapshots (snapshots.ts); undefined when off. */
  snapshots?: { topic: string; intervalMs: number; everyMessages: number };
}

/**
 * Fixed internals, not settings: how often a partition's state is swept for evictable evidence (in event time), and
 * the fetch sizes that bound the memory of one in-flight batch.
 */
const EVICT_EVERY_MS = 60_000;
const MAX_BYTES_PER_PARTITION = 1_048_576;
const MAX_BYTES = 8 * 1_048_576;

/** Validated configuration (libs/config, `correlator.*`) -> compiled options, with the derived defaults applied. */
export function compileOptions(config: Config): CorrelatorServiceOptions {
  const c = config.correlator;
  return {
    config,
    groupId: c.groupId ?? `${config.kafka.clientId}.correlator`,
    stateWindowMs: c.stateWindowMs,
    allowedLatenessMs: c.allowedLatenessMs,
    flushIntervalMs: c.flushIntervalMs,
    maxUnflushedMessages: c.maxUnflushedMessages,
    evictEveryMs: EVICT_EVERY_MS,
    readyMaxLag: c.readyMaxLag,
    retryInitialMs: c.retryInitialMs,
    retryMaxMs: c.retryMaxMs,
    maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
    maxBytes: MAX_BYTES,
    shutdownGraceMs: c.shutdownGraceMs,
    maxEventTimeAheadMs: c.maxEventTimeAheadMs,
    idleTimeoutMs: c.idleTimeoutMs,
    sessionTimeoutMs: c.sessionTimeoutMs,
    ...(c.snapshotsEnabled ? { snapshots: { topic: config.kafka.topics.snapshots, intervalMs: c.snapshotIntervalMs, everyMessages: c.snapshotEveryMessages } } : {}),
  };
}
