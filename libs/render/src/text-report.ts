import type { Cause, RestartRecord } from '@killtrace/schemas';
import { palette, type Palette } from './ansi.js';

export interface TextOptions {
  color: boolean;
  /** Wrap width for paragraphs. */
  width?: number;
}

const CAUSE_TITLE: Record<Cause, string> = {
  liveness_probe: 'LIVENESS PROBE KILL',
  startup_probe: 'STARTUP PROBE KILL',
  oom_killed: 'OOM KILLED',
  evicted: 'EVICTED',
  preempted: 'PREEMPTED',
  app_exit: 'APPLICATION EXIT',
  stopped: 'STOPPED BY THE API',
  node_shutdown: 'NODE SHUTDOWN',
  unknown: 'UNKNOWN CAUSE',
};

const COMPACT_LIMIT = 20;

/**
 * One readable block per restart, in the order given (the CLI passes newest last). Stops through the API
 * (deletions, rollouts) are expected and would drown the restarts that matter, so they get one line each.
 */
export function renderRecordsText(records: readonly RestartRecord[], options: TextOptions): string {
  const p = palette(options.color);
  const width = options.width ?? 100;
  const full = records.filter((r) => r.killtrace.cause !== 'stopped');
  const stopped = records.filter((r) => r.killtrace.cause === 'stopped');
  const blocks = full.map((record) => renderRecord(record, p, width));
  if (stopped.length > 0) {
    const lines = [p.bold(`Stopped through the API (deletion, rollout or scale-down; usually expected): ${stopped.length}`)];
    for (const r of stopped.slice(-COMPACT_LIMIT)) {
      lines.push(`  ${p.dim(r['@timestamp'])}  ${r.kubernetes.namespace}/${r.kubernetes.pod.name} · ${r.kubernetes.container.name} · restart ${r.killtrace.restart.count} · confidence ${r.killtrace.confidence}`);
    }
    if (stopped.length > COMPACT_LIMIT) lines.push(p.dim(`  … and ${stopped.length - COMPACT_LIMIT} earlier (all in --output ndjson)`));
    blocks.unshift(`${lines.join('\n')}\n`);
  }
  return blocks.join('\n');
}

