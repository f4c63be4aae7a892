import type { ContainerStatus, KernelOomSignal, RecordOom, RestartRecord } from '@killtrace/schemas';
import type { PodEvidence } from './evidence.js';
import { readStatus, type CountSource } from './status-convention.js';
import { formatSeconds } from './recommendation.js';
import { containerKind } from './record-assembly.js';
import { secondsBetween, toIso, toIsoOrNull } from './time.js';
import { flattenLabels, workloadOf } from './workload.js';

/**
 * Joins the kernel's OOM kills (KernelOomSignal, from `journalctl -k` / `dmesg -T`) to restart records. The kubelet
 * never logs a decision for them, so the cgroup path is the only tie: pod uid, then the runtime container id, then
 * the incarnation whose life span holds the kill. A kill that matches no record but whose container and incarnation
 * the evidence names (status ids, kubelet lines, log files) gets a record of its own: that is how an OOM kill whose
 * pod status is long gone is still explained.
 */

/** Kills this close after an incarnation's last sign of life still belong to it (log flush, status precision). */
const SLACK_MS = 5000;

/** Why a kernel OOM kill could not be tied to a restart record. */
export interface UnmatchedOom {
  podUid?: string;
  containerId?: string;
  process: string;
  at: number;
  reason: 'pod_unknown' | 'container_unknown' | 'not_a_pod';
}

/** Key that identifies one kill however often it is delivered. */
export function kernelOomKey(signal: KernelOomSignal): string {
  return `${signal.at}|${signal.host ?? ''}|${signal.pid}|${signal.containerId ?? ''}|${signal.process}`;
}

/**
 * Returns `records` (one pod's) with its kernel OOM kills applied: matched records become `oom_killed` / `kernel`
 * / `high` unless the kubelet had already decided to kill before the OOM, and carry `killtrace.oom`; kills no
 * record covers get a record when their container and incarnation are known. `unmatched` receives the rest.
 */
export function applyKernelOoms(
  records: RestartRecord[],
  ooms: readonly KernelOomSignal[],
  pod: PodEvidence,
  clusterName: string,
  unmatched?: UnmatchedOom[],
): RestartRecord[] {
  if (ooms.length === 0) return records;
  const out = [...records];
  const done: KernelOomSignal[] = [];
  for (const oom of [...ooms].sort((a, b) => a.at - b.at)) {
    // The same kill read twice (journalctl -k and dmesg -T of one node: microseconds vs seconds) counts once.
    if (done.some((d) => d.pid === oom.pid && d.containerId === oom.containerId && Math.abs(d.at - oom.at) < 2000)) continue;
    done.push(oom);
    const matched = matchRecord(out, oom, pod);
    if (matched) {
      enrich(matched.record, oom, matched.by);
      continue;
    }
    const container = containerOf(pod, oom);
    if (container === undefined) {
      unmatched?.push({ podUid: oom.podUid, containerId: oom.containerId, process: oom.process, at: oom.at, reason: 'container_unknown' });
      continue;
    }
    const incarnation = incarnationOf(pod, container, oom);
    if (incarnation === undefined) {
      unmatched?.push({ podUid: oom.podUid, containerId: oom.containerId, process: oom.process, at: oom.at, reason: 'container_unknown' });
      continue;
    }
    const same = out.find((r) => r.kubernetes.container.name === container && r.killtrace.restart.count === incarnation.restartCount);
    if (same) {
      enrich(same, oom, oom.containerId !== undefined ? 'container_id' : 'time');
      continue;
    }
    out.push(newRecord(pod, container, incarnation, oom, clusterName));
  }
  return out.sort((a, b) => a['@timestamp'].localeCompare(b['@timestamp']));
}

function matchRecord(records: RestartRecord[], oom: KernelOomSignal, pod: PodEvidence): { record: RestartRecord; by: RecordOom['matched_by'] } | undefined {
  if (oom.containerId !== undefined) {
    const byId = records.find((r) => r.container.id === oom.containerId);
    if (byId) return { record: byId, by: 'container_id' };
  }
  // By time only within the container the kill belongs to, and never onto a record of another known container id.
  const name = containerOf(pod, oom);
  if (name === undefined) return undefined;
  const spans = records.filter(
    (r) => r.kubernetes.container.name === name && covers(r, oom.at) && (r.container.id === null || oom.containerId === undefined || r.container.id === oom.containerId),
  );
  return spans.length === 1 ? { record: spans[0] as RestartRecord, by: 'time' } : undefined;
}

