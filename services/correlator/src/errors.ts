/** Exit codes of the correlator process. */
export const EXIT_OK = 0;
/** Configuration or topology the correlator refuses to run with (fix and restart). */
export const EXIT_CONFIG = 2;
/** A failure at run time that retrying in-process cannot fix (the orchestrator restarts the pod). */
export const EXIT_RUNTIME = 1;

/** Every error code the correlator raises, with what it means. */
export const correlatorErrorCodes = {
  /** `signals` and `logs` have different partition counts, so a pod's evidence would be split across instances. */
  KT_ERR_CORRELATOR_NOT_COPARTITIONED: 'signals and logs topics are not co-partitioned',
  /** A topic the correlator needs does not exist and could not be created. */
  KT_ERR_CORRELATOR_TOPIC_MISSING: 'required topic missing',
  /** The Kafka consumer stopped and could not be restarted. */
  KT_ERR_CORRELATOR_CONSUMER_CRASHED: 'Kafka consumer crashed',
  /** Startup did not finish (Kafka or Elasticsearch unreachable) within the allowed time. */
  KT_ERR_CORRELATOR_STARTUP: 'startup failed',
  /** A sink (Elasticsearch, records topic) failed repeatedly with an error retrying does not fix; the process exits. */
  KT_ERR_CORRELATOR_SINK_FATAL: 'sink failed for good',
  /** A file of `correlation.profiles` is missing or not a valid step-profile file (at start, or on SIGHUP). */
  KT_ERR_CORRELATOR_PROFILE_INVALID: 'step profile file unusable',
  /** An entry of the context topic is not a valid context message (ignored; the key keeps its previous fact). */
  KT_ERR_CORRELATOR_CONTEXT_INVALID: 'context topic entry invalid',
  /** The context topic reader stopped for good: the cluster context no longer follows the topic (not ready). */
  KT_ERR_CORRELATOR_CONTEXT_READER: 'context topic reader stopped',
} as const;
export type CorrelatorErrorCode = keyof typeof correlatorErrorCodes;

/** An error of the correlator service, with its code and the exit code it maps to. */
export class CorrelatorError extends Error {
  override readonly name = 'CorrelatorError';

  constructor(
    readonly code: CorrelatorErrorCode,
    message: string,
    readonly exitCode: number = EXIT_CONFIG,
    options: { cause?: unknown } = {},
  ) {
    super(`${code}: ${message}`, { cause: options.cause });
  }
}
