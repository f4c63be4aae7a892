import { ListWatch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '@killtrace/logging';
import { Backoff } from '@killtrace/retry';
import { classifyApiFailure, type ApiFailure } from './api-failure.js';
import { apiServerReady, BookmarkWatch, listObjects } from './kube.js';
import type { WatcherMetrics } from './metrics.js';

export type Resource = 'pods' | 'events' | 'nodes';

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
  /** Restarts after client-node gives up: the one back-off of libs/retry, reset by any sign of a healthy watch. */
  private readonly restarts: Backoff;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastError: string | undefined;
  /** The failure since the last established list/watch: set on an error, cleared when a watch opens again. */
  private failure: ApiFailure | undefined;
  private failures = 0;
  private failingSince = 0;
  /** The verb of the request in flight (a LIST until the first list completes after a relist, else a WATCH). */
  private verb: 'list' | 'watch' = 'list';

  constructor(private readonly options: ResilientInformerOptions) {
    this.restarts = new Backoff(RETRY_MIN_MS, Math.max(RETRY_MIN_MS, options.retryMaxMs));
    const { resource, namespace, kubeConfig, labelSelector, metrics, logger } = options;
    this.path = namespace === undefined ? `/api/v1/${resource}` : `/api/v1/namespaces/${encodeURIComponent(namespace)}/${resource}`;
    const onOpened = (): void => this.recovered();
    const watch = new BookmarkWatch(kubeConfig, (type, object) => {
      metrics.watchEvents.inc({ resource, type });
      // Any event proves the watch is healthy again.
      this.restarts.succeeded();
      if (type === 'ERROR') {
        metrics.watchErrors.inc({ resource });
        const status = object as { code?: number; reason?: string; message?: string };
        logger.info({ path: this.path, code: status.code, reason: status.reason, message: status.message }, status.code === 410 ? 'watch expired (410 Gone): relisting' : 'watch ERROR event');
        if (status.code === 410) this.verb = 'list';
      }
    }, onOpened);
    const list = async () => {
      const reason = this.listed === 0 ? 'initial' : 'relist';
      metrics.lists.inc({ resource, reason });
      if (this.listed > 0) metrics.relists.inc({ resource });
      this.verb = 'list';
      const result = await listObjects<KubernetesObject>(kubeConfig, this.path, labelSelector);
      this.listed += 1;
      this.restarts.succeeded();
      this.lastError = undefined;
      this.verb = 'watch';
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

  /** False while a list or watch has failed and no watch was established since (the API server is down, a 403...). */
  established(): boolean {
    return this.synced() && this.failure === undefined;
  }

  /** The failure that keeps it from being established, as one line. */
  failureMessage(): string | undefined {
    return this.failure?.message;
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
    const { resource, metrics } = this.options;
    metrics.watchErrors.inc({ resource });
    const message = error instanceof Error ? error.message : String(error);
    this.lastError = message;
    const delay = this.restarts.failed();
    const verb = this.verb;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    // Set now, so `/readyz` fails from the first error on; the 403 classification below only refines the line.
    this.failure ??= classifyApiFailure(error, verb, this.path);
    void this.report(error, verb, delay).finally(() => {
      if (this.stopped) return;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (!this.stopped) void this.informer.start();
      }, delay);
      this.retryTimer.unref?.();
    });
  }

  /** Logs one line when the failure starts or changes kind (not one per retry); a 403 asks the API server's /readyz. */
  private async report(error: unknown, verb: 'list' | 'watch', retryInMs: number): Promise<void> {
    const status = (error as { statusCode?: unknown } | null)?.statusCode;
    const ready = status === 403 ? await apiServerReady(this.options.kubeConfig) : undefined;
    const failure = classifyApiFailure(error, verb, this.path, ready);
    const previous = this.failures > 0 ? this.failure : undefined;
    this.failures += 1;
    this.failure = failure;
    const { logger } = this.options;
    const context = { code: failure.kind === 'forbidden' ? 'KT_ERR_COLLECTOR_FORBIDDEN' : 'KT_ERR_COLLECTOR_WATCH', path: this.path, verb, resource: failure.resource, namespace: failure.namespace ?? '(all)', status: failure.status, kind: failure.kind, resourceVersion: this.informer.latestResourceVersion() };
    if (previous === undefined) {
      this.failingSince = Date.now();
      logger.warn({ ...context, retryInMs }, `${failure.message}; retrying with back-off until it is established again`);
    } else if (previous.kind !== failure.kind || previous.verb !== failure.verb) {
      logger.warn({ ...context, retryInMs, failures: this.failures }, `${failure.message} (was: ${previous.kind})`);
    } else {
      logger.debug({ ...context, retryInMs, failures: this.failures }, 'still failing; retrying');
    }
  }

  /** A watch was answered 200: the informer follows the API again. */
  private recovered(): void {
    this.restarts.succeeded();
    if (this.failure === undefined) return;
    this.options.logger.info({ path: this.path, failures: this.failures, downForMs: Date.now() - this.failingSince, lastFailure: this.failure.kind }, 'list/watch established again');
    this.failure = undefined;
    this.failures = 0;
  }
}
