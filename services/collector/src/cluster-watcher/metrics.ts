import { Counter, Gauge, type Registry } from 'prom-client';

/** The cluster watcher's metrics (published signals are counted by the publisher, by kind). */
export interface WatcherMetrics {
  lists: Counter<'resource' | 'reason'>;
  relists: Counter<'resource'>;
  watchErrors: Counter<'resource'>;
  watchEvents: Counter<'resource' | 'type'>;
  skipped: Counter<'resource'>;
  synced: Gauge<'resource'>;
  backlog: Gauge;
  publishRetries: Counter;
  coalesced: Counter;
  backpressure: Gauge;
}

export function createWatcherMetrics(registry: Registry): WatcherMetrics {
  return {
    lists: new Counter({
      name: 'killtrace_cluster_watcher_lists_total',
      help: 'LIST requests made by the informers (the first one, and every relist).',
      labelNames: ['resource', 'reason'],
      registers: [registry],
    }),
    relists: new Counter({
      name: 'killtrace_cluster_watcher_relists_total',
      help: 'Relists after the initial one (410 Gone, or a watch re-established after an error).',
      labelNames: ['resource'],
      registers: [registry],
    }),
    watchErrors: new Counter({
      name: 'killtrace_cluster_watcher_watch_errors_total',
      help: 'Failed lists and watches, and ERROR watch events (410 Gone included).',
      labelNames: ['resource'],
      registers: [registry],
    }),
    watchEvents: new Counter({
      name: 'killtrace_cluster_watcher_watch_events_total',
      help: 'Watch events received, by type (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR).',
      labelNames: ['resource', 'type'],
      registers: [registry],
    }),
    skipped: new Counter({
      name: 'killtrace_cluster_watcher_unchanged_total',
      help: 'Deliveries not published because nothing Killtrace reads changed (relist re-deliveries, heartbeats, same event count).',
      labelNames: ['resource'],
      registers: [registry],
    }),
    synced: new Gauge({
      name: 'killtrace_cluster_watcher_synced',
      help: '1 once every informer of the resource has completed its first list.',
      labelNames: ['resource'],
      registers: [registry],
    }),
    backlog: new Gauge({
      name: 'killtrace_cluster_watcher_publish_backlog',
      help: 'Pod snapshots, events and dead letters not yet acknowledged by Kafka (waiting and in flight, coalesced by object).',
      registers: [registry],
    }),
    publishRetries: new Counter({
      name: 'killtrace_cluster_watcher_publish_retries_total',
      help: 'Failed attempts to publish a batch, which stayed queued and was retried with back-off.',
      registers: [registry],
    }),
    coalesced: new Counter({
      name: 'killtrace_cluster_watcher_publish_coalesced_total',
      help: 'Queued versions of an object replaced by a newer version before they were published.',
      registers: [registry],
    }),
    backpressure: new Gauge({
      name: 'killtrace_cluster_watcher_backpressure',
      help: '1 while the informers are paused because the publish backlog reached clusterWatcher.maxBacklog.',
      registers: [registry],
    }),
  };
}