/** True when `at` lies in the record's life: from its start to its end (or kill decision), with slack. */
function covers(record: RestartRecord, at: number): boolean {
  const kt = record.killtrace;
  const start = kt.started_at !== null ? Date.parse(kt.started_at) : undefined;
  const end = kt.finished_at ?? kt.killed_at;
  if (start === undefined || end === null) return false;
  return start - SLACK_MS <= at && at <= Date.parse(end) + SLACK_MS;
}

/** The container the kill's container id belongs to, from the pod status and the kubelet lines; or the only one. */
function containerOf(pod: PodEvidence, oom: KernelOomSignal): string | undefined {
  const id = oom.containerId;
  if (id !== undefined) {
    for (const s of statuses(pod)) if (idsOf(s).includes(id)) return s.name;
    for (const c of pod.containers.values()) if (c.kubelet.some((k) => k.containerId === id)) return c.name;
    for (const k of pod.podKubelet) if (k.containerId === id && k.container !== undefined) return k.container;
  }
  const names = new Set<string>([...pod.containers.keys(), ...statuses(pod).map((s) => s.name)]);
  return names.size === 1 ? [...names][0] : undefined;
}

function statuses(pod: PodEvidence): ContainerStatus[] {
  return [...(pod.snapshot?.statuses ?? []), ...(pod.snapshot?.initStatuses ?? [])];
}

function idsOf(s: ContainerStatus): string[] {
  const ids: string[] = [];
  if (s.containerId) ids.push(s.containerId);
  if (s.lastTerminated?.containerId) ids.push(s.lastTerminated.containerId);
  if (s.state.kind === 'terminated' && s.state.containerId) ids.push(s.state.containerId);
  return ids;
}

interface OomIncarnation {
  restartCount: number;
  /** `killtrace.restart.count_source` of a record made for this kill alone. */
  countSource: CountSource;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  reason?: string;
  /** Other evidence shows the container ended at (or just after) the kill. */
  endConfirmed: boolean;
}

/**
 * The incarnation the kill hit. By id: the status termination whose container id is the killed one, placed by the
 * kubelet's restartCount/lastState convention (./status-convention.ts). By time: the incarnation whose log began
 * before the kill and whose successor (if any) began after it.
 */
function incarnationOf(pod: PodEvidence, container: string, oom: KernelOomSignal): OomIncarnation | undefined {
  const status = statuses(pod).find((s) => s.name === container);
  if (oom.containerId !== undefined) {
    const hit = readStatus(status).terminations.find((t) => t.state.containerId === oom.containerId);
    if (hit) {
      const t = hit.state;
      return { restartCount: hit.restartCount, countSource: 'container_id', startedAt: t.startedAt, finishedAt: t.finishedAt, exitCode: t.exitCode, reason: t.reason, endConfirmed: true };
    }
  }
  const logs = pod.containers.get(container)?.logs;
  if (!logs || logs.size === 0) return undefined;
  const ordered = [...logs.entries()].filter(([, t]) => t.firstLine !== undefined).sort((a, b) => a[0] - b[0]);
  for (let i = 0; i < ordered.length; i += 1) {
    const [k, tracker] = ordered[i] as (typeof ordered)[number];
    const next = ordered[i + 1];
    const start = tracker.firstLine as number;
    const nextStart = next ? (next[1].firstLine as number) : undefined;
    if (start - SLACK_MS <= oom.at && (nextStart === undefined || oom.at <= nextStart)) {
      const lastAt = tracker.lastLine()?.at;
      return { restartCount: k, countSource: 'log_file', startedAt: start, endConfirmed: nextStart !== undefined && (lastAt === undefined || lastAt <= oom.at + SLACK_MS) };
    }
  }
  return undefined;
}

function oomField(oom: KernelOomSignal, by: RecordOom['matched_by']): RecordOom {
  return {
    process: oom.process,
    pid: oom.pid > 0 ? oom.pid : null,
    killed_at: toIso(oom.at),
    memory_limit_bytes: oom.memoryLimitBytes ?? null,
    memory_usage_bytes: oom.memoryUsageBytes ?? null,
    anon_rss_bytes: oom.anonRssBytes ?? null,
    constraint: oom.constraint ?? null,
    cgroup: oom.cgroup ?? null,
    matched_by: by,
  };
}

