import { codedMessage, EXIT_CONFIG, KilltraceError, type ErrorContext } from '@killtrace/errors';

/** Exit codes of the alerter process: the services' shared ones (libs/errors/src/exit-codes.ts). */
export { EXIT_CONFIG, EXIT_OK, EXIT_RUNTIME } from '@killtrace/errors';

/** Every error code the alerter raises, with what it means. */
export const alerterErrorCodes = {
  /** The rules file is missing, unreadable, or names a bad rule, field or receiver. */
  KT_ERR_ALERTER_RULES_INVALID: 'rules file invalid',
  /** No receiver is configured, so no alert could ever be delivered. */
  KT_ERR_ALERTER_NO_RECEIVERS: 'no receivers',
  /** A receiver's secret (HMAC key, Slack URL) names an environment variable that is not set. */
  KT_ERR_ALERTER_SECRET_MISSING: 'receiver secret missing',
  /** The state file exists but cannot be read or is not a state file of this version. */
  KT_ERR_ALERTER_STATE_UNREADABLE: 'state file unreadable',
  /** The state directory cannot be written: nothing could be queued durably. */
  KT_ERR_ALERTER_STATE_UNWRITABLE: 'state directory unwritable',
  /** The Kafka consumer stopped and could not be restarted. */
  KT_ERR_ALERTER_CONSUMER_CRASHED: 'Kafka consumer crashed',
  /** Startup did not finish (Kafka unreachable, state unreadable). */
  KT_ERR_ALERTER_STARTUP: 'startup failed',
  /** A receiver answered or failed in a way a retry may fix (5xx, 408, 429, connection refused, timeout). */
  KT_ERR_ALERTER_DELIVERY_RETRIABLE: 'delivery failed, will retry',
  /** A receiver refused a notification for good (other 4xx): it is dropped and logged. */
  KT_ERR_ALERTER_DELIVERY_REFUSED: 'delivery refused',
} as const;
export type AlerterErrorCode = keyof typeof alerterErrorCodes;

/** An error of the alerter service, with its code and the exit code it maps to. */
export class AlerterError extends KilltraceError<AlerterErrorCode> {
  override readonly name = 'AlerterError';
  declare readonly exitCode: number;

  constructor(code: AlerterErrorCode, message: string, exitCode: number = EXIT_CONFIG, options: { cause?: unknown; context?: ErrorContext } = {}) {
    super(code, codedMessage(code, message), { ...options, exitCode });
  }
}
