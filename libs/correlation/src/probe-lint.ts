import type { ContainerSpec, ProbeSpec } from '@killtrace/schemas';
import type { PodEvidence } from './evidence.js';
import type { LearnedLookup, NodeClassOf } from './learned-index.js';
import { p90 } from './learned-steps.js';
import { UNLABELLED_CLASS } from './node-class.js';
import { formatSeconds } from './recommendation.js';
import { workloadKey, workloadOf } from './workload.js';

/**
 * The probe linter (issue 13): warns before the first kill. For every workload container with a liveness or
 * startup probe, the time its probes allow for init is compared with the init durations seen per node class, and
 * the static rules an SRE checks are applied to its probes. Pure: inputs are the correlator's evidence.
 */

export type LintSeverity = 'error' | 'warning' | 'info';

export interface LintFinding {
  rule:
    | 'init-killed-on-class'
    | 'init-exceeds-probe-allowance'
    | 'init-margin-low'
    | 'init-unobserved-class'
    | 'init-unobserved'
    | 'liveness-equals-readiness'
    | 'liveness-checks-dependency'
    | 'http-timeout-1s-jvm'
    | 'no-startup-probe-large-delay';
  severity: LintSeverity;
  workload: string;
  namespace: string;
  container: string;
  nodeClass: string | null;
  /** Seconds the probes allow for init, and the margin left by the p90 init duration (negative: too short). */
  allowanceSeconds: number | null;
  p90InitSeconds: number | null;
  marginSeconds: number | null;
  message: string;
}

export interface WorkloadProbes {
  workload: string;
  namespace: string;
  /** `DaemonSet default-host`, `Deployment shop/orders`, `Pod x`: what a reader looks for. */
  owner: string;
  container: string;
  image?: string;
  spec: ContainerSpec;
  /** Init durations (seconds) per node class, and the classes the workload runs on (observed or not). */
  initByClass: Map<string, number[]>;
  /** Probe kills during init per node class (from the restart records), when known. */
  killsInInitByClass?: Map<string, number>;
}

export interface LintOptions {
  /** Warn when the margin left by the p90 init duration is under this fraction of the allowance. Default 0.5. */
  marginFraction?: number;
  /** `initialDelaySeconds` at or above which a liveness probe without a startupProbe is flagged. Default 30. */
  largeInitialDelaySeconds?: number;
}

/** Seconds the probes allow for init: a startupProbe's budget, else the liveness probe's (delay + threshold x period). */
export function initAllowance(spec: ContainerSpec): number | undefined {
  const p: ProbeSpec | undefined = spec.startup ?? spec.liveness;
  return p ? p.initialDelaySeconds + p.failureThreshold * p.periodSeconds : undefined;
}

const JVM_IMAGE = /(?:^|[/_.:-])(?:java|jvm|jdk|jre|openjdk|temurin|corretto|zulu|spring|springboot|tomcat|jetty|wildfly|jboss|quarkus|keycloak|elasticsearch|kafka|zookeeper|cassandra|solr|gradle|maven)(?:$|[/_.:-])/i;
const DEPENDENCY_PATH = /ready|readiness|deps|dependenc|upstream|database|\bdb\b/i;

/** Per node class with init observations: what the probes allow minus the p90 init (negative: too short). */
export function initMargins(w: WorkloadProbes): Array<{ nodeClass: string; marginSeconds: number }> {
  const allowance = initAllowance(w.spec);
  if (allowance === undefined) return [];
  const out: Array<{ nodeClass: string; marginSeconds: number }> = [];
  for (const [nodeClass, seconds] of [...w.initByClass].sort((a, b) => a[0].localeCompare(b[0]))) {
    if (seconds.length > 0) out.push({ nodeClass, marginSeconds: Math.round((allowance - p90(seconds)) * 1000) / 1000 });
  }
  return out;
}

