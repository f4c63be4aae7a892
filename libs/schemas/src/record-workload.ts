import type { RestartRecord } from './restart-record.js';

/** The workload that owns a record's pod: kind and name, bounded in number (unlike pod names). */
export interface RecordWorkload {
  kind: 'deployment' | 'statefulset' | 'daemonset' | 'job' | 'replicaset' | 'pod';
  name: string;
}

/**
 * The owning workload of a restart record, the one label alerts and metrics group by. A Deployment wins over its
 * ReplicaSet (the ReplicaSet name changes with every rollout); a bare pod is its own workload.
 */
export function recordWorkload(record: RestartRecord): RecordWorkload {
  const k = record.kubernetes;
  if (k.deployment) return { kind: 'deployment', name: k.deployment.name };
  if (k.statefulset) return { kind: 'statefulset', name: k.statefulset.name };
  if (k.daemonset) return { kind: 'daemonset', name: k.daemonset.name };
  if (k.job) return { kind: 'job', name: k.job.name };
  if (k.replicaset) return { kind: 'replicaset', name: k.replicaset.name };
  return { kind: 'pod', name: k.pod.name };
}