function mib(bytes: number): string {
  return `${Math.round((bytes / 1048576) * 10) / 10} MiB`;
}

function killPhrase(oom: KernelOomSignal): string {
  const parts = [`process ${oom.process}${oom.pid > 0 ? ` (pid ${oom.pid})` : ''}`];
  if (oom.anonRssBytes !== undefined) parts.push(`${mib(oom.anonRssBytes)} resident`);
  if (oom.memoryLimitBytes !== undefined) {
    const podLevel = oom.limitCgroup !== undefined && oom.cgroup !== undefined && oom.limitCgroup !== oom.cgroup && oom.containerId !== undefined && !oom.limitCgroup.includes(oom.containerId);
    parts.push(`${podLevel ? "the pod's" : 'its'} memory limit of ${mib(oom.memoryLimitBytes)}`);
  }
  return parts.join(', ');
}

function advice(oom: KernelOomSignal): string {
  if (oom.constraint === 'CONSTRAINT_NONE') {
    return 'The node itself ran out of memory (no cgroup limit was hit): set memory requests that reflect real usage so the scheduler does not overcommit the node, or add memory.';
  }
  const limit = oom.memoryLimitBytes !== undefined ? ` (now ${mib(oom.memoryLimitBytes)})` : '';
  return `Raise the container's memory limit${limit} or reduce what ${oom.process} uses (heap size, caches, concurrency); no probe change will help.`;
}

/** Makes `record` say what the kernel did; a kubelet kill decided before the OOM keeps its cause. */
function enrich(record: RestartRecord, oom: KernelOomSignal, by: RecordOom['matched_by']): void {
  const kt = record.killtrace;
  kt.oom = oomField(oom, by);
  const decidedEarlier = kt.killed_at !== null && kt.decided_by === 'kubelet' && Date.parse(kt.killed_at) < oom.at - 1000;
  kt.timeline = [...kt.timeline, { at: toIso(oom.at), source: 'kernel_log' as const, text: `kernel OOM killer: ${oom.text}` }].sort((a, b) => a.at.localeCompare(b.at));
  if (decidedEarlier) {
    record.message += ` The kernel OOM killer also killed ${killPhrase(oom)} at ${toIso(oom.at)}, during the grace period.`;
    return;
  }
  kt.cause = 'oom_killed';
  kt.decided_by = 'kernel';
  kt.confidence = 'high';
  kt.probe_induced = false;
  kt.probe.type = null;
  kt.probe.failures = null;
  kt.probe.first_failure_at = null;
  kt.probe.last_failure_message = null;
  kt.killed_at = toIso(oom.at);
  record['@timestamp'] = toIso(oom.at);
  kt.recommendation = { text: advice(oom), startup_probe: null, basis: null, what_if: null };
  // The earlier inference ("app_exit", "unknown") is replaced, not kept beside the kernel's word.
  kt.timeline = kt.timeline.filter((e) => e.source !== 'inference');
  kt.timeline.push({ at: toIso(oom.at), source: 'inference', text: `oom_killed (high): the kernel's OOM-killer line names this container's cgroup (${by === 'container_id' ? 'container id' : 'pod uid and time'})` });
  kt.timeline.sort((a, b) => a.at.localeCompare(b.at));
  record.message = explain(record, oom, by, true);
}

function explain(record: RestartRecord, oom: KernelOomSignal, by: RecordOom['matched_by'], confirmed: boolean): string {
  const kt = record.killtrace;
  const k = record.kubernetes;
  let text = `Container ${k.container.name} of pod ${k.namespace}/${k.pod.name}${k.node.name ? ` on ${k.node.name}` : ''} (restart ${kt.restart.count}) was killed by the kernel OOM killer: ${killPhrase(oom)}`;
  text += kt.uptime_seconds !== null ? `, after ${formatSeconds(kt.uptime_seconds)} of uptime.` : '.';
  if (kt.exit_code !== null) text += ` Exit code ${kt.exit_code}${kt.reason ? ` (${kt.reason})` : ''}.`;
  const tie = by === 'container_id' ? "the kernel's OOM-killer line names this container's cgroup" : "the kernel's OOM-killer line names this pod's cgroup, at a time only this incarnation was alive";
  text += ` Confidence ${kt.confidence}: ${tie}${confirmed ? '' : ', though no other evidence shows the container ending then (the kernel may have killed a child process)'}.`;
  return `${text} ${kt.recommendation.text}`;
}

