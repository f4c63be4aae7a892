/** @killtrace/logging: the one way services log, JSON by default, pretty on a terminal, secrets redacted. */
export { createLogger, resolveLogFormat, type LoggerSettings, type LogLevel, type LogFormat } from './logger.js';
export { redactionPaths, SECRET_KEYS, REDACTED } from './redaction.js';
export type { Logger } from 'pino';
