// First: kafkajs' record batch encoder must load with the faster CRC-32C (record-batch-crc.ts).
import './record-batch-crc.js';
import kafkajs from 'kafkajs';
import type { PartitionAssigner } from 'kafkajs';

const { AssignerProtocol } = kafkajs;

/** Name of the assignment protocol; every member of a Killtrace consumer group must speak it. */
export const CO_PARTITIONED_ASSIGNER = 'KilltraceCoPartitioned';

/**
 * Gives partition N of every subscribed topic to the same group member (partition N -> member N mod count).
 * Topics keyed by pod uid with equal partition counts (signals, logs) then deliver all of one pod's evidence to
 * one correlator instance. kafkajs' default round-robin assigner spreads each topic independently and would not.
 */
export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: CO_PARTITIONED_ASSIGNER,
  version: 0,
  async assign({ members, topics }) {
    const memberIds = members.map((m) => m.memberId).sort();
    const assignment = new Map<string, Record<string, number[]>>(memberIds.map((id) => [id, {}]));
    if (memberIds.length > 0) {
      for (const topic of [...topics].sort()) {
        const partitions = cluster
          .findTopicPartitionMetadata(topic)
          .map((p) => p.partitionId)
          .sort((a, b) => a - b);
        for (const partition of partitions) {
          const owner = assignment.get(memberIds[partition % memberIds.length] as string) as Record<string, number[]>;
          (owner[topic] ??= []).push(partition);
        }
      }
    }
    return [...assignment].map(([memberId, topicPartitions]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: topicPartitions, userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }) {
    return {
      name: CO_PARTITIONED_ASSIGNER,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
    };
  },
});
