import { hostname } from 'node:os';
import process from 'node:process';
import { loadConfig, type Config } from '@killtrace/config';
import { createKafkaClient, createProducer, createTableWriter, ensureTopics, killtraceTopics, type TableWriter } from '@killtrace/kafka';
import type { Logger } from '@killtrace/logging';
import { contextMessageSchema } from '@killtrace/schemas';
import { createRegistry, Dependencies, runService, startHealthServer, type HealthServer } from '@killtrace/service-http';
import { CollectorError } from './errors.js';
import type { StartNodeAgent } from './node-agent-contract.js';
import { startNodeAgent as nodeAgentEntry } from './node-agent/index.js';
import { createPublisherMetrics, createSignalPublisher } from './publish/index.js';
import { ensureNodeAgentHeap, NODE_AGENT_NODE_OPTIONS } from './node-agent/v8-heap.js';

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

/**
 * Starts the collector in a mode; the caller owns signals and the exit code (see `main`). The health server comes
 * first: alive while Kafka is waited for with back-off (it may come up after the collector), ready once Kafka and
 * the mode are (the cluster watcher's informers retry the API server on their own).
 */
export async function startCollector(mode: CollectorMode, config: Config, logger: Logger, signal?: AbortSignal): Promise<RunningCollector> {
  const registry = createRegistry(`collector-${mode}`);
  const dependencies = new Dependencies(logger);
  const started: { handle?: ModeHandle; publisher?: { connected(): boolean } } = {};
  const health: HealthServer = await startHealthServer({
    port: config.http.port,
    registry,
    readiness: [
      { name: 'dependencies', check: () => dependencies.readiness() },
      { name: 'kafka', check: () => (started.publisher?.connected() === true ? { ok: true } : { ok: false, detail: 'producer not connected' }) },
      {
        name: mode,
        check: () => {
          const handle = started.handle;
          if (handle === undefined) return { ok: false, detail: 'not started: waiting for Kafka' };
          return handle.readiness?.() ?? { ok: handle.ready(), ...(handle.ready() ? {} : { detail: 'not tailing yet' }) };
        },
      },
    ],
  });
  try {
    return await startMode(mode, config, logger, registry, dependencies, started, health, signal);
  } catch (error) {
    await health.close().catch(() => undefined);
    throw error;
  }
}

async function startMode(
  mode: CollectorMode,
  config: Config,
  logger: Logger,
  registry: ReturnType<typeof createRegistry>,
  dependencies: Dependencies,
  started: { handle?: ModeHandle; publisher?: { connected(): boolean } },
  health: HealthServer,
  signal: AbortSignal | undefined,
): Promise<RunningCollector> {
  const kafka = createKafkaClient(config.kafka, { logger, clientId: `${config.kafka.clientId}-${mode}` });
  const wait = { initialMs: 500, maxMs: config.clusterWatcher.retryMaxMs, ...(signal === undefined ? {} : { signal }) };
  const report = await dependencies.until('kafka', 'topics', () => ensureTopics(kafka, killtraceTopics(config.kafka)), wait);
  if (report.created.length > 0) logger.info({ topics: report.created }, 'created topics');
  for (const m of report.mismatches) logger.warn(m, 'existing topic differs from the configuration');
  const instance = mode === 'cluster-watcher' ? config.clusterName : (config.nodeAgent.nodeName ?? hostname());
  const publisher = createSignalPublisher({
    producer: createProducer(kafka, { compression: config.kafka.compression }),
    topics: config.kafka.topics,
    producerRef: { component: mode, instance },
    logger,
    metrics: createPublisherMetrics(registry),
  });
  await dependencies.until('kafka', 'producer', () => publisher.connect(), wait);
  started.publisher = publisher;
  let handle: ModeHandle;
  let contextWriter: TableWriter<typeof contextMessageSchema> | undefined;
  try {
    if (mode === 'cluster-watcher') {
      // Loaded only in this mode: the Kubernetes client alone adds ~85 MB of RSS, paid on every node otherwise.
      const watcher = await import('./cluster-watcher/index.js');
      // Node facts (class labels) go to the compacted context topic every correlator reads (decision 0017).
      contextWriter = createTableWriter(kafka, config.kafka.topics.context, contextMessageSchema);
      await dependencies.until('kafka', 'context writer', () => (contextWriter as NonNullable<typeof contextWriter>).connect(), wait);
      const deps = { config, logger, publisher, registry, contextWriter };
      handle = config.clusterWatcher.leaderElection ? watcher.startElectedClusterWatcher(deps) : await watcher.startClusterWatcher(deps);
    } else {
      handle = await startNodeAgent({ config, logger, publisher, registry });
    }
  } catch (error) {
    await publisher.close().catch(() => undefined);
    await contextWriter?.disconnect().catch(() => undefined);
    throw error;
  }
  started.handle = handle;
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
          await contextWriter?.disconnect().catch(() => undefined);
          await health.close();
        }
        logger.info('collector stopped');
      })();
      return stopping;
    },
  };
}

/**
 * For bin/killtrace-collector.js, before anything starts: in node-agent mode, re-executes this process with the agent's
 * V8 heap flags when they are missing (src/node-agent/v8-heap.ts); returns why it did not (undefined: another mode,
 * or a configuration error `main` reports).
 */
export function ensureHeapForMode(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): ReturnType<typeof ensureNodeAgentHeap> | undefined {
  try {
    const config = loadConfig({ env });
    if (resolveMode(argv.slice(2), config.collector.mode) !== 'node-agent') return undefined;
    return ensureNodeAgentHeap(config.nodeAgent.v8HeapDefaults);
  } catch {
    return undefined;
  }
}

/**
 * The process entry (libs/service-http runService): returns the exit code. Runs until SIGTERM or SIGINT; a shutdown
 * still running after SHUTDOWN_DEADLINE_MS exits 1. `heap`: what ensureHeapForMode returned (the node agent warns
 * when it runs without its heap defaults).
 */
export async function main(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env, heap?: ReturnType<typeof ensureHeapForMode>): Promise<number> {
  const args = argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  return runService({
    name: 'collector',
    startupErrorCode: 'KT_ERR_COLLECTOR_STARTUP',
    env,
    shutdownDeadline: { deadlineMs: SHUTDOWN_DEADLINE_MS, timeoutCode: 'KT_ERR_COLLECTOR_SHUTDOWN_TIMEOUT' },
    async start({ config, logger, signal }) {
      if (heap === 'unsupported') {
        logger.warn({ node: process.version, NODE_OPTIONS: NODE_AGENT_NODE_OPTIONS }, 'the node agent runs without its V8 heap defaults (this Node has no process.execve to restart with them): set NODE_OPTIONS as the DaemonSets do, or its memory may exceed 100 MiB');
      }
      const collector = await startCollector(resolveMode(args, config.collector.mode), config, logger, signal);
      return { close: () => collector.shutdown(String(signal.reason)) };
    },
  });
}