function newRecord(pod: PodEvidence, container: string, inc: OomIncarnation, oom: KernelOomSignal, clusterName: string): RestartRecord {
  const snapshot = pod.snapshot;
  const workload = workloadOf(snapshot?.owners ?? []);
  const status = statuses(pod).find((s) => s.name === container);
  const spec = snapshot?.containers.find((c) => c.name === container);
  const tracker = pod.containers.get(container)?.logs.get(inc.restartCount);
  const last = tracker?.lastLine(oom.at + SLACK_MS);
  const end = inc.finishedAt ?? oom.at;
  const by: RecordOom['matched_by'] = oom.containerId !== undefined && status !== undefined && idsOf(status).includes(oom.containerId) ? 'container_id' : 'time';
  const timeline: RestartRecord['killtrace']['timeline'] = [];
  if (inc.startedAt !== undefined) timeline.push({ at: toIso(inc.startedAt), source: tracker ? 'app_log' : 'pod_status', text: `incarnation ${inc.restartCount} started` });
  if (last) timeline.push({ at: toIso(last.at), source: 'app_log', text: `last line: ${last.text.length > 200 ? `${last.text.slice(0, 199)}…` : last.text}` });
  timeline.push({ at: toIso(oom.at), source: 'kernel_log', text: `kernel OOM killer: ${oom.text}` });
  const confidence = inc.endConfirmed ? 'high' : 'medium';
  timeline.push({ at: toIso(oom.at), source: 'inference', text: `oom_killed (${confidence}): the kernel's OOM-killer line names this container's cgroup` });
  timeline.sort((a, b) => a.at.localeCompare(b.at));
  const record: RestartRecord = {
    '@timestamp': toIso(oom.at),
    message: '',
    event: { kind: 'event', category: ['process'], type: ['end'], action: 'container-restart', dataset: 'killtrace.restart' },
    orchestrator: { type: 'kubernetes', cluster: { name: clusterName } },
    kubernetes: {
      namespace: pod.namespace,
      pod: { name: pod.name, uid: pod.uid ?? oom.podUid ?? '' },
      node: { name: snapshot?.nodeName ?? oom.host ?? null },
      container: { name: container },
      labels: flattenLabels(snapshot?.labels ?? {}),
      ...(workload.daemonset ? { daemonset: { name: workload.daemonset } } : {}),
      ...(workload.deployment ? { deployment: { name: workload.deployment } } : {}),
      ...(workload.statefulset ? { statefulset: { name: workload.statefulset } } : {}),
      ...(workload.replicaset ? { replicaset: { name: workload.replicaset } } : {}),
      ...(workload.job ? { job: { name: workload.job } } : {}),
    },
    container: { id: oom.containerId ?? null, image: { name: spec?.image ?? status?.image ?? null } },
    killtrace: {
      status: 'final',
      restart: { count: inc.restartCount, count_source: inc.countSource },
      container: { kind: containerKind(spec, snapshot, container) },
      kill_event: null,
      prestop_outlived_grace: false,
      cause: 'oom_killed',
      decided_by: 'kernel',
      confidence,
      probe_induced: false,
      during_init: false,
      exit_code: inc.exitCode ?? null,
      signal: null,
      reason: inc.reason ?? null,
      started_at: toIsoOrNull(inc.startedAt),
      killed_at: toIso(oom.at),
      finished_at: toIsoOrNull(inc.finishedAt ?? (inc.endConfirmed ? oom.at : undefined)),
      uptime_seconds: inc.startedAt !== undefined ? secondsBetween(inc.startedAt, end) : null,
      probe: {
        type: null,
        handler: null,
        period_seconds: null,
        timeout_seconds: null,
        failure_threshold: null,
        initial_delay_seconds: null,
        budget_seconds: null,
        failures: null,
        first_failure_at: null,
        last_failure_message: null,
      },
      init: { phase: 'unknown', step: null, step_started_at: null, step_elapsed_seconds: null, completed_steps: [], expected_seconds: null, profile: tracker?.profile?.name ?? null },
      log: {
        last_line: last?.text ?? null,
        last_line_at: toIsoOrNull(last?.at),
        silence_seconds: last ? Math.max(0, secondsBetween(last.at, oom.at)) : null,
      },
      recommendation: { text: advice(oom), startup_probe: null, basis: null, what_if: null },
      timeline,
      oom: oomField(oom, by),
    },
  };
  record.message = explain(record, oom, by, inc.endConfirmed);
  return record;
}
