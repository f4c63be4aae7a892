import type { Cause, RestartRecord } from '@killtrace/schemas';
import { containerKey, recordKey } from './timeline-model.js';

/** What a timeline document covers: one restart, one pod, or one workload over a time range. */
export type TimelineScope =
  | { kind: 'record'; id: string }
  | { kind: 'pod'; namespace: string; pod: string; from?: string; to?: string }
  | { kind: 'workload'; namespace: string; workload: string; container?: string; from?: string; to?: string };

/** Records that need a human to look again (confidence below high), kept up to a bound. */
export interface OpenQuestion {
  id: string;
  pod: string;
  restart: number;
  cause: Cause;
  confidence: 'medium' | 'low';
  reasoning: string;
}

/** Totals over all records of a document, gathered in one streaming pass (memory per container, not per record). */
export interface TimelineSummary {
  scope: TimelineScope;
  restarts: number;
  byCause: Partial<Record<Cause, number>>;
  probeKills: number;
  duringInit: number;
  firstKill: string | null;
  lastKill: string | null;
  /** Per container, from the start of its first recorded incarnation to its last kill, summed. */
  crashLoopSeconds: number;
  pods: number;
  nodes: string[];
  workloads: string[];
  /** Longest drawn incarnation (ms from start), for a common scale across rows. */
  maxSpanMs: number;
  /** Longest back-off gap between two incarnations of a container. */
  maxBackoffMs: number;
  /** The newest probe-induced record (or the newest record): its explanation and recommendation stand for all. */
  representative: RestartRecord | null;
  openQuestions: OpenQuestion[];
  openQuestionsOmitted: number;
}

const MAX_OPEN_QUESTIONS = 20;
const MAX_LISTED = 20;

/** The workload that owns a record's pod, as `kind/name` (the pod itself when no owner is known). */
export function workloadOf(record: RestartRecord): { kind: string; name: string } {
  const k = record.kubernetes;
  if (k.daemonset) return { kind: 'daemonset', name: k.daemonset.name };
  if (k.statefulset) return { kind: 'statefulset', name: k.statefulset.name };
  if (k.deployment) return { kind: 'deployment', name: k.deployment.name };
  if (k.job) return { kind: 'job', name: k.job.name };
  if (k.replicaset) return { kind: 'replicaset', name: k.replicaset.name };
  return { kind: 'pod', name: k.pod.name };
}

/** The order every timeline uses, from Elasticsearch or a bundle: oldest first, ties by pod uid, container, restart. */
export function compareRecords(a: RestartRecord, b: RestartRecord): number {
  const t = Date.parse(a['@timestamp']) - Date.parse(b['@timestamp']);
  if (t !== 0) return t;
  const ka = [a.kubernetes.pod.uid, a.kubernetes.container.name];
  const kb = [b.kubernetes.pod.uid, b.kubernetes.container.name];
  for (let i = 0; i < ka.length; i++) {
    const x = ka[i] ?? '';
    const y = kb[i] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.killtrace.restart.count - b.killtrace.restart.count;
}

/** Builds a TimelineSummary from records fed oldest first (the order of `compareRecords`). */
export class TimelineSummaryBuilder {
  private restarts = 0;
  private readonly byCause: Partial<Record<Cause, number>> = {};
  private probeKills = 0;
  private duringInit = 0;
  private firstKill: string | null = null;
  private lastKill: string | null = null;
  private readonly containers = new Map<string, { firstStart: number; lastKill: number; lastEnd: number | null }>();
  private readonly pods = new Set<string>();
  private readonly nodes = new Set<string>();
  private readonly workloads = new Set<string>();
  private maxSpanMs = 0;
  private maxBackoffMs = 0;
  private representative: RestartRecord | null = null;
  private readonly openQuestions: OpenQuestion[] = [];
  private openQuestionsOmitted = 0;

  constructor(private readonly scope: TimelineScope) {}

  /** Adds one record; `spanMs` is its drawn length (from `incarnationRow`). */
  add(record: RestartRecord, spanMs: number): void {
    const kt = record.killtrace;
    this.restarts += 1;
    this.byCause[kt.cause] = (this.byCause[kt.cause] ?? 0) + 1;
    if (kt.probe_induced) this.probeKills += 1;
    if (kt.during_init) this.duringInit += 1;
    const at = record['@timestamp'];
    if (this.firstKill === null || at < this.firstKill) this.firstKill = at;
    if (this.lastKill === null || at > this.lastKill) this.lastKill = at;
    const atMs = Date.parse(at);
    const start = kt.started_at !== null ? Date.parse(kt.started_at) : atMs;
    const end = kt.finished_at !== null ? Date.parse(kt.finished_at) : kt.killed_at !== null ? Date.parse(kt.killed_at) : null;
    const key = containerKey(record);
    const seen = this.containers.get(key);
    if (seen) {
      if (seen.lastEnd !== null && kt.started_at !== null && start >= seen.lastEnd) this.maxBackoffMs = Math.max(this.maxBackoffMs, start - seen.lastEnd);
      seen.firstStart = Math.min(seen.firstStart, start);
      seen.lastKill = Math.max(seen.lastKill, atMs);
      seen.lastEnd = end ?? seen.lastEnd;
    } else {
      this.containers.set(key, { firstStart: start, lastKill: atMs, lastEnd: end });
    }
    this.pods.add(record.kubernetes.pod.uid);
    if (record.kubernetes.node.name !== null && this.nodes.size < MAX_LISTED) this.nodes.add(record.kubernetes.node.name);
    const w = workloadOf(record);
    if (this.workloads.size < MAX_LISTED) this.workloads.add(`${record.kubernetes.namespace}/${w.kind}/${w.name}`);
    this.maxSpanMs = Math.max(this.maxSpanMs, spanMs);
    if (kt.probe_induced || this.representative === null || !this.representative.killtrace.probe_induced) this.representative = record;
    if (kt.confidence !== 'high') {
      if (this.openQuestions.length < MAX_OPEN_QUESTIONS) {
        const inference = kt.timeline.find((e) => e.source === 'inference');
        this.openQuestions.push({
          id: recordKey(record),
          pod: `${record.kubernetes.namespace}/${record.kubernetes.pod.name}`,
          restart: kt.restart.count,
          cause: kt.cause,
          confidence: kt.confidence,
          reasoning: inference?.text ?? record.message,
        });
      } else {
        this.openQuestionsOmitted += 1;
      }
    }
  }

  /** The summary of everything added so far. */
  result(): TimelineSummary {
    let crashLoopMs = 0;
    for (const c of this.containers.values()) crashLoopMs += Math.max(0, c.lastKill - c.firstStart);
    return {
      scope: this.scope,
      restarts: this.restarts,
      byCause: { ...this.byCause },
      probeKills: this.probeKills,
      duringInit: this.duringInit,
      firstKill: this.firstKill,
      lastKill: this.lastKill,
      crashLoopSeconds: crashLoopMs / 1000,
      pods: this.pods.size,
      nodes: [...this.nodes].sort(),
      workloads: [...this.workloads].sort(),
      maxSpanMs: this.maxSpanMs,
      maxBackoffMs: this.maxBackoffMs,
      representative: this.representative,
      openQuestions: [...this.openQuestions],
      openQuestionsOmitted: this.openQuestionsOmitted,
    };
  }
}