/** The findings for one workload container. */
export function lintWorkload(w: WorkloadProbes, options: LintOptions = {}): LintFinding[] {
  const fraction = options.marginFraction ?? 0.5;
  const largeDelay = options.largeInitialDelaySeconds ?? 30;
  const { spec } = w;
  const out: LintFinding[] = [];
  const base = { workload: w.owner, namespace: w.namespace, container: w.container };
  const finding = (f: Omit<LintFinding, 'workload' | 'namespace' | 'container' | 'nodeClass' | 'allowanceSeconds' | 'p90InitSeconds' | 'marginSeconds'> & Partial<LintFinding>): void => {
    out.push({ ...base, nodeClass: null, allowanceSeconds: null, p90InitSeconds: null, marginSeconds: null, ...f });
  };
  const liveness = spec.liveness;
  const readiness = spec.readiness;
  if (!liveness && !spec.startup) return out;

  const allowance = initAllowance(spec);
  if (allowance !== undefined) {
    const probeWord = spec.startup ? 'startupProbe' : 'liveness probe (no startupProbe)';
    const observed = [...w.initByClass].filter(([, s]) => s.length > 0);
    const slowestObserved = observed.reduce((m, [, s]) => Math.max(m, p90(s)), 0);
    const killedAnywhere = [...(w.killsInInitByClass?.values() ?? [])].some((n) => n > 0);
    if (w.initByClass.size > 0 && observed.length === 0 && !killedAnywhere) {
      // Nothing to compare yet: say so rather than stay silent, and how init durations get known.
      finding({
        rule: 'init-unobserved',
        severity: 'info',
        allowanceSeconds: allowance,
        message: `no incarnation has been seen to finish init yet on any node class, so the ${formatSeconds(allowance)} the ${probeWord} allows cannot be checked against init durations. They come from a step profile's ready line, the Ready condition with a readiness or startupProbe, or an incarnation that ran well past what its liveness probe allows (killtrace profile suggest writes a profile from the logs).`,
      });
    }
    for (const [nodeClass, seconds] of [...w.initByClass].sort((a, b) => a[0].localeCompare(b[0]))) {
      const kills = w.killsInInitByClass?.get(nodeClass) ?? 0;
      if (kills > 0) {
        finding({
          rule: 'init-killed-on-class',
          severity: 'error',
          nodeClass,
          allowanceSeconds: allowance,
          message: `${kills} incarnation(s) were killed by a probe while initializing on node class ${nodeClass}: the ${probeWord} allows ${formatSeconds(allowance)}, less than init takes there (killtrace analyze says which step and recommends a startupProbe).`,
        });
        continue;
      }
      if (seconds.length === 0) {
        if (observed.length > 0) {
          finding({
            rule: 'init-unobserved-class',
            severity: 'info',
            nodeClass,
            allowanceSeconds: allowance,
            message: `no incarnation has finished init on node class ${nodeClass} yet (a new node class?): the ${probeWord} allows ${formatSeconds(allowance)}; elsewhere init took up to ${formatSeconds(slowestObserved)} (p90). Watch its first start.`,
          });
        }
        continue;
      }
      const p = Math.round(p90(seconds) * 1000) / 1000;
      const margin = Math.round((allowance - p) * 1000) / 1000;
      const where = `on node class ${nodeClass} (${seconds.length} init(s) observed)`;
      if (p > allowance) {
        finding({
          rule: 'init-exceeds-probe-allowance',
          severity: 'error',
          nodeClass,
          allowanceSeconds: allowance,
          p90InitSeconds: p,
          marginSeconds: margin,
          message: `init takes ${formatSeconds(p)} (p90) ${where}, but the ${probeWord} allows only ${formatSeconds(allowance)}: it will be killed while initializing. Add or raise a startupProbe to at least ${formatSeconds(Math.ceil(p * 1.5))}.`,
        });
      } else if (margin < allowance * fraction) {
        finding({
          rule: 'init-margin-low',
          severity: 'warning',
          nodeClass,
          allowanceSeconds: allowance,
          p90InitSeconds: p,
          marginSeconds: margin,
          message: `init takes ${formatSeconds(p)} (p90) ${where}; the ${probeWord} allows ${formatSeconds(allowance)}, a margin of ${formatSeconds(margin)} (under ${Math.round(fraction * 100)} %). A slower node, a bigger data set or more devices will cross it: add a startupProbe sized for the slowest class.`,
        });
      }
    }
  }

  if (liveness && readiness && liveness.handler === readiness.handler && liveness.target !== undefined && liveness.target === readiness.target) {
    finding({
      rule: 'liveness-equals-readiness',
      severity: 'warning',
      message: `the liveness probe checks the same endpoint as the readiness probe (${liveness.target}): when it fails for a reason a restart cannot fix (a dependency, overload), the kubelet restarts the container instead of only taking it out of rotation. Give liveness a check of the process itself.`,
    });
  } else if (liveness?.handler === 'http' && liveness.target !== undefined && DEPENDENCY_PATH.test(liveness.target)) {
    finding({
      rule: 'liveness-checks-dependency',
      severity: 'warning',
      message: `the liveness probe (${liveness.target}) looks like a readiness or dependency check: a dependency outage then restarts every replica at once. Liveness should only check that the process is not stuck.`,
    });
  }
  if (liveness?.handler === 'http' && liveness.timeoutSeconds <= 1 && w.image !== undefined && JVM_IMAGE.test(w.image)) {
    finding({
      rule: 'http-timeout-1s-jvm',
      severity: 'warning',
      message: `an HTTP liveness probe with timeoutSeconds ${liveness.timeoutSeconds} on a JVM image (${w.image}): a GC pause or JIT warm-up longer than a second counts as a failure. Raise timeoutSeconds (3-5 s).`,
    });
  }
  if (liveness && !spec.startup && liveness.initialDelaySeconds >= largeDelay) {
    finding({
      rule: 'no-startup-probe-large-delay',
      severity: 'warning',
      allowanceSeconds: allowance ?? null,
      message: `the liveness probe waits initialDelaySeconds ${liveness.initialDelaySeconds} and there is no startupProbe: a fixed delay is either too long (slow to notice a hang) or too short (killed on a slow start). Use a startupProbe with the same check instead.`,
    });
  }
  return out;
}

