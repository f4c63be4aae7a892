import process from 'node:process';
import type { Config } from '@killtrace/config';
import { createElasticClient, installIndexTemplate } from '@killtrace/elastic';
import { createKafkaClient, createProducer, createProducerGroup, type createBatchConsumer } from '@killtrace/kafka';
import type { Logger } from '@killtrace/logging';
import { deadLetterMessageSchema, recordMessageSchema } from '@killtrace/schemas';
import { createRegistry, Dependencies, runService, startHealthServer, type HealthServer } from '@killtrace/service-http';
import { ContextChannel } from './context-channel.js';
import { compileOptions } from './correlator-options.js';
import { CorrelatorError, EXIT_RUNTIME } from './errors.js';
import { Pipeline } from './pipeline.js';
import { RecordSink, SinkFatal } from './record-sink.js';
import { SnapshotStore } from './snapshots.js';
import { prepareTopics } from './startup.js';
import { loadStepProfiles } from './step-profiles.js';
import { createTelemetry } from './telemetry.js';

/** A running correlator: close it to shut down gracefully. */
export interface RunningCorrelator {
  httpPort: number;
  pipeline: Pipeline;
  /**
   * Re-reads `correlation.profiles` (main() calls it on SIGHUP) and swaps them in without losing state. Resolves
   * false, keeping the previous profiles, when a file cannot be used (logged with the file, line and key).
   */
  reloadProfiles(): Promise<boolean>;
  close(): Promise<void>;
}

/** Replaceable ports of the composition (only the pipeline benchmark replaces one: bench/lib/correlator-platformatic.ts). */
export interface CorrelatorPorts {
  createBatchConsumer?: typeof createBatchConsumer;
}

/**
 * Composition root: configuration -> health server -> adapters (each waited for with back-off: Kafka and
 * Elasticsearch may come up after the correlator) -> pipeline -> start. Resolves once the pipeline runs; only a
 * configuration the servers contradict (topics not co-partitioned) rejects, or `signal` aborting the wait.
 */
