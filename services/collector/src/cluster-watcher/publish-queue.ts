import type { Logger } from '@killtrace/logging';
import { backoffDelay, sleep } from '@killtrace/retry';
import type { Signal } from '@killtrace/schemas';
import type { DeadLetterEntry, SignalPublisher } from '../publish/types.js';
import { eventKey } from './change-filter.js';

type Entry = { kind: 'signal'; signal: Signal } | { kind: 'dead-letter'; entry: DeadLetterEntry };

const MAX_BATCH = 500;

/** What the queue reports (prom-client's Gauge and Counter fit). */
export interface PublishQueueMetrics {
  /** Entries not yet acknowledged by Kafka (waiting and in flight). */
  backlog: { set(value: number): void };
  /** Failed publish attempts of a batch that stayed queued. */
  retries: { inc(): void };
  /** Entries replaced by a newer version of the same object before they were published. */
  coalesced: { inc(value?: number): void };
}

export interface PublishQueueOptions {
  publisher: SignalPublisher;
  logger: Logger;
  /**
   * Most entries held (waiting and in flight). Nothing is dropped at the bound: `onPressure(true)` is called (the
   * watcher pauses its informers, so Kubernetes holds the changes) and `state().full` turns true until the backlog is
   * back to half the bound (`onPressure(false)`).
   */
  maxEntries: number;
  /** Back-off after the first failed attempt, doubling (with jitter) up to `retryMaxMs`; default 500 ms. */
  retryInitialMs?: number;
  retryMaxMs: number;
  metrics?: PublishQueueMetrics;
  onPressure?: (full: boolean) => void;
  /** Jitter source (tests). */
  random?: () => number;
}

export interface PublishQueueState {
  /** Entries waiting or in flight. */
  size: number;
  /** True from a failed attempt until one succeeds: the backlog cannot be published right now. */
  failing: boolean;
  /** True while the backlog is at its bound (until it is back to half of it). */
  full: boolean;
  /** Consecutive failed attempts. */
  failures: number;
  lastError?: string;
}

/**
 * The identity an entry is coalesced under: a pod snapshot by pod uid, an event by its uid (`eventKey`), a dead
 * letter by stage and object key. Anything else is never coalesced.
 */
function coalesceKey(entry: Entry, seq: number): string {
  if (entry.kind === 'dead-letter') return `dead-letter:${entry.entry.stage}:${entry.entry.key ?? `#${seq}`}`;
  const { signal } = entry;
  if (signal.kind === 'pod') return `pod:${signal.pod.uid}`;
  if (signal.kind === 'event') return `event:${eventKey(signal)}`;
  return `${signal.kind}:#${seq}`;
}

/**
 * Hands the informers' deliveries to the publisher, one batch at a time: whatever piles up while a batch is in
 * flight becomes the next batch. Informer callbacks are synchronous; this is where they become asynchronous.
 *
 * Nothing is lost while the process runs: a batch the publisher cannot deliver (after its own retries) stays queued
 * and is retried with exponential back-off until Kafka accepts it. While Kafka keeps up, every version of an object
 * is published, in order. Memory stays bounded because, once a publish has failed or the backlog reaches half of
 * `maxEntries`, waiting versions are coalesced by object (only the newest pod snapshot per pod uid and the newest
 * version of each event are kept: each carries the object's whole state, and the correlator is order-independent),
 * and because at `maxEntries` the queue asks for back-pressure instead of dropping. A newer version of an object in
 * flight waits behind it, so one object's versions reach Kafka in order.
 */
export class PublishQueue {
  /** Waiting versions by coalescing key (each list oldest first), keys in order of arrival. */
  private pending = new Map<string, Entry[]>();
  private waiting = 0;
  private inFlight = 0;
  private seq = 0;
  private running: Promise<void> = Promise.resolve();
  /** True from the enqueue that starts a pump until the pump sees an empty queue (same tick as it stops). */
  private active = false;
  private failures = 0;
  private lastError: string | undefined;
  private full = false;
  private readonly stopped = new AbortController();

  constructor(private readonly options: PublishQueueOptions) {}

  push(signal: Signal): void {
    this.enqueue({ kind: 'signal', signal });
  }

  deadLetter(entry: DeadLetterEntry): void {
    this.enqueue({ kind: 'dead-letter', entry });
  }

  size(): number {
    return this.waiting + this.inFlight;
  }

  state(): PublishQueueState {
    const size = this.size();
    return { size, failing: this.failures > 0 && size > 0, full: this.full, failures: this.failures, ...(this.lastError === undefined ? {} : { lastError: this.lastError }) };
  }

  /** Resolves once the queue is empty (never, while Kafka refuses the backlog: see `stop`). */
  async drain(): Promise<void> {
    while (this.active) await this.running;
  }

  /** Stops retrying (shutdown): the current attempt finishes, what is still queued stays unpublished. */
  stop(): void {
    this.stopped.abort();
  }

