import { restartRecordId, type Cause, type RestartRecord, type TimelineEntry } from '@killtrace/schemas';

/**
 * The drawable facts of one incarnation (one restart record), in milliseconds relative to the container's start so
 * that every row of a crash loop lines up: the same probe budget lands at the same place, and a step that is always
 * killed at the same point shows as a column. Pure: derived from the record alone (and the previous incarnation of
 * the same container, for the back-off gap).
 */
export interface IncarnationRow {
  id: string;
  namespace: string;
  pod: string;
  container: string;
  node: string | null;
  restart: number;
  cause: Cause;
  confidence: RestartRecord['killtrace']['confidence'];
  duringInit: boolean;
  /** Absolute start (epoch ms); null when no source gave the start: the row then starts at the first evidence. */
  startedAt: number;
  startKnown: boolean;
  killedAt: number | null;
  finishedAt: number | null;
  /** End of the drawn row relative to the start (kill, end or last evidence). */
  spanMs: number;
  steps: StepBar[];
  probeFailures: ProbeTick[];
  /** The window the probe tolerated before the kill: `failureThreshold x periodSeconds` ending at the kill. */
  budget: { fromMs: number; toMs: number; seconds: number; label: string } | null;
  killMs: number | null;
  endMs: number | null;
  /** Back-off since the previous incarnation of the same container ended, when it is known. */
  backoffMs: number | null;
}

export interface StepBar {
  name: string;
  fromMs: number;
  toMs: number;
  /** False for the step the kill interrupted. */
  completed: boolean;
}

export interface ProbeTick {
  atMs: number;
  probe: string;
  text: string;
}

/** A container across incarnations: the key that relates one record to the previous one of the same container. */
export function containerKey(record: RestartRecord): string {
  return `${record.kubernetes.pod.uid}/${record.kubernetes.container.name}`;
}

/** Names of the workloads owning a record's pod (any owner kind), for matching a workload scope. */
export function workloadOfName(record: RestartRecord): string[] {
  const k = record.kubernetes;
  return [k.daemonset, k.deployment, k.statefulset, k.replicaset, k.job].flatMap((o) => (o ? [o.name] : []));
}

/** The record's document id (CONTRACT.md section 1), as `restartRecordId` builds it. */
export function recordKey(record: RestartRecord): string {
  return restartRecordId(record.kubernetes.pod.uid, record.kubernetes.container.name, record.killtrace.restart.count);
}

const STEP_ENTRY = /^step (.+?) started(?: \(took (.+)\))?$/;
const PROBE_ENTRY = /^(liveness|startup) probe failed(?:: (.*))?$/s;

/** Parses the durations `formatSeconds` writes (libs/correlation/src/recommendation.ts): `4.9 s`, `2 min`, `2 min 30 s`. */
export function parseDuration(text: string): number | null {
  const m = /^(?:(\d+) min)?\s*(?:([\d.]+) s)?$/.exec(text.trim());
  if (!m || (m[1] === undefined && m[2] === undefined)) return null;
  return (Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 1000;
}

const ms = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));

/** The drawable row of one record; `previous` is the record of the same container's preceding incarnation, if known. */
export function incarnationRow(record: RestartRecord, previous?: RestartRecord): IncarnationRow {
  const kt = record.killtrace;
  const timeline = kt.timeline;
  const startedAbs = ms(kt.started_at);
  const first = timeline[0];
  const firstEvidence = first !== undefined ? Date.parse(first.at) : Date.parse(record['@timestamp']);
  const start = startedAbs ?? firstEvidence;
  const rel = (abs: number): number => abs - start;
  const killedAt = ms(kt.killed_at);
  const finishedAt = ms(kt.finished_at);

  const steps: StepBar[] = [];
  const stepEntries = timeline.flatMap((e) => {
    const m = e.source === 'app_log' ? STEP_ENTRY.exec(e.text) : null;
    return m ? [{ at: Date.parse(e.at), name: m[1] ?? '', took: m[2] === undefined ? null : parseDuration(m[2]) }] : [];
  });
  const end = killedAt ?? finishedAt ?? Date.parse(record['@timestamp']);
  stepEntries.forEach((s, i) => {
    const next = stepEntries[i + 1];
    const isCurrent = kt.init.step === s.name && next === undefined && s.took === null;
    const to = s.took !== null ? s.at + s.took : next !== undefined ? next.at : end;
    steps.push({ name: s.name, fromMs: rel(s.at), toMs: rel(Math.max(to, s.at)), completed: !isCurrent });
  });
  if (kt.init.step !== null && kt.init.step_started_at !== null && !steps.some((s) => !s.completed)) {
    const from = Date.parse(kt.init.step_started_at);
    steps.push({ name: kt.init.step, fromMs: rel(from), toMs: rel(Math.max(end, from)), completed: false });
  }

  const probeFailures: ProbeTick[] = timeline.flatMap((e: TimelineEntry) => {
    if (e.source !== 'kubelet_log' && e.source !== 'event') return [];
    const m = PROBE_ENTRY.exec(e.text);
    return m ? [{ atMs: rel(Date.parse(e.at)), probe: m[1] ?? 'liveness', text: e.text }] : [];
  });

  const probe = kt.probe;
  const budget =
    kt.probe_induced && killedAt !== null && probe.budget_seconds !== null
      ? {
          fromMs: rel(killedAt) - probe.budget_seconds * 1000,
          toMs: rel(killedAt),
          seconds: probe.budget_seconds,
          label:
            probe.failure_threshold !== null && probe.period_seconds !== null
              ? `${probe.type ?? 'probe'} budget ${fmtSeconds(probe.budget_seconds)} (${probe.failure_threshold} × ${probe.period_seconds} s)`
              : `${probe.type ?? 'probe'} budget ${fmtSeconds(probe.budget_seconds)}`,
        }
      : null;

  const lastEvidence = timeline.reduce((max, e) => Math.max(max, Date.parse(e.at)), start);
  const spanAbs = steps.reduce((max, s) => Math.max(max, s.toMs + start), Math.max(finishedAt ?? 0, killedAt ?? 0, lastEvidence));
  const prevEnd = previous ? (ms(previous.killtrace.finished_at) ?? ms(previous.killtrace.killed_at)) : null;
  const backoffMs = prevEnd !== null && startedAbs !== null && startedAbs >= prevEnd ? startedAbs - prevEnd : null;

  return {
    id: recordKey(record),
    namespace: record.kubernetes.namespace,
    pod: record.kubernetes.pod.name,
    container: record.kubernetes.container.name,
    node: record.kubernetes.node.name,
    restart: kt.restart.count,
    cause: kt.cause,
    confidence: kt.confidence,
    duringInit: kt.during_init,
    startedAt: start,
    startKnown: startedAbs !== null,
    killedAt,
    finishedAt,
    spanMs: Math.max(0, spanAbs - start),
    steps,
    probeFailures,
    budget,
    killMs: killedAt === null ? null : rel(killedAt),
    endMs: finishedAt === null ? null : rel(finishedAt),
    backoffMs,
  };
}

/** Seconds the way people read them: `45.4 s`, `2 min 30 s`, `3 h 5 min`. */
export function fmtSeconds(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds * 10) / 10} s`;
  if (seconds < 5400) {
    const minutes = Math.floor(seconds / 60);
    const rest = Math.round(seconds - minutes * 60);
    return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
  }
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.round((seconds - hours * 3600) / 60);
  return minutes === 0 ? `${hours} h` : `${hours} h ${minutes} min`;
}
