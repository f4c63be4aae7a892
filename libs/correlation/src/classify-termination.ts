import type { Cause, Confidence, DecidedBy, EventSignal, KubeletSignal, PodSnapshot, ProbeSpec, TerminatedState } from '@killtrace/schemas';
import type { ProbeFailure } from './evidence.js';
import { EVENT_SLACK_MS, type Incarnation, type TerminationMark } from './incarnations.js';

/**
 * Decides why an incarnation ended, who decided it, and how sure we are. Order matters: the kernel's OOM
 * killer and pod-level decisions (eviction, preemption, shutdown) explain a death even when the kubelet also
 * logs a plain "Stopping container"; a stated probe kill beats timing inference; readiness never kills.
 */

export interface Classification {
  cause: Cause;
  decidedBy: DecidedBy;
  confidence: Confidence;
  probeType?: 'liveness' | 'startup';
  /** When the decision was made, if known. */
  killedAt?: number;
  /** Why, in words, for the timeline's inference entries. */
  reasoning: string;
}

export interface ClassificationInput {
  incarnation: Incarnation;
  pod?: PodSnapshot;
  podEvents: EventSignal[];
  podKubelet: KubeletSignal[];
  containerKubelet: KubeletSignal[];
  failures: ProbeFailure[];
  liveness?: ProbeSpec;
  startup?: ProbeSpec;
  /** When the incarnation ended (death, or the last evidence of it). */
  endAt?: number;
  /** True for the newest incarnation that ended: pod-level endings (eviction, preemption, shutdown, deletion) end only it. */
  isNewest: boolean;
  /** True when the pod's kubelet journal spans this incarnation's life: then a missing kill line means no kill. */
  journalCovers: boolean;
  /** Restart count of another incarnation of this container the status shows OOMKilled, if any. */
  oomSibling?: number;
}

const KILL_EXIT_CODES = new Set([137, 143]);

/** Classifies one ended incarnation. */
export function classifyTermination(input: ClassificationInput): Classification {
  const { incarnation, pod } = input;
  const marks = incarnation.episode?.marks ?? [];
  const terminated: TerminatedState | undefined = incarnation.terminated;
  const endAt = input.endAt;
  const near = (at: number, slackMs = 60_000): boolean => endAt === undefined || Math.abs(at - endAt) <= slackMs;

  if (terminated?.reason === 'OOMKilled' || input.containerKubelet.some((s) => s.action === 'oom' && near(s.at))) {
    return { cause: 'oom_killed', decidedBy: 'kernel', confidence: 'high', reasoning: 'the kernel OOM killer ended the process (reason OOMKilled)' };
  }

  const killing = marks.find((m) => m.kind === 'killing' || m.kind === 'event_stop');
  const evictedEvent = input.podEvents.find((e) => e.reason === 'Evicted' && near(e.lastAt, 5 * 60_000));
  const evictedLine = input.podKubelet.find((s) => s.action === 'evicted' && near(s.at, 5 * 60_000));
  if (evictedEvent || evictedLine || (pod?.reason === 'Evicted' && input.isNewest)) {
    // The kill line is the decision carried out ("evicted successfully" comes after it); events have second precision.
    const journalKill = marks.find((m) => m.kind === 'killing');
    const at = journalKill?.at ?? evictedLine?.at ?? evictedEvent?.lastAt ?? killing?.at;
    return { cause: 'evicted', decidedBy: 'kubelet', confidence: evictedEvent || evictedLine ? 'high' : 'medium', killedAt: at, reasoning: evictedEvent ? `Evicted: ${evictedEvent.message}` : 'the pod status says Evicted' };
  }

  const preempted = input.podEvents.find((e) => (e.reason === 'Preempting' || e.reason === 'Preempted' || /preempt/i.test(e.message)) && near(e.lastAt, 5 * 60_000));
  if (preempted || (pod?.reason === 'Preempting' && input.isNewest)) {
    return { cause: 'preempted', decidedBy: 'api', confidence: preempted ? 'high' : 'medium', killedAt: preempted?.lastAt ?? killing?.at, reasoning: preempted ? `${preempted.reason}: ${preempted.message}` : 'the pod status says Preempting' };
  }

  const shutdownLine = input.podKubelet.find((s) => s.action === 'node_shutdown' && near(s.at, 5 * 60_000));
  const shutdownStatus = pod?.reason === 'NodeShutdown' || (pod?.reason === 'Terminated' && /node shutdown/i.test(pod.message ?? ''));
  if (shutdownLine || (shutdownStatus && input.isNewest)) {
    return { cause: 'node_shutdown', decidedBy: 'kubelet', confidence: shutdownLine ? 'high' : 'medium', killedAt: shutdownLine?.at ?? killing?.at, reasoning: 'the node was shutting down' };
  }

  const stated = marks.find((m) => m.kind === 'decision' && m.probeType) ?? marks.find((m) => m.kind === 'event_kill' && m.probeType);
  if (stated?.probeType) {
    const cause = stated.probeType === 'startup' ? 'startup_probe' : 'liveness_probe';
    return { cause, decidedBy: 'kubelet', confidence: 'high', probeType: stated.probeType, killedAt: decisionTime(marks, stated), reasoning: `the kubelet stated it: ${stated.text}` };
  }

  const inferred = inferProbeKill(input, terminated);
  if (inferred) return inferred;

  if (killing) {
    return { cause: 'stopped', decidedBy: 'api', confidence: 'high', killedAt: killing.at, reasoning: `the kubelet stopped it without a probe failure (${killing.text}): a deletion, rollout or scale-down` };
  }
  if (pod?.deletionTimestamp !== undefined && input.isNewest) {
    return { cause: 'stopped', decidedBy: 'api', confidence: 'medium', killedAt: pod.deletionTimestamp, reasoning: 'the pod was being deleted' };
  }

  if (!terminated && input.journalCovers) {
    // The kubelet never logs a kernel OOM kill: when this container's status shows one, "no kill decision" no
    // longer means the process ended by itself.
    if (input.oomSibling !== undefined) {
      return { cause: 'unknown', decidedBy: 'unknown', confidence: 'low', reasoning: `the kubelet journal covering this run records no kill decision, so the process ended by itself or the kernel OOM killer ended it, as it did restart ${input.oomSibling} (OOMKilled); its exit status is not kept` };
    }
    return { cause: 'app_exit', decidedBy: 'application', confidence: 'medium', reasoning: 'the kubelet journal covering this run records no kill decision and the container was restarted, so the process ended by itself (its exit status is not kept; a kernel OOM kill would leave no kubelet line either, only a kernel log line)' };
  }
  if (terminated && !KILL_EXIT_CODES.has(terminated.exitCode)) {
    return { cause: 'app_exit', decidedBy: 'application', confidence: 'high', reasoning: `the process exited by itself with code ${terminated.exitCode} (${terminated.reason ?? 'no reason'}) and no kill decision was recorded` };
  }
  if (terminated?.exitCode === 137) {
    // SIGKILL (128 + 9) without a kill decision: not the kubelet (whose kills leave a decision when the journal
    // covers the run); the kernel OOM killer is the usual sender when the runtime did not report OOMKilled (e.g. it
    // killed a child process, or the cgroup event was missed).
    const why = input.journalCovers ? 'the kubelet journal covering this run records no kill decision, so the SIGKILL came from outside the kubelet' : 'no kill decision was collected';
    return { cause: 'unknown', decidedBy: 'unknown', confidence: 'low', reasoning: `exit 137 is a SIGKILL and ${why}: the kernel OOM killer is the likely source (check the node's kernel log, journalctl -k, for "Memory cgroup out of memory"), unless the kubelet killed it after the grace period and its decision is missing${probeTimingHint(input)}` };
  }
  if (terminated) {
    return { cause: 'unknown', decidedBy: 'unknown', confidence: 'low', reasoning: `exit ${terminated.exitCode} means a signal ended it, but no evidence says who sent it${probeTimingHint(input)}` };
  }
  return { cause: 'unknown', decidedBy: 'unknown', confidence: 'low', reasoning: incarnation.endInferred ? 'a later incarnation exists, but nothing records how this one ended' : 'no evidence says how it ended' };
}

