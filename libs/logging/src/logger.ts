import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';
import { isKilltraceError, serializeError } from '@killtrace/errors';
import { REDACTED, redactionPaths } from './redaction.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LoggerSettings {
  /** Component name, logged as `name` on every line (e.g. `collector`). */
  name: string;
  level?: LogLevel;
  /** `auto`: pretty when stdout is a terminal, JSON otherwise (what log shippers expect). */
  format?: LogFormat;
  /** More redaction paths (pino syntax), e.g. the configuration's secret paths under `config.`. */
  redact?: readonly string[];
  /** Where lines go; defaults to stdout. Tests pass a stream to read them back. */
  destination?: DestinationStream;
}

/** Resolves `auto` to the concrete format for this process. */
export function resolveLogFormat(format: LogFormat, stdoutIsTty: boolean = process.stdout.isTTY === true): 'json' | 'pretty' {
  return format === 'auto' ? (stdoutIsTty ? 'pretty' : 'json') : format;
}

/** Creates the process logger: JSON lines by default, pretty on a terminal, secrets always redacted. */
export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    name: settings.name,
    level: settings.level ?? 'info',
    redact: { paths: redactionPaths(settings.redact), censor: REDACTED },
    // ISO timestamps read well in both formats and sort lexically in Elasticsearch and files.
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // A coded error logs its code, context and exit code as fields (libs/errors); anything else as pino shows it.
    serializers: { err: (value: unknown) => (isKilltraceError(value) ? serializeError(value) : pino.stdSerializers.err(value as Error)) },
  };
  const format = resolveLogFormat(settings.format ?? 'auto');
  if (format === 'pretty') {
    // In-process pretty printing (no worker thread): simpler to reason about for a developer's terminal.
    const stream = pretty({
      colorize: settings.destination === undefined && process.stdout.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      ...(settings.destination === undefined ? {} : { destination: settings.destination as NodeJS.WritableStream }),
    });
    return pino(options, stream);
  }
  return pino(options, settings.destination ?? pino.destination({ dest: 1, sync: false }));
}
