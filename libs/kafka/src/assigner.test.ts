import kafkajs from 'kafkajs';
import type { Cluster } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { coPartitionedAssigner } from './assigner.js';

const { AssignerProtocol } = kafkajs;

// Only the metadata lookup the assigner reads; partition counts per topic.
function clusterWith(partitions: Record<string, number>): Cluster {
  const findTopicPartitionMetadata = (topic: string) =>
    Array.from({ length: partitions[topic] ?? 0 }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
  return { findTopicPartitionMetadata } as unknown as Cluster;
}

async function assign(members: string[], partitions: Record<string, number>): Promise<Record<string, Record<string, number[]>>> {
  const assigner = coPartitionedAssigner({ cluster: clusterWith(partitions), groupId: 'g', logger: undefined as never });
  const result = await assigner.assign({ members: members.map((memberId) => ({ memberId, memberMetadata: Buffer.alloc(0) })), topics: Object.keys(partitions) });
  return Object.fromEntries(result.map((r) => [r.memberId, AssignerProtocol.MemberAssignment.decode(r.memberAssignment)?.assignment ?? {}]));
}

describe('coPartitionedAssigner', () => {
  it('gives partition N of every topic to the same member', async () => {
    const result = await assign(['m-b', 'm-a'], { signals: 4, logs: 4 });
    expect(result).toEqual({ 'm-a': { logs: [0, 2], signals: [0, 2] }, 'm-b': { logs: [1, 3], signals: [1, 3] } });
  });

  it('leaves extra members without partitions but in the answer', async () => {
    const result = await assign(['m1', 'm2', 'm3'], { signals: 2 });
    expect(result).toEqual({ m1: { signals: [0] }, m2: { signals: [1] }, m3: {} });
  });
});
