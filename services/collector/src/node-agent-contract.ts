import type { Config } from '@killtrace/config';
import type { Logger } from '@killtrace/logging';
import type { Registry } from 'prom-client';
import type { LogBatchPublisher, SignalPublisher } from './publish/types.js';

/**
 * The interface between the collector's entry (`main.ts`) and the node-agent mode (`./node-agent/index.js`).
 * main.ts loads the configuration, creates the logger, the metrics registry and the connected publisher, then calls
 * `startNodeAgent(deps)`; it serves /healthz, /readyz (ready() && publisher connected) and /metrics itself, and on
 * SIGTERM/SIGINT calls `close()` before flushing and disconnecting the publisher.
 */
export interface NodeAgentDeps {
  config: Config;
  logger: Logger;
  /** Connected; validates, keys by pod uid, stamps event time, dead-letters invalid signals. */
  publisher: SignalPublisher & LogBatchPublisher;
  /** Register the node agent's metrics here (names prefixed `killtrace_node_agent_`). */
  registry: Registry;
}

export interface NodeAgentHandle {
  /** Stops tailing and resolves once every signal read so far has been handed to the publisher. */
  close(): Promise<void>;
  /** True once the node agent is tailing its inputs (readiness). */
  ready(): boolean;
  /** `ready()` with the reason when not ready (e.g. the kubelet journal cannot be read). */
  readiness?(): { ok: boolean; detail?: string };
}

/** Exported as `startNodeAgent` from `services/collector/src/node-agent/index.ts`. */
export type StartNodeAgent = (deps: NodeAgentDeps) => Promise<NodeAgentHandle>;
