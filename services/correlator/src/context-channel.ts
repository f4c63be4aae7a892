import { ClusterContext } from '@killtrace/correlation';
import { createTableReader, createTableWriter, partitionOfKey, type KafkaConnection, type TableReader, type TableWriter } from '@killtrace/kafka';
import type { Logger } from '@killtrace/logging';
import { sleep } from '@killtrace/retry';
import { CONTEXT_MESSAGE_VERSION, contextFactSchema, contextKey, contextMessageSchema, type ContextFact } from '@killtrace/schemas';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PartitionState } from './partition-state.js';

/**
 * The correlator's side of the cluster context topic (docs/decisions/0017-cluster-context-topic.md): reads the whole
 * compacted topic into one ClusterContext that every partition's core reads, and publishes what the pods of each
 * live partition tell (their node, workloads and init observations) when it changed. Publishing is idempotent: a
 * fact is written only when the context holds another value for its key, so a restart or a replay rewrites nothing
 * it already holds.
 */

export interface ContextChannelOptions {
  kafka: KafkaConnection;
  topic: string;
  /** Partitions of `signals` (the pod uid -> partition map that says which pods a partition owns). */
  partitions: number;
  groupPrefix: string;
  /** Producer instance named in published messages. */
  instance: string;
  logger: Logger;
  /** How often live partitions' facts are compared with the context and published. */
  publishEveryMs: number;
  registry: Registry;
}

export class ContextChannel {
  readonly context = new ClusterContext();
  private readonly reader: TableReader;
  private readonly writer: TableWriter<typeof contextMessageSchema>;
  /** Keys each partition published (its pods' facts), so a pod it evicted gets a tombstone. */
  private readonly published = new Map<number, Set<string>>();
  /** Partition states already swept for facts of pods they own but no longer hold (once per assignment). */
  private readonly swept = new WeakSet<PartitionState>();
  private readonly stopping = new AbortController();
  private loop: Promise<void> = Promise.resolve();
  private failures = 0;
  private writerConnected = false;
  private readerFailed: string | undefined;
  private readonly written: Counter<'kind'>;
  private readerStarted = false;
  /** Facts the cores returned before (a core hands back the same object while a pod is unchanged), validated, with their JSON. */
  private readonly validated = new WeakMap<ContextFact, { fact: ContextFact; text: string }>();

  constructor(private readonly options: ContextChannelOptions) {
    this.reader = createTableReader(options.kafka, {
      topic: options.topic,
      schema: contextMessageSchema,
      groupPrefix: options.groupPrefix,
      onEntry: (entry) => {
        this.context.apply(entry.key, entry.value === null ? null : entry.value.fact);
      },
      onInvalid: (entry) =>
        options.logger.warn({ event: 'ContextEntryInvalid', code: 'KT_ERR_CORRELATOR_CONTEXT_INVALID', topic: options.topic, ...entry }, 'context topic entry ignored'),
      onCrash: (error, restarting) => {
        // A reader kafkajs does not restart leaves the context frozen: not ready, so the orchestrator notices.
        if (!restarting) this.readerFailed = error.message;
        options.logger.error({ event: 'ContextReaderCrashed', code: 'KT_ERR_CORRELATOR_CONTEXT_READER', err: error, restarting }, 'context topic reader crashed');
      },
    });
    this.writer = createTableWriter(options.kafka, options.topic, contextMessageSchema);
    const context = this.context;
    new Gauge({
      name: 'killtrace_correlator_context_facts',
      help: 'Facts held from the cluster context topic (pods of every partition, nodes), by kind.',
      labelNames: ['kind'],
      registers: [options.registry],
      collect() {
        this.set({ kind: 'pod' }, context.podCount);
        this.set({ kind: 'node' }, context.nodeCount);
      },
    });
    this.written = new Counter({
      name: 'killtrace_correlator_context_written_total',
      help: 'Facts this correlator wrote to the context topic, by kind: pods it holds (when changed), Nodes it was given on the signals topic, tombstones of pods it no longer holds.',
      labelNames: ['kind'],
      registers: [options.registry],
    });
  }

  /** Connects the writer and starts reading (retried by the caller while Kafka is away). */
  async connect(): Promise<void> {
    if (!this.writerConnected) {
      await this.writer.connect();
      this.writerConnected = true;
    }
    if (!this.readerStarted) {
      await this.reader.start();
      this.readerStarted = true;
    }
  }

