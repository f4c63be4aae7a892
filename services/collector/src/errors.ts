import { codedMessage, KilltraceError } from '@killtrace/errors';

/**
 * The collector's error catalogue: every code, what it means and the process exit code when it ends the process.
 * `errors.test.ts` checks each code is unique, prefixed `KT_ERR_COLLECTOR_` and described.
 */
export const collectorErrorCodes = {
  /** No mode argument or `collector.mode`, or an unknown one. */
  KT_ERR_COLLECTOR_MODE: { message: 'unknown or missing collector mode', exitCode: 2 },
  /** The kubeconfig (file, `$KUBECONFIG`, in-cluster service account) could not be loaded or has no cluster. */
  KT_ERR_COLLECTOR_KUBECONFIG: { message: 'cannot load Kubernetes credentials', exitCode: 2 },
  /** A LIST of pods or events failed (HTTP status, network, unparsable body). */
  KT_ERR_COLLECTOR_LIST: { message: 'listing from the Kubernetes API failed', exitCode: 1 },
  /** A watch failed for another reason than a clean end or 410 Gone. */
  KT_ERR_COLLECTOR_WATCH: { message: 'watching the Kubernetes API failed', exitCode: 1 },
  /** The API server denied a LIST or WATCH (403) while it was ready: the ServiceAccount lacks a permission. */
  KT_ERR_COLLECTOR_FORBIDDEN: { message: 'the Kubernetes API denied a permission the watcher needs', exitCode: 1 },
  /** Reading, taking or renewing the leader-election Lease failed (retried; the leader stops watching past its renew deadline). */
  KT_ERR_COLLECTOR_LEASE: { message: 'the leader-election Lease could not be read or written', exitCode: 1 },
  /** Signals could not be produced to Kafka after retries. */
  KT_ERR_COLLECTOR_PUBLISH: { message: 'publishing to Kafka failed', exitCode: 1 },
  /** The producer could not connect, or the topics could not be set up. */
  KT_ERR_COLLECTOR_KAFKA: { message: 'the producer could not connect to Kafka (retried with back-off at start)', exitCode: 1 },
  /** The collector failed to start for a reason that carries no code of its own (logged with the cause). */
  KT_ERR_COLLECTOR_STARTUP: { message: 'the collector failed to start', exitCode: 1 },
  /** Shutdown did not finish within its deadline. */
  KT_ERR_COLLECTOR_SHUTDOWN_TIMEOUT: { message: 'graceful shutdown timed out', exitCode: 1 },
} as const;
export type CollectorErrorCode = keyof typeof collectorErrorCodes;

/** An error of the collector, with its code, the context it happened in (path, status, topic...) and an exit code. */
export class CollectorError extends KilltraceError<CollectorErrorCode> {
  override readonly name = 'CollectorError';
  declare readonly exitCode: number;

  constructor(code: CollectorErrorCode, message: string, context: Record<string, unknown> = {}, options: { cause?: unknown } = {}) {
    super(code, codedMessage(code, message), { cause: options.cause, context, exitCode: collectorErrorCodes[code].exitCode });
  }
}