/**
 * When a signal ended a run as long as the liveness probe allows before its first possible kill, say so: in a long
 * crash loop the kubelet's event rate limit drops the Unhealthy and Killing events of most kills.
 */
function probeTimingHint(input: ClassificationInput): string {
  const probe = input.liveness;
  const start = input.incarnation.startedAt;
  if (!probe || start === undefined || input.endAt === undefined || input.journalCovers) return '';
  const uptime = (input.endAt - start) / 1000;
  const earliest = probe.initialDelaySeconds + (probe.failureThreshold - 1) * probe.periodSeconds;
  const latest = earliest + probe.periodSeconds + probe.timeoutSeconds + 30 + EVENT_SLACK_MS / 1000;
  if (uptime < earliest || uptime > latest) return '';
  return `; its uptime (${Math.round(uptime)} s) matches the earliest moment its liveness probe can kill (${earliest} s after the start), so a liveness kill whose events were lost to the event rate limit is likely (a kubelet journal would state it)`;
}

function decisionTime(marks: TerminationMark[], stated: TerminationMark): number {
  // The journal is precise to the microsecond; an event only to the second.
  const precise = marks.find((m) => m.kind === 'decision');
  return precise?.at ?? stated.at;
}

/**
 * Without a stated decision: liveness or startup failures, then an end by signal within the probe's timing.
 * The kubelet kills at the failureThreshold-th consecutive failure, then the process exits within the grace period.
 */
function inferProbeKill(input: ClassificationInput, terminated: TerminatedState | undefined): Classification | undefined {
  const endAt = input.endAt;
  if (input.failures.length === 0 || endAt === undefined) return undefined;
  const last = input.failures[input.failures.length - 1] as ProbeFailure;
  const spec = last.probeType === 'startup' ? input.startup : input.liveness;
  const period = (spec?.periodSeconds ?? 10) * 1000;
  const closeEnough = endAt - last.at <= period + 35_000 + EVENT_SLACK_MS && endAt >= last.at - EVENT_SLACK_MS;
  const bySignal = terminated ? KILL_EXIT_CODES.has(terminated.exitCode) : true;
  if (!closeEnough || !bySignal) return undefined;
  const exitText = terminated ? `exit ${terminated.exitCode}` : 'its end';
  return {
    cause: last.probeType === 'startup' ? 'startup_probe' : 'liveness_probe',
    decidedBy: 'kubelet',
    confidence: 'medium',
    probeType: last.probeType,
    killedAt: last.at,
    reasoning: `${last.probeType} probe failures, then ${exitText} within the probe's timing; no kill line or Killing event survived to state it`,
  };
}
