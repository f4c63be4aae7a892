import { hostname } from 'node:os';
import process from 'node:process';
import { ConfigError, loadConfig, secretPaths, type Config } from '@killtrace/config';
import { createKafkaClient, createProducer, ensureTopics, killtraceTopics } from '@killtrace/kafka';
import { createLogger, type Logger } from '@killtrace/logging';
import { createRegistry, startHealthServer, type HealthServer } from '@killtrace/service-http';
import { CollectorError } from './errors.js';
import type { StartNodeAgent } from './node-agent-contract.js';
import { startNodeAgent as nodeAgentEntry } from './node-agent/index.js';
import { createPublisherMetrics, createSignalPublisher } from './publish/index.js';

/**
 * `killtrace-collector <mode>`: the composition root. Configuration -> logger, metrics registry -> Kafka topics and
 * the connected publisher -> the mode (cluster-watcher or node-agent, both `(deps) => { close, ready }`) -> the
 * health server -> wait for SIGTERM/SIGINT -> stop the mode, flush and disconnect the producer, stop serving.
 */

/** The node agent's entry, held to the contract both sides agreed on. */
const startNodeAgent: StartNodeAgent = nodeAgentEntry;

export const COLLECTOR_MODES = ['cluster-watcher', 'node-agent'] as const;
export type CollectorMode = (typeof COLLECTOR_MODES)[number];

/** What both modes return (the node agent's `NodeAgentHandle`, the cluster watcher's `ClusterWatcher`). */
interface ModeHandle {
  close(): Promise<void>;
  ready(): boolean;
  /** The readiness with the reason when not ready (the cluster watcher's); else `ready()` is used. */
  readiness?(): { ok: boolean; detail?: string };
}

const USAGE = `usage: killtrace-collector <cluster-watcher|node-agent>
  The mode may also come from KILLTRACE_COLLECTOR_MODE (collector.mode). Every other setting comes from
  KILLTRACE_CONFIG_FILE and the environment (see the configuration reference in the README).`;

const SHUTDOWN_DEADLINE_MS = 25_000;

/** The mode from the first argument, else the configuration; throws KT_ERR_COLLECTOR_MODE. */
export function resolveMode(args: readonly string[], configured: CollectorMode | undefined): CollectorMode {
  const given = args.find((a) => !a.startsWith('-'));
  const mode = given ?? configured;
  if (mode === undefined) throw new CollectorError('KT_ERR_COLLECTOR_MODE', `no mode given\n${USAGE}`);
  if (!(COLLECTOR_MODES as readonly string[]).includes(mode)) throw new CollectorError('KT_ERR_COLLECTOR_MODE', `unknown mode ${JSON.stringify(mode)}\n${USAGE}`, { mode });
  return mode as CollectorMode;
}

export interface RunningCollector {
  mode: CollectorMode;
  /** The health server's port. */
  port: number;
  ready(): boolean;
  shutdown(reason: string): Promise<void>;
}

/** Starts the collector in a mode; the caller owns signals and the exit code (see `main`). */
export async function startCollector(mode: CollectorMode, config: Config, logger: Logger): Promise<RunningCollector> {
  const registry = createRegistry(`collector-${mode}`);
  const kafka = createKafkaClient(config.kafka, { logger, clientId: `${config.kafka.clientId}-${mode}` });
  try {
    const report = await ensureTopics(kafka, killtraceTopics(config.kafka));
    if (report.created.length > 0) logger.info({ topics: report.created }, 'created topics');
    for (const m of report.mismatches) logger.warn(m, 'existing topic differs from the configuration');
  } catch (cause) {
    throw new CollectorError('KT_ERR_COLLECTOR_KAFKA', `cannot set up the topics: ${(cause as Error).message}`, { brokers: config.kafka.brokers }, { cause });
  }
  const instance = mode === 'cluster-watcher' ? config.clusterName : (config.nodeAgent.nodeName ?? hostname());
  const publisher = createSignalPublisher({
    producer: createProducer(kafka, { compression: config.kafka.compression }),
    topics: config.kafka.topics,
    producerRef: { component: mode, instance },
    logger,
    metrics: createPublisherMetrics(registry),
  });
  await publisher.connect();
  let handle: ModeHandle;
  try {
    handle =
      mode === 'cluster-watcher'
        ? // Loaded only in this mode: the Kubernetes client alone adds ~85 MB of RSS, paid on every node otherwise.
          await (await import('./cluster-watcher/index.js')).startClusterWatcher({ config, logger, publisher, registry })
        : await startNodeAgent({ config, logger, publisher, registry });
  } catch (error) {
    await publisher.close().catch(() => undefined);
    throw error;
  }
  let health: HealthServer;
  try {
    health = await startHealthServer({
      port: config.http.port,
      registry,
      readiness: [
        { name: 'kafka', check: () => ({ ok: publisher.connected(), ...(publisher.connected() ? {} : { detail: 'producer not connected' }) }) },
        {
          name: mode,
          check: () => handle.readiness?.() ?? { ok: handle.ready(), ...(handle.ready() ? {} : { detail: 'not tailing yet' }) },
        },
      ],
    });
  } catch (error) {
    await handle.close().catch(() => undefined);
    await publisher.close().catch(() => undefined);
    throw error;
  }
  logger.info({ mode, instance, port: health.port }, 'collector started');
  let stopping: Promise<void> | undefined;
  return {
    mode,
    port: health.port,
    ready: () => publisher.connected() && handle.ready(),
    shutdown(reason) {
      stopping ??= (async () => {
        logger.info({ reason }, 'shutting down');
        try {
          await handle.close();
        } finally {
          await publisher.close();
          await health.close();
        }
        logger.info('collector stopped');
      })();
      return stopping;
    },
  };
}

/** The process entry: returns the exit code. Runs until SIGTERM or SIGINT. */
export async function main(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const args = argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let config: Config;
  try {
    config = loadConfig({ env });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const logger = createLogger({ name: 'collector', level: config.logging.level, format: config.logging.format, redact: secretPaths().map((p) => `config.${p}`) });
  let collector: RunningCollector;
  try {
    const mode = resolveMode(args, config.collector.mode);
    collector = await startCollector(mode, config, logger);
  } catch (error) {
    const code = error instanceof CollectorError ? error.exitCode : 1;
    logger.fatal({ err: error, ...(error instanceof CollectorError ? { code: error.code, context: error.context } : {}) }, 'collector could not start');
    logger.flush();
    return code;
  }
  return new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      const deadline = setTimeout(() => {
        logger.error({ code: 'KT_ERR_COLLECTOR_SHUTDOWN_TIMEOUT', deadlineMs: SHUTDOWN_DEADLINE_MS }, 'graceful shutdown timed out');
        logger.flush();
        resolve(1);
      }, SHUTDOWN_DEADLINE_MS);
      deadline.unref();
      collector.shutdown(signal).then(
        () => {
          clearTimeout(deadline);
          logger.flush();
          resolve(0);
        },
        (error: unknown) => {
          clearTimeout(deadline);
          logger.error({ err: error }, 'shutdown failed');
          logger.flush();
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