/** One recommendation per workload container, with how many restarts it covers. */
export function renderRecommendations(records: readonly RestartRecord[], options: TextOptions): string {
  const p = palette(options.color);
  const byWorkload = new Map<string, { records: RestartRecord[]; text: string; probe: string | undefined; patch?: RestartRecord['killtrace']['recommendation']['patch'] }>();
  for (const r of records) {
    const rec = r.killtrace.recommendation;
    if (!r.killtrace.probe_induced || !rec.startup_probe) continue;
    const k = r.kubernetes;
    const owner = k.daemonset?.name ?? k.statefulset?.name ?? k.deployment?.name ?? k.job?.name ?? k.replicaset?.name ?? k.pod.name;
    const key = `${k.namespace}/${owner} · ${k.container.name}`;
    const entry = byWorkload.get(key) ?? { records: [], text: rec.text, probe: undefined };
    entry.records.push(r);
    entry.text = rec.text;
    entry.probe = `startupProbe: { periodSeconds: ${rec.startup_probe.period_seconds}, failureThreshold: ${rec.startup_probe.failure_threshold} }`;
    entry.patch = rec.patch;
    byWorkload.set(key, entry);
  }
  if (byWorkload.size === 0) return '';
  const lines = [p.bold('Summary: what to change')];
  for (const [key, entry] of byWorkload) {
    lines.push(`  ${p.bold(key)} (${entry.records.length} probe kill(s))`);
    lines.push(...wrapText(entry.text, (options.width ?? 100) - 4).map((l) => `    ${p.green(l)}`));
    if (entry.probe) lines.push(`    ${p.green(entry.probe)}`);
    lines.push(...perClassLines(entry.records[entry.records.length - 1]?.killtrace.recommendation.per_class ?? null, p));
    // Issue 13: the same change as a command that applies it (kustomize and Helm forms: --output json).
    if (entry.patch?.kubectl) lines.push(`    Apply: ${entry.patch.kubectl}`, `    (a kustomize patch file and a Helm values fragment are in the record: killtrace.recommendation.patch, --output json)`);
    else if (entry.patch?.note) lines.push(`    No patch: ${entry.patch.note}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Seconds as the recommendation text writes them (`12.7 s`, `5 min`). */
function shortSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds * 10) / 10} s`;
  const whole = Math.round(seconds);
  return whole % 60 === 0 ? `${whole / 60} min` : `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

/**
 * Issue 13: one line per node class the workload runs on (slowest budget first): what was seen there, the budget it
 * alone needs, and the probe kills of the whole workload on it that the recommended startupProbe would have avoided.
 */
function perClassLines(perClass: RestartRecord['killtrace']['recommendation']['per_class'], p: Palette): string[] {
  if (!perClass || perClass.length === 0) return [];
  const sorted = [...perClass].sort((a, b) => (b.budget_seconds ?? 0) - (a.budget_seconds ?? 0) || a.node_class.localeCompare(b.node_class));
  const lines = [`    Per node class (the startupProbe takes the slowest; kills of every pod of the workload):`];
  for (const c of sorted) {
    const seen = [
      c.completed > 0 ? `${c.completed} finished init (longest ${shortSeconds(c.completed_max_seconds ?? 0)})` : undefined,
      c.killed_in_init > 0 ? `${c.killed_in_init} killed during init (after up to ${shortSeconds(c.killed_max_seconds ?? 0)})` : undefined,
    ].filter(Boolean);
    const needs = c.budget_seconds !== null ? `needs ${shortSeconds(c.budget_seconds)}` : 'no init seen';
    const kills = c.kills_observed > 0 ? `${c.kills_avoided} of ${c.kills_observed} probe kill(s) avoided` : 'no probe kill';
    lines.push(`      ${c.node_class}: ${seen.length > 0 ? `${seen.join(', ')}, ` : ''}${needs}; ${kills}`);
  }
  return lines.map((l) => p.dim(l));
}

function renderRecord(r: RestartRecord, p: Palette, width: number): string {
  const kt = r.killtrace;
  const lines: string[] = [];
  const title = `${r.kubernetes.namespace}/${r.kubernetes.pod.name} · ${r.kubernetes.container.name} · restart ${kt.restart.count} · ${r['@timestamp']}`;
  lines.push(p.bold(`── ${title} ${'─'.repeat(Math.max(3, width - title.length - 4))}`));
  const tone = kt.probe_induced ? p.red : kt.cause === 'app_exit' || kt.cause === 'stopped' ? p.yellow : p.red;
  const facts = [
    `decided by ${kt.decided_by}`,
    `confidence ${kt.confidence}`,
    kt.during_init ? 'during init' : kt.init.phase === 'running' ? 'after init' : undefined,
    kt.exit_code !== null ? `exit ${kt.exit_code}${kt.reason ? ` (${kt.reason})` : ''}` : undefined,
    r.kubernetes.node.name ? `node ${r.kubernetes.node.name}` : undefined,
    kt.container.kind !== 'main' ? `${kt.container.kind} container` : undefined,
    kt.restart.count_source === 'fallback' ? 'restart count not known (numbered in time order)' : undefined,
  ].filter(Boolean);
  lines.push(`${tone(p.bold(CAUSE_TITLE[kt.cause]))}  ${p.dim(facts.join(' · '))}`);
  lines.push('');
  // The paragraph ends with the recommendation, which has its own section below.
  const message = r.message.endsWith(kt.recommendation.text) ? r.message.slice(0, r.message.length - kt.recommendation.text.length).trimEnd() : r.message;
  lines.push(...wrapText(message, width));
  lines.push('');
  if (kt.timeline.length > 0) {
    lines.push(p.bold('Evidence'));
    for (const entry of kt.timeline) {
      const time = entry.at.replace(/^\d{4}-\d{2}-\d{2}T/, '').replace('Z', '');
      const source = entry.source.padEnd(11);
      const text = entry.source === 'inference' ? p.cyan(entry.text) : entry.text;
      lines.push(`  ${p.dim(time)}  ${p.dim(source)} ${truncate(text, width * 2)}`);
    }
    lines.push('');
  }
  const rec = kt.recommendation;
  lines.push(p.bold('What to change'));
  lines.push(...wrapText(rec.text, width - 2).map((l) => `  ${p.green(l)}`));
  if (rec.startup_probe) {
    lines.push(`  ${p.green(`startupProbe: { periodSeconds: ${rec.startup_probe.period_seconds}, failureThreshold: ${rec.startup_probe.failure_threshold} }`)}`);
  }
  if (rec.basis) lines.push(...wrapText(`Basis: ${rec.basis}.`, width - 2).map((l) => `  ${p.dim(l)}`));
  if (rec.what_if) lines.push(...wrapText(`What if: ${rec.what_if.text}`, width - 2).map((l) => `  ${p.dim(l)}`));
  lines.push('');
  return lines.join('\n');
}

/** Totals by cause, for the end of a report. */
export function renderCauseSummary(records: readonly RestartRecord[], options: TextOptions): string {
  const p = palette(options.color);
  if (records.length === 0) return p.bold('No container restarts found in the input.');
  const byCause = new Map<string, { total: number; init: number }>();
  for (const r of records) {
    const entry = byCause.get(r.killtrace.cause) ?? { total: 0, init: 0 };
    entry.total += 1;
    if (r.killtrace.during_init) entry.init += 1;
    byCause.set(r.killtrace.cause, entry);
  }
  const parts = [...byCause.entries()]
    .sort((a, b) => b[1].total - a[1].total)
    .map(([cause, n]) => `${n.total} ${cause}${n.init > 0 ? ` (${n.init} during init)` : ''}`);
  const probe = records.filter((r) => r.killtrace.probe_induced).length;
  return `${p.bold(`${records.length} restart(s) explained:`)} ${parts.join(', ')}.${probe > 0 ? ` ${p.red(`${probe} killed by a probe.`)}` : ''}`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Greedy word wrap; words longer than the width stay whole. */
export function wrapText(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else {
      line = line.length > 0 ? `${line} ${word}` : word;
    }
  }
  if (line.length > 0) out.push(line);
  return out;
}
