import type { Logger } from '@killtrace/logging';
import type { Signal } from '@killtrace/schemas';
import type { DeadLetterEntry, SignalPublisher } from '../publish/types.js';

type Item =
  | { kind: 'signal'; signal: Signal; onFailure: () => void }
  | { kind: 'dead-letter'; entry: DeadLetterEntry }
  | { kind: 'after'; run: () => void };

const MAX_BATCH = 500;

/**
 * Hands the informers' deliveries to the publisher in delivery order (so one pod's snapshots stay ordered), one
 * batch at a time: whatever piles up while a batch is in flight becomes the next batch. Informer callbacks are
 * synchronous; this is where they become asynchronous. A batch that cannot be published after the publisher's
 * retries is logged and its `onFailure` callbacks run (the change filter forgets those keys, so the next delivery
 * or relist publishes them again).
 */
export class PublishQueue {
  private readonly items: Item[] = [];
  private running: Promise<void> = Promise.resolve();
  /** True from the enqueue that starts a pump until the pump sees an empty queue (same tick as it stops). */
  private active = false;

  constructor(
    private readonly publisher: SignalPublisher,
    private readonly logger: Logger,
  ) {}

  push(signal: Signal, onFailure: () => void): void {
    this.enqueue({ kind: 'signal', signal, onFailure });
  }

  deadLetter(entry: DeadLetterEntry): void {
    this.enqueue({ kind: 'dead-letter', entry });
  }

  /** Runs `run` once everything queued before it has been handled. */
  after(run: () => void): void {
    this.enqueue({ kind: 'after', run });
  }

  /** Resolves once the queue is empty. */
  async drain(): Promise<void> {
    while (this.active) await this.running;
  }

  private enqueue(item: Item): void {
    this.items.push(item);
    if (!this.active) {
      this.active = true;
      this.running = this.pump();
    }
  }

  private async pump(): Promise<void> {
    // Yield first: informers deliver a relist synchronously, and the whole burst becomes one batch.
    await Promise.resolve();
    try {
      await this.pumpItems();
    } finally {
      // No await between the empty-queue check and this: an item enqueued later starts a new pump.
      this.active = false;
    }
  }

  private async pumpItems(): Promise<void> {
    while (this.items.length > 0) {
      const head = this.items[0] as Item;
      if (head.kind === 'after') {
        this.items.shift();
        try {
          head.run();
        } catch (error) {
          this.logger.error({ err: error }, 'queued callback failed');
        }
      } else if (head.kind === 'dead-letter') {
        this.items.shift();
        try {
          await this.publisher.deadLetter(head.entry);
        } catch (error) {
          this.logger.error({ err: error, stage: head.entry.stage, key: head.entry.key }, 'could not dead-letter an invalid object');
        }
      } else {
        const batch: (Item & { kind: 'signal' })[] = [];
        while (batch.length < MAX_BATCH && this.items[0]?.kind === 'signal') batch.push(this.items.shift() as Item & { kind: 'signal' });
        try {
          await this.publisher.publish(batch.map((b) => b.signal), { stage: 'collector.cluster-watcher.validate' });
        } catch (error) {
          this.logger.error({ err: error, signals: batch.length }, 'could not publish signals; they will be published again on their next delivery');
          for (const b of batch) b.onFailure();
        }
      }
    }
  }
}
