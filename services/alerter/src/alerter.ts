import { ingestRecord, initialState, tick, type AlerterState, type RuleSet } from '@killtrace/alerting';
import { createConsumer, type IncomingMessage, type KafkaConnection, type KillConsumer } from '@killtrace/kafka';
import type { Logger } from '@killtrace/logging';
import { recordMessageSchema, type RecordMessage } from '@killtrace/schemas';
import { DeliveryQueue } from './delivery-queue.js';
import type { ReceiverClient } from './receivers.js';
import { StateStore, type StateFile } from './state-store.js';
import type { AlerterTelemetry } from './telemetry.js';

export interface AlerterOptions {
  kafka: KafkaConnection;
  topic: string;
  groupId: string;
  rules: RuleSet;
  clients: ReadonlyMap<string, ReceiverClient>;
  stateDir: string;
  maxKillAgeMs: number;
  tickIntervalMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  maxQueued: number;
  logger: Logger;
  telemetry: AlerterTelemetry;
  onFatal: (error: Error) => void;
}

/**
 * The alerter's loop: records from Kafka into the pure state machine (libs/alerting), notifications into the
 * durable delivery queue. The handler returns, and so lets the consumer commit the record's offset, only after the
 * state including what the record produced is on disk (decision 0008).
 */
export class Alerter {
  private state: AlerterState = initialState();
  private readonly store: StateStore;
  private queue: DeliveryQueue | undefined;
  private consumer: KillConsumer<typeof recordMessageSchema> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private joined = false;
  private waiting = false;
  private stopped = false;
  private lastPersistError: string | undefined;

  constructor(private readonly options: AlerterOptions) {
    this.store = new StateStore(options.stateDir, () => this.snapshot());
  }

  private snapshot(): StateFile {
    return { v: 1, engine: this.state, queue: this.queue?.snapshot() ?? [] };
  }

  private async persist(): Promise<void> {
    this.store.touch();
    await this.store.flush();
    this.lastPersistError = undefined;
  }

  /** Restores the state file, starts the delivery workers, joins the consumer group and starts the clock. */
  async start(): Promise<void> {
    const { logger, telemetry } = this.options;
    const restored = await this.store.load();
    if (restored !== null) this.state = restored.engine;
    this.queue = new DeliveryQueue(
      {
        clients: this.options.clients,
        telemetry,
        retryInitialMs: this.options.retryInitialMs,
        retryMaxMs: this.options.retryMaxMs,
        persist: () => this.persist(),
        onPersistError: (error) => this.persistFailed(error),
      },
      restored?.queue ?? [],
    );
    // Fails at start (not at the first alert) when the state directory is not writable.
    await this.persist();
    logger.info(
      { event: 'StateRestored', path: this.store.path, groups: Object.keys(this.state.groups).length, queued: this.queue.size() },
      restored === null ? 'no alerter state yet' : 'alerter state restored',
    );
    telemetry.gauges({
      queued: () => this.queue?.byReceiver() ?? {},
      firing: () => {
        const out: Record<string, number> = {};
        for (const g of Object.values(this.state.groups)) if (g.status === 'firing') out[g.rule] = (out[g.rule] ?? 0) + 1;
        return out;
      },
    });
    this.queue.start();
    this.consumer = createConsumer(this.options.kafka, {
      topic: this.options.topic,
      groupId: this.options.groupId,
      schema: recordMessageSchema,
      // A new group reads the whole topic; alerter.maxKillAgeMs keeps old history from paging anyone.
      fromBeginning: true,
      onInvalid: (message) => {
        telemetry.recordConsumed('invalid');
        logger.warn({ event: 'InvalidRecord', topic: message.topic, partition: message.partition, offset: message.offset, reason: message.reason }, 'record message skipped');
      },
      onCrash: (error, classified, restarting) => {
        if (!restarting) this.options.onFatal(error);
        else logger.warn({ err: error, kind: classified.kind }, 'consumer crashed, restarting');
      },
    });
    await this.consumer.run((message) => this.handle(message));
    void this.consumer.joined().then(() => {
      this.joined = true;
    });
    this.timer = setInterval(() => void this.onTick(), this.options.tickIntervalMs);
  }

  /** Resolves once the consumer joined its group (tests wait for it before producing). */
  async joinedGroup(): Promise<void> {
    await this.consumer?.joined();
  }

  private persistFailed(error: Error): void {
    this.lastPersistError = error.message;
    this.options.logger.error({ err: error, code: 'KT_ERR_ALERTER_STATE_UNWRITABLE', path: this.store.path }, 'cannot save alerter state');
  }

  private async handle(message: IncomingMessage<RecordMessage>): Promise<void> {
    const { record, id } = message.value;
    const killedAt = Date.parse(record.killtrace.killed_at ?? record.killtrace.finished_at ?? record['@timestamp']);
    if (Date.now() - killedAt > this.options.maxKillAgeMs) {
      this.options.telemetry.recordConsumed('stale');
      return;
    }
    const queue = this.queue;
    if (queue === undefined) throw new Error('alerter not started');
    if (queue.size() >= this.options.maxQueued) {
      this.waiting = true;
      this.options.telemetry.backPressure(true, queue.size());
      await queue.belowLimit(this.options.maxQueued);
      this.waiting = false;
      this.options.telemetry.backPressure(false, queue.size());
    }
    const step = ingestRecord(this.state, this.options.rules, id, record, Date.now());
    this.state = step.state;
    queue.enqueue(step.notifications, Date.now());
    this.options.telemetry.recordConsumed('ingested');
    // Throwing here (disk full) makes kafkajs retry the message without committing: nothing is lost.
    await this.persist();
  }

  private ticking = false;

  private async onTick(): Promise<void> {
    if (this.ticking || this.stopped || this.queue === undefined) return;
    this.ticking = true;
    try {
      const before = this.state;
      const step = tick(before, this.options.rules, Date.now());
      const changed =
        step.notifications.length > 0 ||
        Object.keys(step.state.groups).length !== Object.keys(before.groups).length ||
        Object.keys(step.state.seen).length !== Object.keys(before.seen).length;
      if (!changed) return;
      this.state = step.state;
      this.queue.enqueue(step.notifications, Date.now());
      await this.persist();
    } catch (error) {
      this.persistFailed(error as Error);
    } finally {
      this.ticking = false;
    }
  }

  /** `/readyz`: joined, the queue below its bound, the state file writable. */
  readiness(): { ok: boolean; detail?: string } {
    const problems: string[] = [];
    if (!this.joined) problems.push('consumer has not joined its group yet');
    if (this.waiting) problems.push(`${this.queue?.size() ?? 0} notifications undelivered (alerter.maxQueued ${this.options.maxQueued})`);
    if (this.lastPersistError !== undefined) problems.push(`cannot save state: ${this.lastPersistError}`);
    const failing = [...(this.queue?.failures() ?? new Map<string, string>())].map(([name, reason]) => `${name}: ${reason}`);
    const detail = [...problems, ...(failing.length > 0 ? [`retrying receivers ${failing.join(', ')}`] : [])].join('; ');
    return problems.length === 0 ? { ok: true, ...(detail === '' ? {} : { detail }) } : { ok: false, detail };
  }

  /** Stops consuming, stops the workers and saves the state one last time. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.queue?.stop();
    await this.consumer?.disconnect().catch(() => undefined);
    await this.persist().catch((error: unknown) => this.persistFailed(error as Error));
  }
}
