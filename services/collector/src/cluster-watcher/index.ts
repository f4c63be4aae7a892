/** The collector's cluster-watcher mode: Pod and Event informers -> signals -> Kafka. */
export { startClusterWatcher, type ClusterWatcher, type ClusterWatcherDeps } from './watcher.js';
export { loadKubeConfig } from './kube.js';
export { startElectedClusterWatcher, type ElectedClusterWatcher } from './elected-watcher.js';
export { ChangeFilter, podFingerprint, eventKey } from './change-filter.js';
