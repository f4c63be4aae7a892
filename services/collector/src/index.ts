/** @killtrace/collector: the cluster watcher and node agent that publish Kubernetes evidence to Kafka. */
export { main, startCollector, resolveMode, COLLECTOR_MODES, type CollectorMode, type RunningCollector } from './main.js';
export { startClusterWatcher, loadKubeConfig, type ClusterWatcher, type ClusterWatcherDeps } from './cluster-watcher/index.js';
export { createSignalPublisher, createPublisherMetrics, toOutgoing, type ManagedPublisher, type SignalPublisher, type PublishResult, type DeadLetterEntry } from './publish/index.js';
export { CollectorError, collectorErrorCodes, type CollectorErrorCode } from './errors.js';
export type { NodeAgentDeps, NodeAgentHandle, StartNodeAgent } from './node-agent-contract.js';
