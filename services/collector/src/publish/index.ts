/** The collector's one publishing path to Kafka, shared by the cluster watcher and the node agent. */
export { createSignalPublisher, type ManagedPublisher, type PublisherOptions } from './publisher.js';
export { createPublisherMetrics, type PublisherMetrics } from './metrics.js';
export { toOutgoing, type Outgoing, type OutgoingResult } from './outgoing.js';
export type { SignalPublisher, PublishResult, DeadLetterEntry, AppLogBatch, LogBatchPublisher } from './types.js';
export { toLogBatchMessages, sendSlices, LINES_PER_MESSAGE, CHARS_PER_MESSAGE, CHARS_PER_SEND } from './log-batches.js';
