import type { OwnerRef, PodSnapshot } from '@killtrace/schemas';

export interface Workload {
  daemonset?: string;
  deployment?: string;
  statefulset?: string;
  replicaset?: string;
  job?: string;
}

// ReplicaSets made by a Deployment are named `<deployment>-<pod-template-hash>`.
const TEMPLATE_HASH = /^(.+)-[a-z0-9]{5,10}$/;

/** The owning workload from owner references, as Elastic's Kubernetes integration names it. */
export function workloadOf(owners: readonly OwnerRef[]): Workload {
  const workload: Workload = {};
  for (const owner of owners) {
    switch (owner.kind) {
      case 'DaemonSet':
        workload.daemonset = owner.name;
        break;
      case 'StatefulSet':
        workload.statefulset = owner.name;
        break;
      case 'Job':
        workload.job = owner.name;
        break;
      case 'ReplicaSet': {
        workload.replicaset = owner.name;
        const match = TEMPLATE_HASH.exec(owner.name);
        if (match?.[1]) workload.deployment = match[1];
        break;
      }
      default:
        break;
    }
  }
  return workload;
}

/** Pods of one workload share init history; a bare pod is its own workload. */
export function workloadKey(namespace: string, podName: string, snapshot: PodSnapshot | undefined, container: string): string {
  const w = workloadOf(snapshot?.owners ?? []);
  const owner = w.daemonset ?? w.statefulset ?? w.deployment ?? w.replicaset ?? w.job ?? `pod/${podName}`;
  return `${namespace}/${owner}/${container}`;
}

/** Label keys with dots replaced by `_`, so `app` and `app.kubernetes.io/name` never conflict in a mapping. */
export function flattenLabels(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) out[key.replaceAll('.', '_')] = value;
  return out;
}
