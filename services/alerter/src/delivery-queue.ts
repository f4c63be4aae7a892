import type { Notification } from '@killtrace/alerting';
import { backoffDelay, sleep } from '@killtrace/retry';
import type { ReceiverClient } from './receivers.js';
import type { QueuedNotification } from './state-store.js';
import type { AlerterTelemetry } from './telemetry.js';

export interface DeliveryQueueOptions {
  clients: ReadonlyMap<string, ReceiverClient>;
  telemetry: AlerterTelemetry;
  retryInitialMs: number;
  retryMaxMs: number;
  /** Marks the state changed and waits until it is on disk. */
  persist: () => Promise<void>;
  onPersistError: (error: Error) => void;
}

/**
 * Notifications waiting for delivery, one FIFO per receiver with its own worker, so a receiver that is down delays
 * only itself. An entry leaves the queue only after its receiver accepted it (or refused it for good) and that is
 * on disk, so a restart re-sends at most the one in flight. For Alertmanager, a newer notification of a group
 * supersedes a queued older one (Alertmanager wants the current state, not the history).
 */
export class DeliveryQueue {
  private entries: QueuedNotification[];
  private readonly wakers = new Map<string, () => void>();
  private readonly drainWaiters: Array<() => void> = [];
  private readonly inFlight = new Set<QueuedNotification>();
  private readonly abort = new AbortController();
  private workers: Promise<void>[] = [];
  private readonly failing = new Map<string, string>();

  constructor(
    private readonly options: DeliveryQueueOptions,
    restored: readonly QueuedNotification[],
  ) {
    // Entries for receivers no longer configured could never be delivered.
    this.entries = restored.filter((e) => options.clients.has(e.notification.receiver));
  }

  /** The queue as stored in the state file. */
  snapshot(): QueuedNotification[] {
    return this.entries;
  }

  size(): number {
    return this.entries.length;
  }

  byReceiver(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of this.options.clients.keys()) out[name] = 0;
    for (const e of this.entries) out[e.notification.receiver] = (out[e.notification.receiver] ?? 0) + 1;
    return out;
  }

  /** Receivers whose last delivery failed, with the reason. */
  failures(): ReadonlyMap<string, string> {
    return this.failing;
  }

  enqueue(notifications: readonly Notification[], now: number): void {
    for (const n of notifications) {
      const client = this.options.clients.get(n.receiver);
      if (client === undefined) continue;
      if (client.type === 'alertmanager') {
        this.entries = this.entries.filter((e) => {
          const keep = this.inFlight.has(e) || e.notification.receiver !== n.receiver || e.notification.alert.groupKey !== n.alert.groupKey;
          if (!keep) this.options.telemetry.superseded(e.notification);
          return keep;
        });
      }
      this.entries.push({ notification: n, enqueuedAt: now, attempts: 0 });
      this.wakers.get(n.receiver)?.();
    }
    this.options.telemetry.notificationsQueued(notifications);
  }

  /** Resolves once fewer than `limit` notifications are waiting. */
  async belowLimit(limit: number): Promise<void> {
    while (this.entries.length >= limit && !this.abort.signal.aborted) {
      await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    }
  }

  start(): void {
    this.workers = [...this.options.clients.values()].map((client) => this.work(client));
  }

  /** Stops the workers; a delivery in flight finishes (its outcome is stored by the caller's final save). */
  async stop(): Promise<void> {
    this.abort.abort();
    for (const wake of this.wakers.values()) wake();
    for (const resolve of this.drainWaiters.splice(0)) resolve();
    await Promise.all(this.workers);
  }

  private async idle(receiver: string): Promise<void> {
    await new Promise<void>((resolve) => {
      this.wakers.set(receiver, () => {
        this.wakers.delete(receiver);
        resolve();
      });
    });
  }

  private async work(client: ReceiverClient): Promise<void> {
    const { telemetry, retryInitialMs, retryMaxMs } = this.options;
    while (!this.abort.signal.aborted) {
      const head = this.entries.find((e) => e.notification.receiver === client.name);
      if (head === undefined) {
        await this.idle(client.name);
        continue;
      }
      this.inFlight.add(head);
      const started = Date.now();
      const outcome = await client.deliver(head.notification);
      this.inFlight.delete(head);
      head.attempts += 1;
      if (outcome.ok || !outcome.retriable) {
        if (outcome.ok) telemetry.delivered(head.notification, head.attempts, Date.now() - started, Date.now() - head.enqueuedAt);
        else telemetry.deliveryRefused(head.notification, outcome.reason);
        this.failing.delete(client.name);
        this.entries = this.entries.filter((e) => e !== head);
        for (const resolve of this.drainWaiters.splice(0)) resolve();
        try {
          await this.options.persist();
        } catch (error) {
          this.options.onPersistError(error as Error);
        }
        continue;
      }
      this.failing.set(client.name, outcome.reason);
      const delay = Math.max(backoffDelay(head.attempts, retryInitialMs, retryMaxMs), outcome.retryAfterMs ?? 0);
      telemetry.deliveryRetry(head.notification, outcome.reason, head.attempts, delay);
      await sleep(delay, this.abort.signal);
    }
  }
}
