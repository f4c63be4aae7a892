import { recordWorkload, type RestartRecord } from '@killtrace/schemas';
import type { CompiledRule, GroupField, Receiver, RuleSet } from './rules.js';

/**
 * The grouping and de-duplication state machine. Pure: the caller passes the clock (`now`, epoch ms) and gets back
 * the new state and the notifications to deliver. The alerter passes the wall clock; `killtrace analyze --alerts`
 * passes each kill's event time, so a dry run replays what the service would have done. State is plain JSON, so
 * the alerter can store it as it is.
 */

/** What an alert says about its latest kill: the facts the payloads render. */
export interface KillDetail {
  recordId: string;
  status: 'provisional' | 'final';
  killedAt: string;
  cluster: string;
  namespace: string;
  pod: string;
  node: string | null;
  container: string;
  workload: string;
  workloadKind: string;
  cause: string;
  probeType: 'liveness' | 'startup' | null;
  probeInduced: boolean;
  duringInit: boolean;
  step: string | null;
  stepElapsedSeconds: number | null;
  budgetSeconds: number | null;
  explanation: string;
  recommendation: string;
  startupProbe: { periodSeconds: number; failureThreshold: number } | null;
}

/** One group of one rule: a pending or firing alert. */
export interface AlertGroup {
  key: string;
  rule: string;
  labels: Record<string, string>;
  status: 'pending' | 'firing';
  /** Kills of this episode within the rule's window (event time), for the threshold. */
  window: { id: string; at: number }[];
  /** Record ids counted in this episode: a provisional and a final record of one restart count once. */
  ids: string[];
  count: number;
  firstKillAt: number;
  lastKillAt: number;
  /** Clock (`now`) of the last new kill: the quiet period runs from here. */
  lastSeenAt: number;
  firedAt: number | null;
  lastNotifiedAt: number | null;
  /** Notifications of this episode so far; with `key`, the de-duplication key of each. */
  seq: number;
  latest: KillDetail;
}

export interface AlerterState {
  v: 1;
  groups: Record<string, AlertGroup>;
  /**
   * Record ids already seen, with the clock of the first sight and the rules that counted them: a record replayed
   * after its group resolved is not a new kill, while a final record that now matches another rule still counts there.
   */
  seen: Record<string, { at: number; rules: string[] }>;
}

export type NotificationKind = 'firing' | 'update' | 'repeat' | 'resolved';

/** What a receiver is told about one group at one moment. */
export interface AlertSnapshot {
  rule: string;
  alertname: string;
  severity: string;
  description: string | null;
  runbookUrl: string | null;
  groupKey: string;
  labels: Record<string, string>;
  status: 'firing' | 'resolved';
  count: number;
  firstKillAt: string;
  lastKillAt: string;
  startsAt: string;
  /** Firing: when Alertmanager may consider it resolved if nothing else is heard (end of the quiet period). */
  endsAt: string;
  latest: KillDetail;
}

/** One delivery to do: the `id` is unique per receiver and notification, so a re-sent one can be recognised. */
export interface Notification {
  id: string;
  receiver: string;
  kind: NotificationKind;
  /** Stable for one episode of one group: lets receivers (and Alertmanager's labels) collapse repeats. */
  dedupKey: string;
  seq: number;
  alert: AlertSnapshot;
}

export interface EngineOptions {
  /** How long record ids are remembered after first sight (must exceed the correlator's allowed lateness). */
  seenRetentionMs?: number;
}

const DEFAULT_SEEN_RETENTION_MS = 24 * 3600 * 1000;

/** An empty state. */
export function initialState(): AlerterState {
  return { v: 1, groups: {}, seen: {} };
}

/** The facts of a record that alerts carry. */
export function killDetail(id: string, record: RestartRecord): KillDetail {
  const k = record.killtrace;
  const workload = recordWorkload(record);
  const sp = k.recommendation.startup_probe;
  return {
    recordId: id,
    status: k.status,
    killedAt: k.killed_at ?? k.finished_at ?? record['@timestamp'],
    cluster: record.orchestrator.cluster.name,
    namespace: record.kubernetes.namespace,
    pod: record.kubernetes.pod.name,
    node: record.kubernetes.node.name,
    container: record.kubernetes.container.name,
    workload: workload.name,
    workloadKind: workload.kind,
    cause: k.cause,
    probeType: k.probe.type,
    probeInduced: k.probe_induced,
    duringInit: k.during_init,
    step: k.init.step,
    stepElapsedSeconds: k.init.step_elapsed_seconds,
    budgetSeconds: k.probe.budget_seconds,
    explanation: record.message,
    recommendation: k.recommendation.text,
    startupProbe: sp === null ? null : { periodSeconds: sp.period_seconds, failureThreshold: sp.failure_threshold },
  };
}

