import type { ProbeSpec } from '@killtrace/schemas';

/**
 * Recommends a startupProbe from what the input shows about this workload's init: how long incarnations that
 * finished init took, and how far killed ones had got. Killed incarnations only give a lower bound, so when no
 * observed init was that long, the recommendation doubles the longest one seen instead of trusting it.
 */

export interface InitObservation {
  /** Seconds from start to ready, for incarnations that finished init. */
  completedSeconds: number[];
  /** Seconds from start to the kill, for incarnations killed by a probe while initializing. */
  killedInInitSeconds: number[];
}

export interface StartupProbeRecommendation {
  periodSeconds: number;
  failureThreshold: number;
  budgetSeconds: number;
  basis: string;
}

const COMPLETED_MARGIN = 1.5;
const UNFINISHED_MARGIN = 3;
const MIN_BUDGET_SECONDS = 30;
/**
 * When init was never seen to finish, its length is unknown: a too-small startupProbe repeats the crash loop,
 * while a too-generous one only delays noticing a container that hangs at start. So lean generous.
 */
const UNFINISHED_FLOOR_SECONDS = 300;

/** The smallest startupProbe (keeping the liveness probe's period) whose budget covers observed init with margin. */
export function recommendStartupProbe(observed: InitObservation, liveness: ProbeSpec | undefined): StartupProbeRecommendation | undefined {
  const { completedSeconds, killedInInitSeconds } = observed;
  if (completedSeconds.length === 0 && killedInInitSeconds.length === 0) return undefined;
  const longestCompleted = largest(completedSeconds, 0);
  const longestKilled = largest(killedInInitSeconds, 0);
  const target = Math.max(
    MIN_BUDGET_SECONDS,
    longestCompleted * COMPLETED_MARGIN,
    longestKilled > longestCompleted ? Math.max(longestKilled * UNFINISHED_MARGIN, UNFINISHED_FLOOR_SECONDS) : 0,
  );
  const periodSeconds = liveness?.periodSeconds ?? 10;
  const failureThreshold = Math.ceil(target / periodSeconds);
  const parts: string[] = [];
  if (completedSeconds.length > 0) {
    parts.push(`${completedSeconds.length} incarnation(s) of this workload finished init in ${describeRange(completedSeconds)} (x${COMPLETED_MARGIN} margin)`);
  }
  if (killedInInitSeconds.length > 0) {
    parts.push(
      `${killedInInitSeconds.length} incarnation(s) were killed while still initializing after ${describeRange(killedInInitSeconds)}` +
        (longestKilled > longestCompleted
          ? ` and never seen to finish that late, so its length is unknown: the budget is x${UNFINISHED_MARGIN} the longest, at least ${formatSeconds(UNFINISHED_FLOOR_SECONDS)} (a generous startupProbe only delays noticing a container that hangs at start)`
          : ''),
    );
  }
  return { periodSeconds, failureThreshold, budgetSeconds: periodSeconds * failureThreshold, basis: `observed init durations: ${parts.join('; ')}` };
}

function describeRange(values: number[]): string {
  const min = values.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
  const max = largest(values, 0);
  return min === max ? `${formatSeconds(max)}` : `${formatSeconds(min)}-${formatSeconds(max)}`;
}

/** `12.3 s`, `2 min 31 s`. */
export function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds * 10) / 10} s`;
  // Round to whole seconds first: 119.6 s is `2 min`, not `1 min 60 s`.
  const whole = Math.round(seconds);
  const minutes = Math.floor(whole / 60);
  const rest = whole - minutes * 60;
  return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}

/**
 * The largest value, or `empty` for none. Init histories grow with a workload's pods (a DaemonSet on thousands
 * of nodes), so no spread into Math.max, whose argument count the engine limits.
 */
export function largest(values: readonly number[], empty = Number.NEGATIVE_INFINITY): number {
  return values.length === 0 ? empty : values.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
}
