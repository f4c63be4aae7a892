import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Config } from '@killtrace/config';
import type { Logger } from '@killtrace/logging';
import { parseEvent, parseNode, parsePod } from '@killtrace/parsers';
import type { Signal } from '@killtrace/schemas';
import type { Registry } from 'prom-client';
import type { SignalPublisher } from '../publish/types.js';
import { ChangeFilter, eventKey } from './change-filter.js';
import { ResilientInformer, type Resource } from './informer.js';
import { loadKubeConfig } from './kube.js';
import { createWatcherMetrics } from './metrics.js';
import type { TableWriter } from '@killtrace/kafka';
import type { contextMessageSchema } from '@killtrace/schemas';
import { NodeFactPublisher } from './node-facts.js';
import { PublishQueue } from './publish-queue.js';

export interface ClusterWatcherDeps {
  config: Config;
  logger: Logger;
  publisher: SignalPublisher;
  registry: Registry;
  /** Overrides `clusterWatcher.kubeconfig` (tests pass one pointing at the fake API server). */
  kubeConfig?: KubeConfig;
  /** Watch time for pod snapshots (`observedAt`); `Date.now` by default. */
  now?: () => number;
  /** Writer of the context topic, where Node facts go (node-facts.ts); Nodes are watched only when given. */
  contextWriter?: TableWriter<typeof contextMessageSchema>;
}

export interface ClusterWatcher {
  /**
   * Stops the informers and resolves once everything they delivered has been handed to Kafka, or after
   * `drainTimeoutMs` (default 20 s) while Kafka still refuses the backlog (what is left is logged as lost).
   */
  close(drainTimeoutMs?: number): Promise<void>;
  /** True once every informer has completed its first list, while the publish backlog is being accepted by Kafka. */
  ready(): boolean;
  /** `ready()` with the reason when not ready (for `/readyz`). */
  readiness(): { ok: boolean; detail?: string };
  /** Signals and dead letters not yet acknowledged by Kafka. */
  backlog(): number;
  /** Resolves when everything queued so far is published (tests). */
  idle(): Promise<void>;
  describe(): ReturnType<ResilientInformer['describe']>[];
}

const PARSE_STAGE = 'collector.cluster-watcher.parse';

/**
 * The cluster-watcher mode: informers on core/v1 Pods and Events (all namespaces, or one pair per configured
 * namespace; the label selector filters pods), each delivery parsed into a signal, filtered by `ChangeFilter` and
 * published in delivery order. Objects the parsers reject go to the dead-letter topic with their JSON. With a
 * context writer, one more informer on Nodes writes their class labels to the context topic (node-facts.ts).
 */