/** Whether a rule's match accepts a kill. */
export function ruleMatches(rule: CompiledRule, d: KillDetail): boolean {
  const m = rule.match;
  if (m.probeInduced !== undefined && m.probeInduced !== d.probeInduced) return false;
  if (m.duringInit !== undefined && m.duringInit !== d.duringInit) return false;
  if (m.cause !== undefined && !m.cause.some((c) => c === d.cause)) return false;
  const r = rule.regex;
  if (r.namespace && !r.namespace.test(d.namespace)) return false;
  if (r.workload && !r.workload.test(d.workload)) return false;
  if (r.container && !r.container.test(d.container)) return false;
  if (r.step && !r.step.test(d.step ?? '')) return false;
  return true;
}

function groupValue(field: GroupField, d: KillDetail): string {
  switch (field) {
    case 'cluster':
      return d.cluster;
    case 'namespace':
      return d.namespace;
    case 'workload':
      return d.workload;
    case 'container':
      return d.container;
    case 'cause':
      return d.cause;
    case 'step':
      return d.step ?? '';
    case 'node':
      return d.node ?? '';
    case 'pod':
      return d.pod;
  }
}

/** The grouping labels of a kill under a rule, and the group's key. */
export function groupOf(rule: CompiledRule, d: KillDetail): { key: string; labels: Record<string, string> } {
  const labels: Record<string, string> = {};
  for (const field of rule.groupBy) labels[field] = groupValue(field, d);
  const key = `${rule.name}|${rule.groupBy.map((f) => `${f}=${labels[f] ?? ''}`).join(',')}`;
  return { key, labels };
}

function snapshot(rule: CompiledRule, g: AlertGroup, status: 'firing' | 'resolved', now: number): AlertSnapshot {
  const quietEnd = g.lastSeenAt + rule.resolveAfterSeconds * 1000;
  return {
    rule: rule.name,
    alertname: rule.alertname,
    severity: rule.severity,
    description: rule.description ?? null,
    runbookUrl: rule.runbookUrl ?? null,
    groupKey: g.key,
    labels: g.labels,
    status,
    count: g.count,
    firstKillAt: new Date(g.firstKillAt).toISOString(),
    lastKillAt: new Date(g.lastKillAt).toISOString(),
    startsAt: new Date(g.firstKillAt).toISOString(),
    endsAt: new Date(status === 'resolved' ? now : quietEnd).toISOString(),
    latest: g.latest,
  };
}

/** Receivers that hear a kind: chat and plain webhooks get one message per episode (plus repeats), not one per kill. */
function wants(receiver: Receiver | undefined, kind: NotificationKind): boolean {
  if (receiver === undefined) return false;
  if (kind !== 'update') return true;
  if (receiver.type === 'alertmanager') return true;
  return receiver.type === 'webhook' && receiver.sendUpdates;
}

function notify(rules: RuleSet, rule: CompiledRule, g: AlertGroup, kind: NotificationKind, now: number): Notification[] {
  g.seq += 1;
  const alert = snapshot(rule, g, kind === 'resolved' ? 'resolved' : 'firing', now);
  const dedupKey = `${g.key}@${g.firedAt ?? g.firstKillAt}`;
  const out: Notification[] = [];
  for (const name of rule.receivers) {
    if (!wants(rules.receivers.find((r) => r.name === name), kind)) continue;
    out.push({ id: `${name}|${dedupKey}#${g.seq}`, receiver: name, kind, dedupKey, seq: g.seq, alert });
  }
  return out;
}

function killTime(d: KillDetail): number {
  return Date.parse(d.killedAt);
}

export interface StepResult {
  state: AlerterState;
  notifications: Notification[];
}

/**
 * Ingests one restart record (provisional or final). A restart already counted (same record id) only refreshes
 * the explanation, or moves to the group its newer facts name; a new one counts, may fire its group, and updates
 * a firing one.
 */
