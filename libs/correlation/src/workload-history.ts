import type { ProbeSpec, RestartRecord } from '@killtrace/schemas';
import { formatSeconds, recommendStartupProbe } from './recommendation.js';

/**
 * A workload container's recommendation over its whole recorded history (not one partition's or one bundle's
 * share, decision 0004): observed init durations, the startupProbe that covers them, and what it would have
 * changed for every recorded kill. Fed one record at a time, keeping a few numbers per record.
 */

export interface Percentiles {
  count: number;
  min: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export interface WorkloadHistory {
  restarts: number;
  probeKills: number;
  probeKillsDuringInit: number;
  /** Seconds from start to the ready line, for incarnations seen to finish init. */
  initCompleted: Percentiles;
  /** Seconds from start to the kill, for probe kills during init (lower bounds of init). */
  killedDuringInit: Percentiles;
  /** The probe budget the newest record ran with (`initialDelaySeconds + failureThreshold x periodSeconds`). */
  currentToleranceSeconds: number | null;
  recommendation: {
    startupProbe: { periodSeconds: number; failureThreshold: number; budgetSeconds: number } | null;
    basis: string | null;
    /** Every recorded probe kill during init, and how many the startupProbe would have let through. */
    whatIf: { killsObserved: number; killsAvoided: number; text: string };
  };
  firstAt: string | null;
  lastAt: string | null;
  /** Kills per time bucket over the history (equal buckets from the first to the last kill). */
  killsOverTime: Array<{ from: string; to: string; kills: number }>;
  /** Init durations in equal bins up to the longest: finished ones and the uptime of kills during init. */
  initHistogram: Array<{ fromSeconds: number; toSeconds: number; completed: number; killed: number }>;
}

/** Nearest-rank percentiles of a list of seconds. */
export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { count: 0, min: null, p50: null, p90: null, p99: null, max: null };
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
  return { count: sorted.length, min: sorted[0] ?? null, p50: rank(50), p90: rank(90), p99: rank(99), max: sorted[sorted.length - 1] ?? null };
}

export class WorkloadHistoryBuilder {
  private restarts = 0;
  private probeKills = 0;
  private readonly completed: number[] = [];
  private readonly killedInInit: number[] = [];
  private readonly killTimes: number[] = [];
  private newest: RestartRecord | null = null;
  private firstAt: string | null = null;
  private lastAt: string | null = null;

  /** Adds one record of the workload's container (any order). */
  add(record: RestartRecord): void {
    const kt = record.killtrace;
    this.restarts += 1;
    const at = record['@timestamp'];
    if (this.firstAt === null || at < this.firstAt) this.firstAt = at;
    if (this.lastAt === null || at > this.lastAt) {
      this.lastAt = at;
      this.newest = record;
    }
    if (kt.probe_induced) this.probeKills += 1;
    this.killTimes.push(Date.parse(at));
    const started = kt.started_at !== null ? Date.parse(kt.started_at) : null;
    const ready = kt.timeline.find((e) => e.source === 'app_log' && e.text.startsWith('init complete'));
    if (ready && started !== null) this.completed.push((Date.parse(ready.at) - started) / 1000);
    if (kt.probe_induced && kt.during_init && kt.uptime_seconds !== null) this.killedInInit.push(kt.uptime_seconds);
  }

  /** The history so far. */
  result(): WorkloadHistory {
    const probe = this.newest?.killtrace.probe;
    const tolerance =
      probe && probe.budget_seconds !== null ? (probe.initial_delay_seconds ?? 0) + probe.budget_seconds : null;
    const rec = recommendStartupProbe(
      { completedSeconds: this.completed, killedInInitSeconds: this.killedInInit },
      probe ? livenessSpec(probe) : undefined,
    );
    const avoided = rec ? this.killedInInit.filter((u) => u < rec.budgetSeconds).length : 0;
    const observed = this.killedInInit.length;
    const whatIf = rec
      ? `With startupProbe periodSeconds ${rec.periodSeconds} and failureThreshold ${rec.failureThreshold} (${formatSeconds(rec.budgetSeconds)}), ${avoided} of the ${observed} probe kill(s) during init recorded between ${this.firstAt ?? '?'} and ${this.lastAt ?? '?'} would not have happened when they did.`
      : 'No probe kill during init and no finished init recorded: no startupProbe to recommend.';
    return {
      restarts: this.restarts,
      probeKills: this.probeKills,
      probeKillsDuringInit: observed,
      initCompleted: percentiles(this.completed),
      killedDuringInit: percentiles(this.killedInInit),
      currentToleranceSeconds: tolerance,
      recommendation: {
        startupProbe: rec ? { periodSeconds: rec.periodSeconds, failureThreshold: rec.failureThreshold, budgetSeconds: rec.budgetSeconds } : null,
        basis: rec?.basis ?? null,
        whatIf: { killsObserved: observed, killsAvoided: avoided, text: whatIf },
      },
      firstAt: this.firstAt,
      lastAt: this.lastAt,
      killsOverTime: buckets(this.killTimes, 24),
      initHistogram: histogram(this.completed, this.killedInInit, 12),
    };
  }
}

function buckets(times: readonly number[], count: number): WorkloadHistory['killsOverTime'] {
  if (times.length === 0) return [];
  const min = times.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
  const max = times.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
  const width = Math.max(60_000, Math.ceil((max - min + 1) / count));
  const n = Math.min(count, Math.floor((max - min) / width) + 1);
  const out = Array.from({ length: n }, (_, i) => ({ from: new Date(min + i * width).toISOString(), to: new Date(min + (i + 1) * width).toISOString(), kills: 0 }));
  for (const t of times) {
    const bucket = out[Math.min(n - 1, Math.floor((t - min) / width))];
    if (bucket) bucket.kills += 1;
  }
  return out;
}

function histogram(completed: readonly number[], killed: readonly number[], count: number): WorkloadHistory['initHistogram'] {
  const max = [...completed, ...killed].reduce((a, b) => Math.max(a, b), 0);
  if (max === 0) return [];
  const width = max / count;
  const out = Array.from({ length: count }, (_, i) => ({ fromSeconds: i * width, toSeconds: (i + 1) * width, completed: 0, killed: 0 }));
  const bin = (v: number) => out[Math.min(count - 1, Math.floor(v / width))];
  for (const v of completed) {
    const b = bin(v);
    if (b) b.completed += 1;
  }
  for (const v of killed) {
    const b = bin(v);
    if (b) b.killed += 1;
  }
  return out;
}

/** The probe a record ran with, as the spec `recommendStartupProbe` reads (Kubernetes defaults where unknown). */
function livenessSpec(probe: RestartRecord['killtrace']['probe']): ProbeSpec | undefined {
  if (probe.period_seconds === null) return undefined;
  return {
    handler: probe.handler ?? 'http',
    periodSeconds: probe.period_seconds,
    timeoutSeconds: probe.timeout_seconds ?? 1,
    failureThreshold: probe.failure_threshold ?? 3,
    successThreshold: 1,
    initialDelaySeconds: probe.initial_delay_seconds ?? 0,
  };
}
