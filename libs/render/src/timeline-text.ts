import type { Cause, RestartRecord } from '@killtrace/schemas';
import { fmtSeconds } from './timeline-model.js';
import type { TimelineScope, TimelineSummary } from './timeline-summary.js';

/** Shared wording of the timeline documents (Markdown and HTML say the same things). */

export const CAUSE_LABEL: Record<Cause, string> = {
  liveness_probe: 'liveness probe kill',
  startup_probe: 'startup probe kill',
  oom_killed: 'OOM kill',
  evicted: 'eviction',
  preempted: 'preemption',
  app_exit: 'application exit',
  stopped: 'stop through the API',
  node_shutdown: 'node shutdown',
  unknown: 'unknown cause',
};

/** `2026-10-02 06:30:46.169 UTC` (the cluster's clock; browsers add local time on hover). */
export function utc(iso: string | null): string {
  if (iso === null) return 'unknown';
  return `${iso.replace('T', ' ').replace(/Z$/, '')} UTC`;
}

/** `06:30:46Z`: a short clock time for labels inside the drawing. */
export function clock(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(11, 19)}Z`;
}

/** The document's title for its scope. */
export function scopeTitle(scope: TimelineScope, summary: TimelineSummary): string {
  switch (scope.kind) {
    case 'record': {
      const r = summary.representative;
      return r ? `${r.kubernetes.namespace}/${r.kubernetes.pod.name} · ${r.kubernetes.container.name} · restart ${r.killtrace.restart.count}` : `restart ${scope.id}`;
    }
    case 'pod':
      return `pod ${scope.namespace}/${scope.pod}`;
    case 'workload':
      return `workload ${scope.namespace}/${scope.workload}${scope.container ? ` · ${scope.container}` : ''}`;
  }
}

/** The time range a document was asked for, if any. */
export function scopeRange(scope: TimelineScope): string | null {
  if (scope.kind === 'record' || (scope.from === undefined && scope.to === undefined)) return null;
  return `${scope.from !== undefined ? utc(scope.from) : 'the beginning'} to ${scope.to !== undefined ? utc(scope.to) : 'now'}`;
}

/** One sentence: how many restarts, of what, where. */
export function summarySentence(summary: TimelineSummary): string {
  if (summary.restarts === 0) return 'No restart records match.';
  const causes = Object.entries(summary.byCause)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
    .map(([cause, n]) => `${n} ${CAUSE_LABEL[cause as Cause]}${n === 1 ? '' : 's'}`)
    .join(', ');
  const init = summary.duringInit === summary.restarts ? ', all during init' : summary.duringInit > 0 ? `, ${summary.duringInit} during init` : '';
  const where = `${summary.pods} pod${summary.pods === 1 ? '' : 's'}${summary.nodes.length > 0 ? ` on ${summary.nodes.join(', ')}` : ''}`;
  return `${summary.restarts} restart${summary.restarts === 1 ? '' : 's'} (${causes}${init}) in ${where}.`;
}

/** The impact table's rows: label and value. */
export function impactRows(summary: TimelineSummary): Array<[string, string]> {
  return [
    ['Restarts', String(summary.restarts)],
    ['Killed by a probe', String(summary.probeKills)],
    ['Killed during init', String(summary.duringInit)],
    ['Time spent crash looping', summary.restarts > 1 ? fmtSeconds(summary.crashLoopSeconds) : summary.restarts === 1 ? `${fmtSeconds(summary.crashLoopSeconds)} (one restart)` : '0 s'],
    ['First kill', utc(summary.firstKill)],
    ['Last kill', utc(summary.lastKill)],
    ['Workloads', summary.workloads.join(', ') || 'none'],
  ];
}

/** The root cause in one paragraph: the representative record's explanation without its recommendation. */
export function rootCause(summary: TimelineSummary): string {
  const r = summary.representative;
  if (!r) return 'No restart to explain.';
  const rec = r.killtrace.recommendation.text;
  const text = r.message.endsWith(rec) ? r.message.slice(0, r.message.length - rec.length).trimEnd() : r.message;
  const others = summary.restarts - 1;
  return others > 0 ? `${text} The other ${others} restart${others === 1 ? '' : 's'} in this timeline: see the evidence below.` : text;
}

/** The recommended startupProbe as YAML to paste under the container, or null when there is none. */
export function startupProbeYaml(record: RestartRecord): string | null {
  const p = record.killtrace.recommendation.startup_probe;
  if (!p) return null;
  const handler = record.killtrace.probe.handler;
  const lines = [
    `# container "${record.kubernetes.container.name}": keep the livenessProbe and add a startupProbe${handler ? ` with the same ${handler} check` : ''}`,
    'startupProbe:',
  ];
  if (handler) lines.push(`  # ${handler === 'http' ? 'httpGet' : handler === 'tcp' ? 'tcpSocket' : handler}: copy it from the livenessProbe`);
  lines.push(`  periodSeconds: ${p.period_seconds}`, `  failureThreshold: ${p.failure_threshold}   # ${fmtSeconds(p.period_seconds * p.failure_threshold)} before the livenessProbe takes over`);
  return lines.join('\n');
}
