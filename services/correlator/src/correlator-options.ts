import type { Config } from '@killtrace/config';

/**
 * The correlator's compiled options: the shared configuration (libs/config) plus the service's own tuning knobs.
 * The knobs have production defaults; the `KILLTRACE_CORRELATOR_*` variables below override them (tests and
 * benchmarks use them) until they move into the shared configuration schema.
 */
export interface CorrelatorServiceOptions {
  config: Config;
  /** Consumer group of all correlator instances of one cluster. */
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
  /** On SIGTERM, how long the in-flight batch may take to finish before the process gives up (no commit). */
  shutdownGraceMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

function intFrom(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

/** Raw configuration and environment -> defaults applied -> compiled options. */
export function compileOptions(config: Config, env: Env = process.env): CorrelatorServiceOptions {
  return {
    config,
    groupId: env.KILLTRACE_CORRELATOR_GROUP_ID?.trim() || `${config.kafka.clientId}.correlator`,
    stateWindowMs: intFrom(env, 'KILLTRACE_CORRELATOR_STATE_WINDOW_MS', 24 * 3_600_000, 1),
    allowedLatenessMs: config.correlator.allowedLatenessMs,
    flushIntervalMs: intFrom(env, 'KILLTRACE_CORRELATOR_FLUSH_INTERVAL_MS', 200, 1),
    maxUnflushedMessages: intFrom(env, 'KILLTRACE_CORRELATOR_MAX_UNFLUSHED', 50_000, 1),
    evictEveryMs: 60_000,
    readyMaxLag: intFrom(env, 'KILLTRACE_CORRELATOR_READY_MAX_LAG', 10_000, 0),
    retryInitialMs: intFrom(env, 'KILLTRACE_CORRELATOR_RETRY_INITIAL_MS', 250, 1),
    retryMaxMs: intFrom(env, 'KILLTRACE_CORRELATOR_RETRY_MAX_MS', 15_000, 1),
    maxBytesPerPartition: 1_048_576,
    maxBytes: 8 * 1_048_576,
    shutdownGraceMs: intFrom(env, 'KILLTRACE_CORRELATOR_SHUTDOWN_GRACE_MS', 25_000, 0),
  };
}