  /** Resolves once the topic was read to its end (the history is complete), or rejects when `signal` aborts. */
  async loaded(signal?: AbortSignal): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      void this.reader.caughtUp().then(resolve);
      signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    });
    this.options.logger.info({ event: 'ContextLoaded', topic: this.options.topic, pods: this.context.podCount, nodes: this.context.nodeCount }, 'cluster context read');
  }

  /** `/readyz`: the context was read to its end. */
  readiness(): { ok: boolean; detail: string } {
    if (this.readerFailed !== undefined) return { ok: false, detail: `context topic reader stopped: ${this.readerFailed}` };
    return this.reader.isCaughtUp() ? { ok: true, detail: 'context read' } : { ok: false, detail: `reading context topic ${this.options.topic}` };
  }

  /** Publishes, every `publishEveryMs`, what the live partitions `states()` returns tell. */
  run(states: () => readonly PartitionState[]): void {
    this.loop = (async () => {
      while (!this.stopping.signal.aborted) {
        await sleep(this.options.publishEveryMs, this.stopping.signal);
        if (this.stopping.signal.aborted) break;
        await this.publish(states());
      }
    })();
  }

  /** Compares each live partition's pod facts with the context and writes the differences (and tombstones). */
  async publish(states: readonly PartitionState[]): Promise<void> {
    const entries: Array<{ key: string; fact: ContextFact | null }> = [];
    const held = new Set<string>();
    const next = new Map<number, Set<string>>();
    for (const state of states) {
      if (state.phase !== 'live') continue;
      const keys = new Set<string>();
      for (const raw of state.correlator.contextFacts()) {
        // Pod facts with their sightings can be tens of KB: each unchanged one is validated and serialised once.
        let checked = this.validated.get(raw);
        if (!checked) {
          const fact = contextFactSchema.parse(raw);
          checked = { fact, text: JSON.stringify(fact) };
          this.validated.set(raw, checked);
        }
        const { fact, text } = checked;
        const key = contextKey(fact);
        keys.add(key);
        held.add(key);
        if (this.context.textOf(key) !== text) entries.push({ key, fact });
      }
      next.set(state.partition, keys);
      if (!this.swept.has(state)) {
        // Pods this partition owns (their uid hashes here) that it no longer holds: evicted while no core held them.
        this.swept.add(state);
        for (const key of [...this.context.keys()]) {
          if (key.startsWith('pod/') && !keys.has(key) && partitionOfKey(key.slice(4), this.options.partitions) === state.partition) entries.push({ key, fact: null });
        }
      }
    }
    for (const [partition, keys] of this.published) {
      const now = next.get(partition);
      if (now === undefined) continue;
      for (const key of keys) if (!held.has(key) && this.context.textOf(key) !== undefined) entries.push({ key, fact: null });
    }
    if (entries.length === 0) {
      for (const [partition, keys] of next) this.published.set(partition, keys);
      return;
    }
    const unique = [...new Map(entries.filter((e) => e.fact !== null || !held.has(e.key)).map((e) => [e.key, e])).values()];
    try {
      await this.writer.write(
        unique.map((e) => ({ key: e.key, value: e.fact === null ? null : { v: CONTEXT_MESSAGE_VERSION, producer: { component: 'correlator', instance: this.options.instance }, fact: e.fact } })),
      );
      // Other partitions of this process see it at once; reading it back changes nothing.
      for (const e of unique) {
        this.context.apply(e.key, e.fact);
        this.written.inc({ kind: e.fact === null ? 'tombstone' : e.fact.kind });
      }
      for (const [partition, keys] of next) this.published.set(partition, keys);
      if (this.failures > 0) this.options.logger.info({ event: 'ContextPublishRecovered', after: this.failures }, 'publishing to the context topic again');
      this.failures = 0;
    } catch (error) {
      // The next round compares again and writes what is still missing.
      this.failures += 1;
      if (this.failures === 1) this.options.logger.warn({ event: 'ContextPublishFailed', err: error, topic: this.options.topic }, 'cannot publish to the context topic; retrying');
    }
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop.catch(() => undefined);
    await this.reader.stop().catch(() => undefined);
    await this.writer.disconnect().catch(() => undefined);
  }
}
