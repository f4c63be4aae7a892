import { codedMessage, EXIT_CONFIG, KilltraceError, type ErrorContext } from '@killtrace/errors';

/** Exit codes of the correlator process: the services' shared ones (libs/errors/src/exit-codes.ts). */
export { EXIT_CONFIG, EXIT_OK, EXIT_RUNTIME } from '@killtrace/errors';

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
export class CorrelatorError extends KilltraceError<CorrelatorErrorCode> {
  override readonly name = 'CorrelatorError';
  declare readonly exitCode: number;

  constructor(code: CorrelatorErrorCode, message: string, exitCode: number = EXIT_CONFIG, options: { cause?: unknown; context?: ErrorContext } = {}) {
    super(code, codedMessage(code, message), { ...options, exitCode });
  }
}
