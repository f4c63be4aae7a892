import type { Logger } from '@killtrace/logging';
import type { Signal } from '@killtrace/schemas';
import type { SignalPublisher } from '../publish/types.js';
import { publishSlices } from './cri-tailer.js';
import type { NodeAgentMetrics } from './metrics.js';

export interface PublishTarget {
  publisher: SignalPublisher;
  metrics: NodeAgentMetrics;
  logger: Logger;
}

/**
 * Publishes one read's signals in slices under Kafka's message limits, counted under `input`. False when Kafka
 * refused them: the caller keeps its cursor where it was, so they are read and published again.
 */
export async function publishSignals<T extends Signal & { text: string }>(
  target: PublishTarget,
  signals: readonly T[],
  input: 'journal' | 'kernel',
  stage: string,
  what: string,
): Promise<boolean> {
  const { publisher, metrics, logger } = target;
  if (signals.length === 0) return true;
  try {
    for (const slice of publishSlices(signals)) {
      const result = await publisher.publish(slice, { stage });
      metrics.signalsPublished.inc({ input }, result.published);
      if (result.deadLettered > 0) metrics.deadLetters.inc({ input }, result.deadLettered);
    }
    return true;
  } catch (error) {
    metrics.publishFailures.inc({ input });
    logger.warn({ err: error, signals: signals.length }, `publishing ${what} failed; they will be read again`);
    return false;
  }
}