export function ingestRecord(state: AlerterState, rules: RuleSet, id: string, record: RestartRecord, now: number): StepResult {
  const next: AlerterState = structuredClone(state);
  const detail = killDetail(id, record);
  const notifications: Notification[] = [];
  const seen = (next.seen[id] ??= { at: now, rules: [] });
  for (const rule of rules.rules) {
    const matches = ruleMatches(rule, detail);
    const { key, labels } = matches ? groupOf(rule, detail) : { key: '', labels: {} };
    const previous = Object.values(next.groups).find((x) => x.rule === rule.name && x.ids.includes(id));
    if (previous !== undefined && previous.key === key) {
      // Another version (the final one) of a restart already counted: newer facts, same kill.
      if (previous.latest.recordId === id) {
        previous.latest = detail;
        if (previous.status === 'firing') notifications.push(...notify(rules, rule, previous, 'update', now));
      }
      continue;
    }
    if (previous !== undefined) {
      // Late evidence moved the restart (e.g. the final record names the init step the provisional one lacked):
      // it leaves its old group, which resolves if nothing else is left in it.
      previous.ids = previous.ids.filter((x) => x !== id);
      previous.window = previous.window.filter((x) => x.id !== id);
      previous.count -= 1;
      if (previous.count <= 0) {
        if (previous.status === 'firing') notifications.push(...notify(rules, rule, previous, 'resolved', now));
        delete next.groups[previous.key];
      } else if (previous.status === 'firing') {
        notifications.push(...notify(rules, rule, previous, 'update', now));
      }
    } else if (seen.rules.includes(rule.name)) {
      // Counted before, in a group that has since resolved (a replay after a restart): not a new kill.
      continue;
    }
    if (!matches) continue;
    if (!seen.rules.includes(rule.name)) seen.rules.push(rule.name);
    let g = next.groups[key];
    const at = killTime(detail);
    if (g === undefined) {
      g = {
        key,
        rule: rule.name,
        labels,
        status: 'pending',
        window: [],
        ids: [],
        count: 0,
        firstKillAt: at,
        lastKillAt: at,
        lastSeenAt: now,
        firedAt: null,
        lastNotifiedAt: null,
        seq: 0,
        latest: detail,
      };
      next.groups[key] = g;
    }
    g.ids.push(id);
    g.count += 1;
    g.firstKillAt = Math.min(g.firstKillAt, at);
    if (at >= g.lastKillAt) {
      g.lastKillAt = at;
      g.latest = detail;
    }
    g.lastSeenAt = Math.max(g.lastSeenAt, now);
    const windowStart = at - rule.threshold.windowSeconds * 1000;
    g.window = [...g.window, { id, at }].filter((k) => k.at >= windowStart);
    if (g.status === 'pending') {
      if (g.window.length >= rule.threshold.count) {
        g.status = 'firing';
        g.firedAt = now;
        g.lastNotifiedAt = now;
        g.seq = 0;
        notifications.push(...notify(rules, rule, g, 'firing', now));
      }
    } else {
      notifications.push(...notify(rules, rule, g, 'update', now));
    }
  }
  return { state: next, notifications };
}

/**
 * Advances the clock: resolves groups whose quiet period passed (pending ones are dropped silently), re-sends
 * firing ones whose repeat interval passed, and forgets record ids older than the retention.
 */
export function tick(state: AlerterState, rules: RuleSet, now: number, options: EngineOptions = {}): StepResult {
  const next: AlerterState = structuredClone(state);
  const notifications: Notification[] = [];
  for (const [key, g] of Object.entries(next.groups)) {
    const rule = rules.rules.find((r) => r.name === g.rule);
    if (rule === undefined) {
      // The rule was removed from the rules file: forget the group (Alertmanager resolves it at its endsAt).
      delete next.groups[key];
      continue;
    }
    if (now - g.lastSeenAt >= rule.resolveAfterSeconds * 1000) {
      if (g.status === 'firing') notifications.push(...notify(rules, rule, g, 'resolved', now));
      delete next.groups[key];
      continue;
    }
    if (g.status === 'firing' && g.lastNotifiedAt !== null && now - g.lastNotifiedAt >= rule.repeatIntervalSeconds * 1000) {
      g.lastNotifiedAt = now;
      notifications.push(...notify(rules, rule, g, 'repeat', now));
    }
  }
  const retention = options.seenRetentionMs ?? DEFAULT_SEEN_RETENTION_MS;
  const live = new Set(Object.values(next.groups).flatMap((g) => g.ids));
  for (const [id, { at }] of Object.entries(next.seen)) if (now - at > retention && !live.has(id)) delete next.seen[id];
  return { state: next, notifications };
}

/** When the next `tick` can change anything (a resolve or a repeat), or null when nothing is pending. */
export function nextDue(state: AlerterState, rules: RuleSet): number | null {
  let due: number | null = null;
  for (const g of Object.values(state.groups)) {
    const rule = rules.rules.find((r) => r.name === g.rule);
    if (rule === undefined) continue;
    const candidates = [g.lastSeenAt + rule.resolveAfterSeconds * 1000];
    if (g.status === 'firing' && g.lastNotifiedAt !== null) candidates.push(g.lastNotifiedAt + rule.repeatIntervalSeconds * 1000);
    for (const c of candidates) due = due === null ? c : Math.min(due, c);
  }
  return due;
}