/**
 * The init durations one pod shows for each of its containers with a liveness or startup probe (an entry per such
 * container, empty when none was seen): a profile's ready line, or the Ready condition when a readiness or startup
 * probe makes it meaningful, with the restart counts they are of. Shared with other partitions (the context's pod
 * facts), so each counts the pods it does not hold.
 */
export function podProbeInits(pod: PodEvidence): Array<{ workload: string; seconds: number[]; restartCounts: number[] }> {
  const snapshot = pod.snapshot;
  if (!pod.uid || !snapshot) return [];
  const out: Array<{ workload: string; seconds: number[]; restartCounts: number[] }> = [];
  for (const spec of snapshot.containers) {
    if (!spec.liveness && !spec.startup) continue;
    const entry = { workload: workloadKey(pod.namespace, pod.name, snapshot, spec.name), seconds: [] as number[], restartCounts: [] as number[] };
    out.push(entry);
    const container = pod.containers.get(spec.name);
    const status = snapshot.statuses.find((s) => s.name === spec.name);
    for (const [k, tracker] of container?.logs ?? []) {
      if (tracker.ready !== undefined && tracker.firstLine !== undefined) {
        // The container starts before its first line: the status' startedAt, when it is this incarnation's.
        const statusStart = status?.restartCount === k && status.state.kind === 'running' ? status.state.startedAt : undefined;
        entry.seconds.push(Math.max(0, tracker.ready - Math.min(tracker.firstLine, statusStart ?? Number.POSITIVE_INFINITY)) / 1000);
        entry.restartCounts.push(k);
      }
    }
    if ((spec.readiness || spec.startup) && status?.ready && status.state.kind === 'running' && status.state.startedAt !== undefined && snapshot.readySince !== undefined && snapshot.readySince > status.state.startedAt && !entry.restartCounts.includes(status.restartCount)) {
      entry.seconds.push((snapshot.readySince - status.state.startedAt) / 1000);
      entry.restartCounts.push(status.restartCount);
    }
  }
  return out;
}

