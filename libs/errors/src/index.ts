/** @killtrace/errors: the one coded error shape every package extends (pure: no I/O). */
export {
  KilltraceError,
  codedMessage,
  errorCodeOf,
  isKilltraceError,
  serializeError,
  ERROR_CODE_PATTERN,
  type CodedErrorOptions,
  type ErrorContext,
  type SerializedError,
} from './coded-error.js';
export { EXIT_CONFIG, EXIT_OK, EXIT_RUNTIME } from './exit-codes.js';
