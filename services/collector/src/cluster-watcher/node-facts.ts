import type { TableWriter } from '@killtrace/kafka';
import type { Logger } from '@killtrace/logging';
import { sleep } from '@killtrace/retry';
import { CONTEXT_MESSAGE_VERSION, nodeContextFact, type contextMessageSchema, type NodeContext } from '@killtrace/schemas';

/**
 * Node facts for the cluster context topic (docs/decisions/0017-cluster-context-topic.md): each Node's name and the
 * labels node classes are made of (`correlation.nodeClassLabels`), written as `node/<name>` and tombstoned when the
 * Node is deleted. A Node's status changes often and its class labels almost never, so only a change of those labels
 * is written. Writes coalesce per node (the latest wins) and are retried with a doubling back-off until Kafka takes
 * them; a relist re-offers every Node, so a restart loses nothing the API server still holds.
 */

export interface NodeFactPublisherOptions {
  writer: TableWriter<typeof contextMessageSchema>;
  labelKeys: readonly string[];
  /** Producer instance named in the messages (the cluster name). */
  instance: string;
  logger: Logger;
  retryMaxMs: number;
}

export class NodeFactPublisher {
  /** What Kafka acknowledged per node (canonical JSON), so an unchanged Node is not written again. */
  private readonly written = new Map<string, string>();
  /** Latest wanted state per node not yet acknowledged: a fact, or null for a tombstone. */
  private readonly pending = new Map<string, NodeContext | null>();
  private running: Promise<void> | undefined;
  private stopped = false;
  private failures = 0;

  constructor(private readonly options: NodeFactPublisherOptions) {}

  /** A Node was listed, added or updated. */
  upsert(name: string, labels: Readonly<Record<string, string>>): void {
    const fact = nodeContextFact(name, labels, this.options.labelKeys);
    if (this.written.get(name) === JSON.stringify(fact) && !this.pending.has(name)) return;
    this.pending.set(name, fact);
    this.kick();
  }

  /** A Node was deleted. */
  remove(name: string): void {
    this.pending.set(name, null);
    this.kick();
  }

  /** Node facts not yet acknowledged. */
  backlog(): number {
    return this.pending.size;
  }

  /** Resolves once nothing is pending (or the publisher stopped). */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  /** Stops retrying; what is pending is logged as not written. */
  async close(): Promise<void> {
    this.stopped = true;
    await this.idle();
    if (this.pending.size > 0) this.options.logger.warn({ code: 'KT_ERR_COLLECTOR_PUBLISH', nodes: [...this.pending.keys()] }, 'node facts not written; a restarted watcher relists the Nodes');
  }

  private kick(): void {
    if (this.running !== undefined || this.stopped) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
    });
  }

  private async drain(): Promise<void> {
    let delay = 200;
    while (this.pending.size > 0 && !this.stopped) {
      const batch = [...this.pending];
      try {
        await this.options.writer.write(
          batch.map(([name, fact]) => ({
            key: `node/${name}`,
            value: fact === null ? null : { v: CONTEXT_MESSAGE_VERSION, producer: { component: 'cluster-watcher' as const, instance: this.options.instance }, fact },
          })),
        );
        for (const [name, fact] of batch) {
          // A newer state that arrived while writing stays pending.
          if (this.pending.get(name) === fact) this.pending.delete(name);
          if (fact === null) this.written.delete(name);
          else this.written.set(name, JSON.stringify(fact));
        }
        if (this.failures > 0) this.options.logger.info({ event: 'NodeFactsRecovered', after: this.failures }, 'node facts written again');
        this.failures = 0;
        delay = 200;
      } catch (error) {
        this.failures += 1;
        if (this.failures === 1) this.options.logger.warn({ event: 'NodeFactsFailed', code: 'KT_ERR_COLLECTOR_PUBLISH', err: error }, 'cannot write node facts to the context topic; retrying');
        await sleep(delay);
        delay = Math.min(this.options.retryMaxMs, delay * 2);
      }
    }
  }
}
