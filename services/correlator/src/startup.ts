import { ensureTopics, killtraceTopics, partitionCounts, type KafkaConnection } from '@killtrace/kafka';
import type { Config } from '@killtrace/config';
import { CorrelatorError } from './errors.js';

/**
 * Creates the topics the correlator reads and writes when missing, and refuses to run when `signals` and `logs`
 * are not co-partitioned: a pod's evidence would then land on two instances and never be joined.
 */
export async function prepareTopics(kafka: KafkaConnection, config: Config['kafka']): Promise<{ partitions: number; created: string[] }> {
  const { signals, logs, records, deadLetter, context, snapshots } = config.topics;
  const wanted = killtraceTopics(config).filter((spec) => [signals, logs, records, deadLetter, context, snapshots].includes(spec.topic));
  const report = await ensureTopics(kafka, wanted);
  const counts = await partitionCounts(kafka, [signals, logs]);
  const count = (topic: string): number => counts.get(topic) ?? 0;
  const signalPartitions = count(signals);
  const logPartitions = count(logs);
  if (signalPartitions === 0 || logPartitions === 0) {
    throw new CorrelatorError('KT_ERR_CORRELATOR_TOPIC_MISSING', `topic ${signalPartitions === 0 ? signals : logs} has no partitions (missing?)`);
  }
  if (signalPartitions !== logPartitions) {
    throw new CorrelatorError(
      'KT_ERR_CORRELATOR_NOT_COPARTITIONED',
      `topic ${signals} has ${signalPartitions} partitions and topic ${logs} has ${logPartitions}; they must have the same count ` +
        '(both are keyed by pod uid, so one pod\'s evidence must land on the same partition number of both)',
    );
  }
  return { partitions: signalPartitions, created: report.created };
}