export async function startCorrelator(config: Config, logger: Logger, signal?: AbortSignal, ports: CorrelatorPorts = {}): Promise<RunningCorrelator> {
  const options = compileOptions(config);
  // Checked before anything connects or waits: a broken profile file is a configuration error, exit 2.
  const profiles = await loadStepProfiles(config.correlation.profiles);
  logger.info({ event: 'ProfilesLoaded', files: config.correlation.profiles, profiles: profiles.map((p) => p.name) }, 'step profiles loaded');
  const registry = createRegistry('correlator');
  const dependencies = new Dependencies(logger);
  const ref: { pipeline?: Pipeline; context?: ContextChannel } = {};
  // Alive from the start, ready once every dependency answered and the pipeline runs.
  const http: HealthServer = await startHealthServer({
    port: config.http.port,
    registry,
    readiness: [
      { name: 'dependencies', check: () => dependencies.readiness() },
      { name: 'pipeline', check: () => ref.pipeline?.readiness() ?? { ok: false, detail: 'not started: waiting for its dependencies' } },
      { name: 'context', check: () => ref.context?.readiness() ?? { ok: false, detail: 'not started: waiting for its dependencies' } },
    ],
  });
  logger.info({ event: 'HttpListening', port: http.port }, 'health and metrics server listening');
  const wait = { initialMs: options.retryInitialMs, maxMs: options.retryMaxMs, ...(signal === undefined ? {} : { signal }) };
  const kafka = createKafkaClient(config.kafka, { logger, clientId: `${config.kafka.clientId}-correlator` });
  // The correlator retries on its own (with back-off and consumer pause), so the client fails fast.
  const elastic = createElasticClient(config.elasticsearch, { requestTimeoutMs: 10_000, maxRetries: 0 });
  const producer = createProducer(kafka, { compression: config.kafka.compression });
  // The records topic gets producers of its own, by partition: it is the longer of the sink's two writes (producer-group.ts).
  const recordProducers = createProducerGroup(kafka, { compression: config.kafka.compression, size: config.correlator.recordProducers });
  const alias = config.elasticsearch.indexPrefix;
  try {
    const { partitions, created } = await dependencies.until('kafka', 'topics', () => prepareTopics(kafka, config.kafka), { ...wait, fatal: (e) => e instanceof CorrelatorError });
    logger.info({ event: 'TopicsReady', partitions, created }, 'topics ready and co-partitioned');
    const template = await dependencies.until('elasticsearch', 'index template', () => installIndexTemplate(elastic, { alias }), wait);
    logger.info({ event: 'IndexTemplateReady', ...template }, 'index template installed');
    await dependencies.until('kafka', 'producer', () => producer.connect(), wait);
    await dependencies.until('kafka', 'records producers', () => recordProducers.connect(), wait);
    // The whole cluster context is read before any partition emits: records rest on the complete history at once.
    ref.context = new ContextChannel({
      kafka,
      topic: config.kafka.topics.context,
      partitions,
      groupPrefix: `${config.kafka.clientId}-correlator`,
      instance: config.clusterName,
      logger,
      publishEveryMs: Math.max(500, options.flushIntervalMs),
      registry,
    });
    const channel = ref.context;
    await dependencies.until('kafka', 'context topic', () => channel.connect(), wait);
    await channel.loaded(signal);
  } catch (error) {
    await ref.context?.stop().catch(() => undefined);
    await elastic.close().catch(() => undefined);
    await http.close().catch(() => undefined);
    throw error;
  }
  const telemetry = createTelemetry(registry, logger);
  const sink = new RecordSink({
    elastic,
    alias,
    records: recordProducers.topic(config.kafka.topics.records, recordMessageSchema),
    deadLetter: producer.topic(config.kafka.topics.deadLetter, deadLetterMessageSchema),
    telemetry,
    retryInitialMs: options.retryInitialMs,
    retryMaxMs: options.retryMaxMs,
    onDegraded: (degraded, reason) => ref.pipeline?.sinkDegraded(degraded, reason),
  });
  let fatal: (error: Error) => void = () => undefined;
  const contextChannel = ref.context;
  const snapshots = options.snapshots && new SnapshotStore({ kafka, producer, topic: options.snapshots.topic, groupId: options.groupId, logger, registry });
  const pipeline = new Pipeline({ kafka, sink, options, logger, telemetry, profiles, onFatal: (error) => fatal(error), context: contextChannel?.context, ...(snapshots ? { snapshots } : {}), ...ports });
  ref.pipeline = pipeline;
  const running = pipeline;
  await pipeline.start();
  contextChannel?.run(() => pipeline.partitionStates());
  logger.info({ event: 'CorrelatorStarted', groupId: options.groupId, alias, stateWindowMs: options.stateWindowMs }, 'correlator started');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await running.stop();
      await contextChannel?.stop();
      await producer.disconnect().catch(() => undefined);
      await recordProducers.disconnect();
      await elastic.close().catch(() => undefined);
      await http.close().catch(() => undefined);
    })());
  fatal = (error) => {
    if (error instanceof SinkFatal) logger.fatal({ err: error, code: error.code }, 'a sink failed for good; exiting so the orchestrator restarts the correlator');
    else logger.fatal({ err: error, code: 'KT_ERR_CORRELATOR_CONSUMER_CRASHED' }, 'consumer crashed for good');
    void close().finally(() => process.exit(EXIT_RUNTIME));
  };
  const reloadProfiles = async (): Promise<boolean> => {
    const files = config.correlation.profiles;
    try {
      const next = await loadStepProfiles(files);
      pipeline.setProfiles(next);
      telemetry.profilesReloaded('ok', { files, profiles: next.map((p) => p.name) });
      return true;
    } catch (error) {
      telemetry.profilesReloaded('failed', { files, err: error });
      return false;
    }
  };
  return { httpPort: http.port, pipeline, reloadProfiles, close };
}

/** The process entry: runs until SIGTERM/SIGINT, then shuts down gracefully (libs/service-http runService). Returns the exit code. */
export function main(): Promise<number> {
  // SIGHUP re-reads the step profiles (README "Step profiles"); state, offsets and records are kept. Handled from
  // the start, so a SIGHUP while the dependencies are awaited does not end the process (its default action).
  let reload: () => void = () => undefined;
  process.on('SIGHUP', () => reload());
  return runService({
    name: 'correlator',
    startupErrorCode: 'KT_ERR_CORRELATOR_STARTUP',
    async start({ config, logger, signal }) {
      reload = () => logger.warn({ event: 'ProfilesReloadIgnored' }, 'SIGHUP ignored: the correlator is still starting; send it again once it is ready');
      const running = await startCorrelator(config, logger, signal);
      reload = () => void running.reloadProfiles();
      return {
        async close() {
          await running.close();
          logger.info({ event: 'CorrelatorStopped' }, 'correlator stopped');
        },
      };
    },
  });
}
