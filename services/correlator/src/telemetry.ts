import type { Logger } from '@killtrace/logging';
import type { RecordUpdate } from '@killtrace/correlation';
import { recordWorkload } from '@killtrace/schemas';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The correlator's named internal events. Each event owns its metric and its log fields, so what `/metrics`
 * counts and what the logs say never drift apart (STYLE.md).
 */
export interface Telemetry {
  recordsWritten(partition: number, updates: readonly RecordUpdate[], rejected: number, ms: number): void;
  deadLettered(stage: string, reason: string, fields: Record<string, unknown>): void;
  sinkRetry(sink: 'elasticsearch' | 'kafka-records' | 'kafka-dead-letter' | 'kafka-commit', reason: string, attempt: number, delayMs: number): void;
  sinkRecovered(sink: string, attempts: number): void;
  backPressure(paused: boolean, reason: string): void;
  replayStarted(partition: number, seeks: ReadonlyMap<string, number>, watermark: number | undefined): void;
  replayFinished(partition: number, messages: number, ms: number): void;
  partitionsAssigned(partitions: readonly number[]): void;
  messages(topic: string, phase: 'replay' | 'live', count: number): void;
  lag(topic: string, partition: number, lag: number): void;
  watermark(partition: number, watermark: number): void;
  /** Registers a callback that reports state size at scrape time. */
  stateSize(read: () => { pods: number; incarnations: number }): void;
}