export async function startClusterWatcher(deps: ClusterWatcherDeps): Promise<ClusterWatcher> {
  const { config, logger, publisher, registry } = deps;
  const settings = config.clusterWatcher;
  const now = deps.now ?? Date.now;
  const kubeConfig = deps.kubeConfig ?? loadKubeConfig(settings.kubeconfig);
  const metrics = createWatcherMetrics(registry);
  const filter = new ChangeFilter();
  const informers: ResilientInformer[] = [];
  let closing = false;
  const queue = new PublishQueue({
    publisher,
    logger,
    maxEntries: settings.maxBacklog,
    retryMaxMs: settings.publishRetryMaxMs,
    metrics: { backlog: metrics.backlog, retries: metrics.publishRetries, coalesced: metrics.coalesced },
    onPressure: (full) => {
      metrics.backpressure.set(full ? 1 : 0);
      if (closing) return;
      for (const informer of informers) void (full ? informer.pause() : informer.resume());
    },
  });

  const deadLetterObject = (resource: Resource, object: KubernetesObject, reason: string): void => {
    const uid = object.metadata?.uid;
    const key = uid ?? `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
    queue.deadLetter({ stage: PARSE_STAGE, reason: `${resource === 'pods' ? 'pod' : 'event'} ${key}: ${reason}`, original: object, key });
  };

  function onPod(object: KubernetesObject, removed: boolean): void {
    const { signal, diagnostics } = parsePod(object);
    if (signal === undefined) {
      deadLetterObject('pods', object, diagnostics.map((d) => d.message).join('; ') || 'not a pod');
      return;
    }
    const snapshot = { ...signal, observedAt: now() };
    if (!filter.podChanged(snapshot)) {
      filter.seenPod(snapshot);
      metrics.skipped.inc({ resource: 'pods' });
    } else {
      // Remember now: the queue keeps the snapshot until Kafka accepts it, so a re-delivery need not be published.
      filter.commitPod(snapshot);
      queue.push(snapshot as Signal);
    }
    // The final snapshot stays queued until published; the filter only needs to stop tracking the pod.
    if (removed) filter.forgetPod(snapshot.pod.uid);
  }

  function onEvent(object: KubernetesObject, removed: boolean): void {
    if (removed) {
      const { signal } = parseEvent(object);
      if (signal !== undefined) filter.forgetEvent(eventKey(signal));
      return;
    }
    const { signal, diagnostics } = parseEvent(object);
    if (signal === undefined) {
      deadLetterObject('events', object, diagnostics.map((d) => d.message).join('; ') || 'not an event');
      return;
    }
    if (!filter.eventChanged(signal)) {
      metrics.skipped.inc({ resource: 'events' });
      return;
    }
    filter.commitEvent(signal);
    queue.push(signal);
  }

  const namespaces: (string | undefined)[] = settings.namespaces.length > 0 ? settings.namespaces : [undefined];
  for (const namespace of namespaces) {
    for (const resource of ['pods', 'events'] as const) {
      informers.push(
        new ResilientInformer({
          kubeConfig,
          resource,
          namespace,
          labelSelector: resource === 'pods' ? settings.labelSelector : undefined,
          logger,
          metrics,
          retryMaxMs: settings.retryMaxMs,
          handlers: {
            upsert: (object) => (resource === 'pods' ? onPod(object, false) : onEvent(object, false)),
            remove: (object) => (resource === 'pods' ? onPod(object, true) : onEvent(object, true)),
          },
        }),
      );
    }
  }
  const resources: Resource[] = informers.map((_, i) => (i % 2 === 0 ? 'pods' : 'events'));
  const nodeFacts =
    deps.contextWriter === undefined
      ? undefined
      : new NodeFactPublisher({ writer: deps.contextWriter, labelKeys: config.correlation.nodeClassLabels, instance: config.clusterName, logger, retryMaxMs: settings.publishRetryMaxMs });
  if (nodeFacts !== undefined) {
    // Nodes are cluster-scoped: one informer whatever namespaces are watched; only name and class labels are used.
    const onNode = (object: KubernetesObject, removed: boolean): void => {
      const { signal } = parseNode(object);
      if (signal === undefined) return;
      if (removed) nodeFacts.remove(signal.node.name);
      else nodeFacts.upsert(signal.node.name, signal.node.labels);
    };
    informers.push(
      new ResilientInformer({
        kubeConfig,
        resource: 'nodes',
        namespace: undefined,
        labelSelector: undefined,
        logger,
        metrics,
        retryMaxMs: settings.retryMaxMs,
        handlers: { upsert: (object) => onNode(object, false), remove: (object) => onNode(object, true) },
      }),
    );
    resources.push('nodes');
  }
  const byResource = (resource: Resource): ResilientInformer[] => informers.filter((_, i) => resources[i] === resource);
  await Promise.all(informers.map((informer) => informer.start()));
  const updateSynced = (): void => {
    for (const resource of new Set(resources)) metrics.synced.set({ resource }, byResource(resource).every((i) => i.synced()) ? 1 : 0);
  };
  updateSynced();
  const syncTimer = setInterval(updateSynced, 1_000);
  syncTimer.unref();
  logger.info(
    { cluster: config.clusterName, namespaces: settings.namespaces.length > 0 ? settings.namespaces : 'all', labelSelector: settings.labelSelector, server: kubeConfig.getCurrentCluster()?.server },
    'cluster watcher started',
  );

  const readiness = (): { ok: boolean; detail?: string } => {
    // A watch that cannot be re-established (API server down, permission missing) means changes are not followed.
    const failing = [...new Set(informers.map((informer) => informer.failureMessage()).filter((m): m is string => m !== undefined))];
    if (!informers.every((informer) => informer.synced())) return { ok: false, detail: `informers not synced${failing.length > 0 ? `: ${failing.join('; ')}` : ''}` };
    if (failing.length > 0) return { ok: false, detail: `watch not established: ${failing.join('; ')}` };
    const state = queue.state();
    if (state.failing) return { ok: false, detail: `${state.size} signals not yet accepted by Kafka (${state.failures} failed attempts: ${state.lastError ?? 'unknown error'})` };
    if (state.full) return { ok: false, detail: `publish backlog full (${state.size} >= ${settings.maxBacklog}): informers paused` };
    return { ok: true };
  };

  return {
    async close(drainTimeoutMs = 20_000) {
      closing = true;
      clearInterval(syncTimer);
      await Promise.all(informers.map((informer) => informer.stop()));
      await nodeFacts?.close();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([queue.drain(), new Promise<void>((resolve) => (timer = setTimeout(resolve, drainTimeoutMs)))]);
      clearTimeout(timer);
      queue.stop();
      await queue.drain();
      const left = queue.size();
      if (left > 0) logger.error({ code: 'KT_ERR_COLLECTOR_PUBLISH', lost: left, lastError: queue.state().lastError }, 'stopped with signals Kafka never accepted; a restarted watcher relists and publishes the current state');
      logger.info({ tracked: filter.size() }, 'cluster watcher stopped');
    },
    ready: () => readiness().ok,
    readiness,
    backlog: () => queue.size() + (nodeFacts?.backlog() ?? 0),
    idle: async () => {
      await queue.drain();
      await nodeFacts?.idle();
    },
    describe: () => informers.map((informer) => informer.describe()),
  };
}
