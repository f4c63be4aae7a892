import type { ProbeSpec } from '@killtrace/schemas';
import { formatSeconds, largest, recommendStartupProbe, type StartupProbeRecommendation } from './recommendation.js';

/**
 * The startupProbe per node class (issue 13): each class's own init observations give its budget, and the probe is
 * sized by the slowest class the workload runs on (a DaemonSet on GPU and CPU nodes gets the GPU nodes' budget).
 */

export interface ClassObservations {
  nodeClass: string;
  completedSeconds: number[];
  killedInInitSeconds: number[];
}

export interface ClassRecommendation {
  nodeClass: string;
  completed: number;
  completedMaxSeconds: number | null;
  killedInInit: number;
  killedMaxSeconds: number | null;
  /** The budget this class alone would need; null when nothing was observed on it. */
  budgetSeconds: number | null;
}

export interface PerClassRecommendation {
  recommendation: StartupProbeRecommendation;
  /** The class whose budget the recommendation takes. */
  slowest: string;
  classes: ClassRecommendation[];
}

/** Per-class budgets and the recommendation of the slowest class; undefined when no class has an observation. */
export function recommendPerClass(classes: readonly ClassObservations[], liveness: ProbeSpec | undefined): PerClassRecommendation | undefined {
  let slowest: { nodeClass: string; rec: StartupProbeRecommendation } | undefined;
  const out: ClassRecommendation[] = [];
  for (const c of [...classes].sort((a, b) => a.nodeClass.localeCompare(b.nodeClass))) {
    const rec = recommendStartupProbe({ completedSeconds: c.completedSeconds, killedInInitSeconds: c.killedInInitSeconds }, liveness);
    out.push({
      nodeClass: c.nodeClass,
      completed: c.completedSeconds.length,
      completedMaxSeconds: c.completedSeconds.length > 0 ? largest(c.completedSeconds) : null,
      killedInInit: c.killedInInitSeconds.length,
      killedMaxSeconds: c.killedInInitSeconds.length > 0 ? largest(c.killedInInitSeconds) : null,
      budgetSeconds: rec?.budgetSeconds ?? null,
    });
    if (rec && (!slowest || rec.budgetSeconds > slowest.rec.budgetSeconds)) slowest = { nodeClass: c.nodeClass, rec };
  }
  if (!slowest) return undefined;
  const described = out.map((c) => {
    const seen: string[] = [];
    if (c.completed > 0) seen.push(`${c.completed} finished init, longest ${formatSeconds(c.completedMaxSeconds ?? 0)}`);
    if (c.killedInInit > 0) seen.push(`${c.killedInInit} killed while initializing, after up to ${formatSeconds(c.killedMaxSeconds ?? 0)}`);
    return `${c.nodeClass}: ${seen.length > 0 ? `${seen.join('; ')} (needs ${formatSeconds(c.budgetSeconds ?? 0)})` : 'no init observed'}`;
  });
  const basis = `per node class, sized by the slowest (${slowest.nodeClass}): ${described.join(' | ')}. ${slowest.rec.basis}`;
  return { recommendation: { ...slowest.rec, basis }, slowest: slowest.nodeClass, classes: out };
}
