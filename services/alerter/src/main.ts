import process from 'node:process';
import type { RuleSet } from '@killtrace/alerting';
import type { Config } from '@killtrace/config';
import { createKafkaClient, ensureTopics, killtraceTopics } from '@killtrace/kafka';
import type { Logger } from '@killtrace/logging';
import { createRegistry, Dependencies, runService, startHealthServer, type HealthServer } from '@killtrace/service-http';
import { Alerter } from './alerter.js';
import { AlerterError, EXIT_RUNTIME } from './errors.js';
import { loadRuleSet } from './load-rules.js';
import { createReceiverClient, type ReceiverClient } from './receivers.js';
import { createTelemetry } from './telemetry.js';

/** A running alerter: close it to shut down gracefully. */
export interface RunningAlerter {
  httpPort: number;
  alerter: Alerter;
  rules: RuleSet;
  /** Where the state file lives (`alerter.stateDir`). */
  stateDir: string;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Environment the receivers' secrets (`secretEnv`, `urlEnv`) are read from; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Aborting stops the wait for Kafka at start (shutdown). */
  signal?: AbortSignal;
}

/** Composition root: configuration -> rules -> receivers -> Kafka consumer and delivery queue -> start. */
export async function startAlerter(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningAlerter> {
  const a = config.alerter;
  const rules = await loadRuleSet(a);
  if (rules.receivers.length === 0) {
    throw new AlerterError(
      'KT_ERR_ALERTER_NO_RECEIVERS',
      `no receiver configured: set alerter.alertmanagerUrl (KILLTRACE_ALERTER_ALERTMANAGER_URL) or list receivers in the rules file${a.rulesFile === undefined ? ' (alerter.rulesFile)' : ` ${a.rulesFile}`}`,
    );
  }
  const clients = new Map<string, ReceiverClient>();
  for (const receiver of rules.receivers) {
    clients.set(
      receiver.name,
      createReceiverClient(receiver, {
        links: {
          ...(a.timelineUrl === undefined ? {} : { timelineUrl: a.timelineUrl }),
          ...(a.kibanaUrl === undefined ? {} : { kibanaUrl: a.kibanaUrl }),
          ...(a.kibanaDataView === undefined ? {} : { kibanaDataView: a.kibanaDataView }),
        },
        timeoutMs: a.deliveryTimeoutMs,
        env: options.env ?? process.env,
      }),
    );
  }
  logger.info(
    { event: 'RulesLoaded', rules: rules.rules.map((r) => ({ name: r.name, severity: r.severity, receivers: r.receivers })), receivers: rules.receivers.map((r) => `${r.name} (${r.type})`) },
    'alert rules loaded',
  );
  const kafka = createKafkaClient(config.kafka, { logger, clientId: `${config.kafka.clientId}-alerter` });
  const registry = createRegistry('alerter');
  // Alive from the start, ready once Kafka answered and the alerter runs: waiting for Kafka is not a crash loop.
  const dependencies = new Dependencies(logger);
  const ref: { alerter?: Alerter } = {};
  const http: HealthServer = await startHealthServer({
    port: config.http.port,
    registry,
    readiness: [
      { name: 'dependencies', check: () => dependencies.readiness() },
      { name: 'alerter', check: () => ref.alerter?.readiness() ?? { ok: false, detail: 'not started: waiting for its dependencies' } },
    ],
  });
  logger.info({ event: 'HttpListening', port: http.port }, 'health and metrics server listening');
  try {
    await dependencies.until('kafka', 'records topic', () => ensureTopics(kafka, killtraceTopics(config.kafka).filter((t) => t.topic === config.kafka.topics.records)), {
      initialMs: a.retryInitialMs,
      maxMs: a.retryMaxMs,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  } catch (error) {
    await http.close().catch(() => undefined);
    throw error;
  }
  const telemetry = createTelemetry(registry, logger);
  let fatal: (error: Error) => void = () => undefined;
  const alerter = new Alerter({
    kafka,
    topic: config.kafka.topics.records,
    groupId: a.groupId ?? `${config.kafka.clientId}.alerter`,
    rules,
    clients,
    stateDir: a.stateDir,
    maxKillAgeMs: a.maxKillAgeMs,
    tickIntervalMs: a.tickIntervalMs,
    retryInitialMs: a.retryInitialMs,
    retryMaxMs: a.retryMaxMs,
    maxQueued: a.maxQueued,
    logger,
    telemetry,
    onFatal: (error) => fatal(error),
  });
  ref.alerter = alerter;
  try {
    await alerter.start();
  } catch (error) {
    await alerter.stop().catch(() => undefined);
    await http.close().catch(() => undefined);
    throw error;
  }
  logger.info({ event: 'AlerterStarted', topic: config.kafka.topics.records, stateDir: a.stateDir }, 'alerter started');
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await alerter.stop();
      await http.close().catch(() => undefined);
    })());
  fatal = (error) => {
    logger.fatal({ err: error, code: 'KT_ERR_ALERTER_CONSUMER_CRASHED' }, 'consumer crashed for good');
    void close().finally(() => process.exit(EXIT_RUNTIME));
  };
  return { httpPort: http.port, alerter, rules, stateDir: a.stateDir, close };
}

/** The process entry: runs until SIGTERM/SIGINT, then shuts down gracefully (libs/service-http runService). */
export function main(): Promise<number> {
  return runService({ name: 'alerter', startupErrorCode: 'KT_ERR_ALERTER_STARTUP', start: ({ config, logger, signal }) => startAlerter(config, logger, { signal }) });
}