/**
 * The workload containers with probes, from the evidence: one spec per workload container (the pods' specs are
 * the same template), the node classes its pods run on, and the init durations seen: a profile's ready line, the
 * Ready condition when a readiness or startup probe makes it meaningful, or the learned sequence's end. `others`:
 * pods held elsewhere (the cluster context), counted for the workloads `pods` has.
 */
export function collectWorkloadProbes(
  pods: Iterable<PodEvidence>,
  classOf: NodeClassOf,
  learned: LearnedLookup,
  others: ReadonlyArray<{ uid: string; node?: string; probeInit?: ReadonlyArray<{ workload: string; seconds: readonly number[]; restartCounts: readonly number[] }> }> = [],
): WorkloadProbes[] {
  const byKey = new Map<string, WorkloadProbes & { fromProfile: Set<string> }>();
  const sorted = [...pods].filter((p) => p.uid && p.snapshot).sort((a, b) => a.name.localeCompare(b.name));
  const addInits = (entry: WorkloadProbes & { fromProfile: Set<string> }, uid: string, nodeClass: string, inits: { seconds: readonly number[]; restartCounts: readonly number[] }): void => {
    const list = entry.initByClass.get(nodeClass) ?? [];
    entry.initByClass.set(nodeClass, list);
    list.push(...inits.seconds);
    for (const k of inits.restartCounts) entry.fromProfile.add(`${uid}/${k}`);
  };
  for (const pod of sorted) {
    const snapshot = pod.snapshot;
    if (!snapshot) continue;
    const nodeClass = classOf(snapshot.nodeName) ?? UNLABELLED_CLASS;
    const w = workloadOf(snapshot.owners);
    const owner = w.daemonset ? `DaemonSet ${w.daemonset}` : w.statefulset ? `StatefulSet ${w.statefulset}` : w.deployment ? `Deployment ${w.deployment}` : w.replicaset ? `ReplicaSet ${w.replicaset}` : w.job ? `Job ${w.job}` : `Pod ${pod.name}`;
    const inits = new Map(podProbeInits(pod).map((e) => [e.workload, e]));
    for (const spec of snapshot.containers) {
      if (!spec.liveness && !spec.startup) continue;
      const key = workloadKey(pod.namespace, pod.name, snapshot, spec.name);
      let entry = byKey.get(key);
      if (!entry) {
        entry = { workload: key, namespace: pod.namespace, owner, container: spec.name, image: spec.image, spec, initByClass: new Map(), fromProfile: new Set() };
        byKey.set(key, entry);
      }
      addInits(entry, pod.uid as string, nodeClass, inits.get(key) ?? { seconds: [], restartCounts: [] });
    }
  }
  for (const other of others) {
    for (const inits of other.probeInit ?? []) {
      const entry = byKey.get(inits.workload);
      if (entry) addInits(entry, other.uid, classOf(other.node) ?? UNLABELLED_CLASS, inits);
    }
  }
  for (const entry of byKey.values()) {
    const model = learned(entry.workload);
    for (const s of model?.initSeconds ?? []) {
      const [uid, count] = s.id.split('/');
      if (entry.fromProfile.has(`${uid}/${Number(count)}`)) continue;
      const c = s.nodeClass ?? UNLABELLED_CLASS;
      const list = entry.initByClass.get(c) ?? [];
      list.push(s.seconds);
      entry.initByClass.set(c, list);
    }
  }
  return [...byKey.values()].map(({ fromProfile: _unused, ...w }) => w).sort((a, b) => a.workload.localeCompare(b.workload));
}