export function createTelemetry(registry: Registry, logger: Logger): Telemetry {
  const written = new Counter({
    name: 'killtrace_correlator_records_written_total',
    help: 'Restart records written to Elasticsearch and the records topic, by status and cause.',
    labelNames: ['status', 'cause'],
    registers: [registry],
  });
  const deadLetters = new Counter({
    name: 'killtrace_correlator_dead_letters_total',
    help: 'Messages and documents sent to the dead-letter topic, by stage.',
    labelNames: ['stage'],
    registers: [registry],
  });
  const retries = new Counter({
    name: 'killtrace_correlator_sink_retries_total',
    help: 'Retries of a sink (Elasticsearch, records and dead-letter topics, offset commits) after a failure.',
    labelNames: ['sink'],
    registers: [registry],
  });
  const paused = new Gauge({
    name: 'killtrace_correlator_consumer_paused',
    help: '1 while the consumer is paused because a sink is failing (back-pressure).',
    registers: [registry],
  });
  const flushSeconds = new Histogram({
    name: 'killtrace_correlator_flush_seconds',
    help: 'Time to write one flush of records (both sinks, retries included).',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const replays = new Counter({
    name: 'killtrace_correlator_replays_total',
    help: 'Partitions whose state was rebuilt by replay after an assignment.',
    registers: [registry],
  });
  const replayed = new Counter({
    name: 'killtrace_correlator_replayed_messages_total',
    help: 'Messages re-ingested (without emitting) while rebuilding state.',
    registers: [registry],
  });
  const consumed = new Counter({
    name: 'killtrace_correlator_messages_total',
    help: 'Messages read, by topic and phase (replay or live).',
    labelNames: ['topic', 'phase'],
    registers: [registry],
  });
  const lag = new Gauge({
    name: 'killtrace_correlator_consumer_lag',
    help: 'Messages between the consumer position and the high watermark, by topic and partition.',
    labelNames: ['topic', 'partition'],
    registers: [registry],
  });
  const restarts = new Counter({
    name: 'killtrace_restarts_total',
    help: 'Container restarts explained, counted once per restart when its first record (provisional or final) is written. Labels are bounded: the owning workload, never the pod.',
    labelNames: ['namespace', 'workload', 'container', 'cause', 'probe_induced', 'during_init'],
    registers: [registry],
  });
  const stepElapsed = new Histogram({
    name: 'killtrace_init_step_elapsed_seconds',
    help: 'How long the init step in progress had been running when the container was killed during init, by step, observed once per restart from its final record (late application logs often name the step).',
    labelNames: ['namespace', 'workload', 'container', 'step'],
    buckets: [1, 2, 5, 10, 15, 30, 60, 120, 180, 300, 600, 1200],
    registers: [registry],
  });
  // Ids already counted, bounded (oldest forgotten first): a restart is far older than the cap when it falls out.
  const counted = new Map<string, boolean>();
  const COUNTED_CAP = 200_000;
  const remember = (id: string, final: boolean): { first: boolean; firstFinal: boolean } => {
    const seen = counted.get(id);
    if (seen === undefined && counted.size >= COUNTED_CAP) {
      const oldest = counted.keys().next().value;
      if (oldest !== undefined) counted.delete(oldest);
    }
    if (seen === undefined || (final && !seen)) counted.set(id, final);
    return { first: seen === undefined, firstFinal: final && seen !== true };
  };
  const watermarks = new Map<number, number>();
  new Gauge({
    name: 'killtrace_correlator_watermark_delay_seconds',
    help: 'Wall-clock time minus the partition event-time watermark.',
    labelNames: ['partition'],
    registers: [registry],
    collect() {
      this.reset();
      const now = Date.now();
      for (const [partition, wm] of watermarks) if (Number.isFinite(wm)) this.set({ partition: String(partition) }, (now - wm) / 1000);
    },
  });
  let readState: () => { pods: number; incarnations: number } = () => ({ pods: 0, incarnations: 0 });
  new Gauge({
    name: 'killtrace_correlator_state_pods',
    help: 'Pods held in correlation state (all assigned partitions).',
    registers: [registry],
    collect() {
      this.set(readState().pods);
    },
  });
  new Gauge({
    name: 'killtrace_correlator_state_incarnations',
    help: 'Container incarnations with application logs held in correlation state.',
    registers: [registry],
    collect() {
      this.set(readState().incarnations);
    },
  });

  return {
    recordsWritten(partition, updates, rejected, ms) {
      for (const { id, record } of updates) {
        const k = record.killtrace;
        written.inc({ status: k.status ?? 'final', cause: k.cause });
        const { first, firstFinal } = remember(id, k.status === 'final');
        const base = { namespace: record.kubernetes.namespace, workload: recordWorkload(record).name, container: record.kubernetes.container.name };
        if (first) restarts.inc({ ...base, cause: k.cause, probe_induced: String(k.probe_induced), during_init: String(k.during_init) });
        if (firstFinal && k.during_init && k.init.step_elapsed_seconds !== null) {
          stepElapsed.observe({ ...base, step: k.init.step ?? 'unknown' }, k.init.step_elapsed_seconds);
        }
      }
      flushSeconds.observe(ms / 1000);
      logger.debug({ event: 'RecordsWritten', partition, records: updates.length, rejected, ms }, 'records written');
    },
    deadLettered(stage, reason, fields) {
      deadLetters.inc({ stage });
      logger.warn({ event: 'DeadLettered', stage, reason, ...fields }, 'sent to dead-letter');
    },
    sinkRetry(sink, reason, attempt, delayMs) {
      retries.inc({ sink });
      const log = attempt <= 1 || attempt % 10 === 0 ? logger.warn.bind(logger) : logger.debug.bind(logger);
      log({ event: 'SinkRetry', sink, reason, attempt, delayMs }, `${sink} failed, retrying`);
    },
    sinkRecovered(sink, attempts) {
      logger.info({ event: 'SinkRecovered', sink, attempts }, `${sink} recovered`);
    },
    backPressure(isPaused, reason) {
      paused.set(isPaused ? 1 : 0);
      logger.warn({ event: 'BackPressure', paused: isPaused, reason }, isPaused ? 'consumer paused' : 'consumer resumed');
    },
    replayStarted(partition, seeks, watermark) {
      replays.inc();
      logger.info({ event: 'ReplayStarted', partition, seeks: Object.fromEntries(seeks), committedWatermark: watermark }, 'rebuilding partition state by replay');
    },
    replayFinished(partition, messages, ms) {
      replayed.inc(messages);
      logger.info({ event: 'ReplayFinished', partition, messages, ms }, 'partition state rebuilt');
    },
    partitionsAssigned(partitions) {
      logger.info({ event: 'PartitionsAssigned', partitions }, 'partitions assigned');
    },
    messages(topic, phase, count) {
      consumed.inc({ topic, phase }, count);
    },
    lag(topic, partition, value) {
      lag.set({ topic, partition: String(partition) }, value);
    },
    watermark(partition, wm) {
      watermarks.set(partition, wm);
    },
    stateSize(read) {
      readState = read;
    },
  };
}
