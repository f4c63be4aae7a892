import type { ProbeSpec } from '@killtrace/schemas';
import type { Workload } from './workload.js';

/**
 * A fix that applies (issue 13): the recommended probe change as a strategic merge patch for the workload that owns
 * the pod, given three ways: a `kubectl patch` command, a kustomize patch file, and a Helm values fragment. A
 * strategic merge patch merges `containers` (and `initContainers`) by `name` (k8s.io/api core/v1 PodSpec:
 * `patchStrategy:"merge" patchMergeKey:"name"`) and maps field by field, so the patch names only the container and
 * the probe fields that change; everything else in the workload stays as it is.
 */

export interface PatchTarget {
  apiVersion: string;
  kind: 'DaemonSet' | 'Deployment' | 'StatefulSet' | 'ReplicaSet';
  /** The `kubectl` resource name (`daemonset`). */
  resource: string;
  name: string;
  namespace: string;
  container: string;
  /** `initContainers` for a native sidecar. */
  list: 'containers' | 'initContainers';
}

export type ProbeChange =
  /** Add a startupProbe repeating the liveness probe's check. */
  | { kind: 'add-startup'; liveness: ProbeSpec; periodSeconds: number; failureThreshold: number }
  /** Raise the existing startupProbe's budget. */
  | { kind: 'raise-startup'; periodSeconds: number; failureThreshold: number };

export interface ProbePatch {
  target: PatchTarget;
  /** The strategic merge patch (JSON). */
  strategicMergePatch: Record<string, unknown>;
  kubectl: string;
  kustomize: string;
  helmValues: string;
}

/** Why no patch could be made, for the record's text. */
export interface NoPatch {
  reason: string;
}

/** The workload a patch goes to: pods of a Job or bare pods cannot have their probes changed in place. */
export function patchTarget(workload: Workload, namespace: string, container: string, sidecar: boolean): PatchTarget | NoPatch {
  const list = sidecar ? 'initContainers' : 'containers';
  const base = { namespace, container, list } as const;
  if (workload.daemonset) return { ...base, apiVersion: 'apps/v1', kind: 'DaemonSet', resource: 'daemonset', name: workload.daemonset };
  if (workload.statefulset) return { ...base, apiVersion: 'apps/v1', kind: 'StatefulSet', resource: 'statefulset', name: workload.statefulset };
  if (workload.deployment) return { ...base, apiVersion: 'apps/v1', kind: 'Deployment', resource: 'deployment', name: workload.deployment };
  if (workload.replicaset) return { ...base, apiVersion: 'apps/v1', kind: 'ReplicaSet', resource: 'replicaset', name: workload.replicaset };
  if (workload.job) return { reason: `a Job's pod template cannot be changed: change the probe in the Job (or its CronJob's jobTemplate) and recreate it (Job ${namespace}/${workload.job})` };
  return { reason: 'a bare pod\'s probes cannot be changed in place: change them where the pod is created' };
}

/** The patch for one probe change, or why there is none. */
export function buildProbePatch(target: PatchTarget | NoPatch, change: ProbeChange): ProbePatch | NoPatch {
  if ('reason' in target) return target;
  let startupProbe: Record<string, unknown>;
  if (change.kind === 'add-startup') {
    if (!change.liveness.action) return { reason: 'the liveness probe\'s handler is not one Killtrace can repeat (httpGet, tcpSocket, exec, grpc): add the startupProbe by hand' };
    startupProbe = { ...change.liveness.action, periodSeconds: change.periodSeconds, failureThreshold: change.failureThreshold, timeoutSeconds: change.liveness.timeoutSeconds };
  } else {
    startupProbe = { periodSeconds: change.periodSeconds, failureThreshold: change.failureThreshold };
  }
  const podSpec = { [target.list]: [{ name: target.container, startupProbe }] };
  const strategicMergePatch = { spec: { template: { spec: podSpec } } };
  const json = JSON.stringify(strategicMergePatch);
  const kubectl = `kubectl patch ${target.resource} ${target.name} -n ${target.namespace} --type strategic -p '${json.replaceAll("'", "'\\''")}'`;
  const file = `${target.name}-${target.container}-startup-probe.yaml`;
  const kustomize = [
    `# Strategic merge patch for ${target.kind} ${target.namespace}/${target.name}, container ${target.container}.`,
    `# Save as ${file} and list it in kustomization.yaml:`,
    '#   patches:',
    `#     - path: ${file}`,
    toYaml({ apiVersion: target.apiVersion, kind: target.kind, metadata: { name: target.name, namespace: target.namespace }, ...strategicMergePatch }),
  ].join('\n');
  const helmValues = [
    `# Helm: the chart that deploys ${target.kind} ${target.namespace}/${target.name} is unknown, so where this goes is a guess:`,
    `# many charts take container ${target.container}'s probe as a top-level \`startupProbe:\` value or under the container's own key.`,
    '# Check the chart\'s values.yaml (helm show values CHART) before using it.',
    toYaml({ startupProbe }),
  ].join('\n');
  return { target, strategicMergePatch, kubectl, kustomize, helmValues };
}

/** Block-style YAML of plain JSON data (strings quoted when YAML would read them otherwise). */
export function toYaml(value: unknown, indent = ''): string {
  const lines: string[] = [];
  const scalar = (v: unknown): string => {
    if (typeof v === 'string') return /^[A-Za-z0-9_./-][A-Za-z0-9_ ./:-]*$/.test(v) && !/^(true|false|null|yes|no|on|off|~|[-+]?[0-9.]+)$/i.test(v) && !v.endsWith(' ') && !v.includes(': ') ? v : JSON.stringify(v);
    return JSON.stringify(v);
  };
  const emit = (v: unknown, pad: string): void => {
    if (Array.isArray(v)) {
      for (const item of v) {
        if (item !== null && typeof item === 'object') {
          const nested = toYaml(item, `${pad}  `).split('\n');
          lines.push(`${pad}- ${(nested[0] ?? '').trimStart()}`, ...nested.slice(1));
        } else lines.push(`${pad}- ${scalar(item)}`);
      }
      return;
    }
    for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
      if (child !== null && typeof child === 'object' && (Array.isArray(child) ? child.length > 0 : Object.keys(child).length > 0)) {
        lines.push(`${pad}${k}:`);
        emit(child, Array.isArray(child) ? `${pad}  ` : `${pad}  `);
      } else lines.push(`${pad}${k}: ${Array.isArray(child) ? '[]' : child !== null && typeof child === 'object' ? '{}' : scalar(child)}`);
    }
  };
  emit(value, indent);
  return lines.join('\n');
}
