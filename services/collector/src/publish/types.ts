import type { LogBatchLine, Signal } from '@killtrace/schemas';

/** What one `publish` call did: how many signals went to their topic and how many to the dead-letter topic. */
export interface PublishResult {
  published: number;
  deadLettered: number;
}

/** Something that could not become a valid signal: kept on the dead-letter topic with the reason and the input. */
export interface DeadLetterEntry {
  /** Where it failed, e.g. `collector.cluster-watcher.parse`, `collector.node-agent.journal`. */
  stage: string;
  reason: string;
  /** The original input (object, text or bytes); stored base64 on the topic. */
  original: Buffer | string | object | null;
  /** Partitioning key when known (pod uid or `namespace/name`). */
  key?: string;
}

/**
 * The collector's one way to Kafka (both modes): validate each signal with the shared schema -> key by pod uid
 * (`signalKey`) -> Kafka message timestamp = event time (`signalTime`) -> produce. `app_log` signals go to the
 * `logs` topic, every other kind to `signals`. An invalid signal is not thrown: it goes to the dead-letter topic
 * with the reason and its original bytes, and the rest of the batch is still produced.
 */
export interface SignalPublisher {
  /** Resolves once every valid signal of the batch is acknowledged by Kafka (acks=all). */
  publish(signals: readonly Signal[], options?: { stage?: string }): Promise<PublishResult>;
  /** Sends one entry to the dead-letter topic. */
  deadLetter(entry: DeadLetterEntry): Promise<void>;
  /** True while the producer is connected. */
  connected(): boolean;
}

/** Consecutive lines of one container incarnation (`<container>/N.log`), published as one or more `logs` messages. */
export interface AppLogBatch {
  pod: { namespace: string; name: string; uid: string };
  container: string;
  restartCount: number;
  source?: { file?: string };
  lines: readonly LogBatchLine[];
}

/** The node agent's bulk path for application logs (`logs` topic, message version 2). */
export interface LogBatchPublisher {
  /** Resolves once every valid line is acknowledged by Kafka (acks=all); invalid lines are dead-lettered. */
  publishLogBatches(batches: readonly AppLogBatch[], options?: { stage?: string }): Promise<PublishResult>;
}