  /** Coalesce from the first failure until the backlog is published, and whenever the backlog is half full. */
  private coalescing(): boolean {
    return this.failures > 0 || this.size() >= this.options.maxEntries / 2;
  }

  private enqueue(entry: Entry): void {
    const key = coalesceKey(entry, (this.seq += 1));
    const versions = this.pending.get(key);
    if (versions === undefined) {
      this.pending.set(key, [entry]);
      this.waiting += 1;
    } else if (this.coalescing()) {
      // Only the newest version waits; the key keeps its place in line, so a busy object does not starve.
      this.options.metrics?.coalesced.inc(versions.length);
      this.waiting -= versions.length - 1;
      versions.splice(0, versions.length, entry);
    } else {
      versions.push(entry);
      this.waiting += 1;
    }
    this.changed();
    if (!this.active && !this.stopped.signal.aborted) {
      this.active = true;
      this.running = this.pump();
    }
  }

  private changed(): void {
    const size = this.size();
    this.options.metrics?.backlog.set(size);
    const { maxEntries, onPressure } = this.options;
    if (!this.full && size >= maxEntries) {
      this.full = true;
      this.options.logger.warn({ code: 'KT_ERR_COLLECTOR_BACKLOG_FULL', backlog: size, maxEntries }, 'publish backlog full: pausing the informers until half of it is published');
      onPressure?.(true);
    } else if (this.full && size <= Math.floor(maxEntries / 2)) {
      this.full = false;
      this.options.logger.info({ backlog: size, maxEntries }, 'publish backlog below half its bound: resuming the informers');
      onPressure?.(false);
    }
  }

  private async pump(): Promise<void> {
    // Yield first: informers deliver a relist synchronously, and the whole burst becomes one batch.
    await Promise.resolve();
    try {
      await this.pumpEntries();
    } finally {
      // No await between the empty-queue check and this: an entry enqueued later starts a new pump.
      this.active = false;
    }
  }

  private async pumpEntries(): Promise<void> {
    const { logger, metrics } = this.options;
    while (this.waiting > 0 && !this.stopped.signal.aborted) {
      const batch: [string, Entry][] = [];
      for (const [key, versions] of this.pending) {
        if (batch.length >= MAX_BATCH) break;
        const taken = versions.splice(0, MAX_BATCH - batch.length);
        for (const entry of taken) batch.push([key, entry]);
        if (versions.length === 0) this.pending.delete(key);
      }
      this.waiting -= batch.length;
      this.inFlight = batch.length;
      const done = new Set<number>();
      try {
        for (const [index, [, entry]] of batch.entries()) {
          if (entry.kind !== 'dead-letter') continue;
          await this.options.publisher.deadLetter(entry.entry);
          done.add(index);
        }
        const signals = batch.filter(([, e]) => e.kind === 'signal').map(([, e]) => (e as Entry & { kind: 'signal' }).signal);
        if (signals.length > 0) await this.options.publisher.publish(signals, { stage: 'collector.cluster-watcher.validate' });
        if (this.failures > 0) logger.info({ attempts: this.failures + 1, signals: signals.length }, 'publish backlog accepted by Kafka again');
        this.failures = 0;
        this.lastError = undefined;
        this.inFlight = 0;
        this.changed();
      } catch (error) {
        this.failures += 1;
        this.lastError = error instanceof Error ? error.message : String(error);
        metrics?.retries.inc();
        this.requeue(batch.filter((_, index) => !done.has(index)));
        const delay = this.backoff();
        logger.error(
          { err: error, code: 'KT_ERR_COLLECTOR_PUBLISH', entries: batch.length - done.size, backlog: this.size(), attempt: this.failures, retryInMs: delay },
          'could not publish; keeping the batch queued and retrying',
        );
        await sleep(delay, this.stopped.signal);
      }
    }
  }

  /**
   * Puts a failed batch back at the head of the line and coalesces everything waiting: per object only the newest
   * version stays (a version that arrived while the batch was in flight is newer than the batch's).
   */
  private requeue(failed: [string, Entry][]): void {
    const merged = new Map<string, Entry[]>();
    let dropped = 0;
    for (const [key, entry] of failed) {
      if (merged.has(key) || this.pending.has(key)) dropped += 1;
      merged.set(key, [entry]);
    }
    for (const [key, versions] of this.pending) {
      dropped += versions.length - 1;
      merged.set(key, versions.slice(-1));
    }
    if (dropped > 0) this.options.metrics?.coalesced.inc(dropped);
    this.pending = merged;
    this.waiting = merged.size;
    this.inFlight = 0;
    this.changed();
  }

  /** The one back-off of libs/retry, for the failures in a row of this queue. */
  private backoff(): number {
    return backoffDelay(this.failures, this.options.retryInitialMs ?? 500, this.options.retryMaxMs, this.options.random);
  }
}
