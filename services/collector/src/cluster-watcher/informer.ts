import { ListWatch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '@killtrace/logging';
import { BookmarkWatch, listObjects } from './kube.js';
import type { WatcherMetrics } from './metrics.js';

export type Resource = 'pods' | 'events';

export interface InformerHandlers {
  upsert(object: KubernetesObject, how: 'add' | 'update'): void;
  remove(object: KubernetesObject): void;
}

export interface ResilientInformerOptions {
  kubeConfig: KubeConfig;
  resource: Resource;
  /** `undefined`: all namespaces. */
  namespace: string | undefined;
  labelSelector: string | undefined;
  handlers: InformerHandlers;
  logger: Logger;
  metrics: WatcherMetrics;
  retryMaxMs: number;
}

const RETRY_MIN_MS = 500;

/**
 * One client-node informer (ListWatch) kept alive: it resumes watches from its last resourceVersion (client-node does
 * this after a clean end of stream), relists on 410 Gone (client-node clears its version on an ERROR event with code
 * 410 or an HTTP 410), and, where client-node gives up (any other error), restarts with a doubling back-off. Each
 * LIST after the first is a relist.
 */
export class ResilientInformer {
  private readonly informer: ListWatch<KubernetesObject>;
  private readonly path: string;
  private listed = 0;
  private stopped = false;
  private paused = false;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastError: string | undefined;

  constructor(private readonly options: ResilientInformerOptions) {
    const { resource, namespace, kubeConfig, labelSelector, metrics, logger } = options;
    this.path = namespace === undefined ? `/api/v1/${resource}` : `/api/v1/namespaces/${encodeURIComponent(namespace)}/${resource}`;
    const watch = new BookmarkWatch(kubeConfig, (type, object) => {
      metrics.watchEvents.inc({ resource, type });
      // Any event proves the watch is healthy again.
      this.retryMs = RETRY_MIN_MS;
      if (type === 'ERROR') {
        metrics.watchErrors.inc({ resource });
        const status = object as { code?: number; reason?: string; message?: string };
        logger.info({ path: this.path, code: status.code, reason: status.reason, message: status.message }, status.code === 410 ? 'watch expired (410 Gone): relisting' : 'watch ERROR event');
      }
    });
    const list = async () => {
      const reason = this.listed === 0 ? 'initial' : 'relist';
      metrics.lists.inc({ resource, reason });
      if (this.listed > 0) metrics.relists.inc({ resource });
      const result = await listObjects<KubernetesObject>(kubeConfig, this.path, labelSelector);
      this.listed += 1;
      this.retryMs = RETRY_MIN_MS;
      this.lastError = undefined;
      logger.info({ path: this.path, items: result.items.length, resourceVersion: result.metadata?.resourceVersion, reason }, 'listed');
      return result;
    };
    this.informer = new ListWatch<KubernetesObject>(this.path, watch, list, false, labelSelector);
    this.informer.on('add', (object) => options.handlers.upsert(object, 'add'));
    this.informer.on('update', (object) => options.handlers.upsert(object, 'update'));
    this.informer.on('delete', (object) => options.handlers.remove(object));
    this.informer.on('error', (error: unknown) => this.onError(error));
  }

  /** Lists and starts watching; resolves after the first attempt (check `synced()`), never rejects. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.informer.start();
  }

  /** True once the first LIST has completed. */
  synced(): boolean {
    return this.listed > 0;
  }

  describe(): { path: string; synced: boolean; resourceVersion: string; lastError?: string } {
    return { path: this.path, synced: this.synced(), resourceVersion: this.informer.latestResourceVersion(), ...(this.lastError === undefined ? {} : { lastError: this.lastError }) };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.paused = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.informer.stop();
  }

  /**
   * Back-pressure: stops watching but keeps the last resourceVersion, so `resume` watches from there and the API
   * server replays what changed meanwhile (or answers 410 Gone, and the informer relists).
   */
  async pause(): Promise<void> {
    if (this.stopped) return;
    this.paused = true;
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.informer.stop();
  }

  async resume(): Promise<void> {
    if (!this.paused) return;
    this.paused = false;
    await this.start();
  }

  private onError(error: unknown): void {
    // Stopping aborts the watch request, which client-node reports as an error.
    if (this.stopped) return;
    const { resource, metrics, logger, retryMaxMs } = this.options;
    metrics.watchErrors.inc({ resource });
    const message = error instanceof Error ? error.message : String(error);
    this.lastError = message;
    const delay = Math.min(this.retryMs, retryMaxMs);
    this.retryMs = Math.min(this.retryMs * 2, retryMaxMs);
    logger.warn({ code: 'KT_ERR_COLLECTOR_WATCH', path: this.path, err: message, retryInMs: delay, resourceVersion: this.informer.latestResourceVersion() }, 'list/watch failed; retrying');
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) void this.informer.start();
    }, delay);
    this.retryTimer.unref?.();
  }
}
