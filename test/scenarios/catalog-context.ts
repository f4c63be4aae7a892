/**
 * A scenario for the cluster context's workload-wide parts (decision 0017, amended): a GPU agent DaemonSet that no
 * built-in step profile matches (its namespace is not the Cloudpods one), so its steps are learned, with two pods
 * killed by their liveness probe on two 8-GPU nodes and healthy pods on a T4 and a CPU node. The pod uids are the
 * caller's, so a test can place the two killed pods on different partitions.
 */
import { START, hostAgentIncarnation, hostPod } from './catalog.js';
import type { PodDesc, Scenario } from './types.js';

export const FLEET_NAMESPACE = 'gpu-fleet';
export const KILLED_PODS = ['default-host-x7k2p', 'default-host-r5n8d'] as const;

const V100 = { 'node.kubernetes.io/instance-type': 'p3dn.24xlarge', 'nvidia.com/gpu.present': 'true', 'nvidia.com/gpu.product': 'Tesla-V100-SXM2-32GB', 'feature.node.kubernetes.io/pci-10de.present': 'true' };

function fleetPod(pod: PodDesc, uid: string): PodDesc {
  return { ...pod, namespace: FLEET_NAMESPACE, uid };
}

/** `uids`: of the two killed pods (on gpu-node-1 and gpu-node-3), then the T4 node's pod and the CPU node's pod. */
export function gpuFleetTwoKilled(uids: readonly [string, string, string, string]): Scenario {
  return {
    name: 'gpu-fleet-two-killed',
    start: START,
    durationSeconds: 1000,
    seed: 11,
    pods: [
      fleetPod(hostPod('gpu-node-1', 'x7k2p', '10.0.0.5', hostAgentIncarnation({ gpus: 8 })), uids[0]),
      fleetPod(hostPod('gpu-node-3', 'r5n8d', '10.0.0.8', hostAgentIncarnation({ gpus: 8, perGpu: [19.2, 18.8, 19.9, 18.5, 19.4, 18.6, 19.7, 19.0] })), uids[1]),
      fleetPod(hostPod('gpu-node-2', 'm9qzt', '10.0.0.6', hostAgentIncarnation({ gpus: 1, gpuId: '10de:1eb8', perGpu: [14.8] })), uids[2]),
      fleetPod(hostPod('cpu-node-1', '4hcw8', '10.0.0.7', hostAgentIncarnation({ gpus: 0, cpuModel: 'AMD EPYC 7543 32-Core Processor', storageSeconds: 7.6 })), uids[3]),
    ],
    nodes: [
      { name: 'gpu-node-1', uid: '5d0e1c2a-7b3f-4e8a-9c61-2f4b8d9e0a11', labels: V100 },
      { name: 'gpu-node-3', uid: '8a3b4f5d-0e6c-4b1d-8f94-5c7e1a2b3d44', labels: V100 },
      { name: 'gpu-node-2', uid: '6e1f2d3b-8c4a-4f9b-8d72-3a5c9e0f1b22', labels: { 'node.kubernetes.io/instance-type': 'g4dn.xlarge', 'nvidia.com/gpu.present': 'true', 'nvidia.com/gpu.product': 'Tesla-T4', 'feature.node.kubernetes.io/pci-10de.present': 'true' } },
      { name: 'cpu-node-1', uid: '7f2a3e4c-9d5b-4a0c-9e83-4b6d0f1a2c33', labels: { 'node.kubernetes.io/instance-type': 'm6a.8xlarge' } },
    ],
    expect: [],
  };
}

/** Uids for gpuFleetTwoKilled whose two killed pods hash to different partitions of `partitions` (`partitionOf`: the collectors' partitioner). */
export function spreadUids(partitions: number, partitionOf: (key: string, partitions: number) => number): [string, string, string, string] {
  const uid = (i: number): string => `c0ffee00-0000-4000-8000-${String(i).padStart(12, '0')}`;
  let second = 1;
  while (partitionOf(uid(second), partitions) === partitionOf(uid(0), partitions)) second += 1;
  return [uid(0), uid(second), uid(second + 1), uid(second + 2)];
}
