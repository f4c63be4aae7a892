import type { EventEmitter } from 'node:events';
import process from 'node:process';
import { loadConfig, redactedConfig, secretPaths, type Config } from '@killtrace/config';
import { errorCodeOf, EXIT_CONFIG, EXIT_OK, EXIT_RUNTIME, isKilltraceError } from '@killtrace/errors';
import { createLogger, type Logger, type LoggerSettings } from '@killtrace/logging';


/** What a service's `start` gets: the validated configuration, the process logger, and a signal aborted at shutdown. */
export interface ServiceContext {
  config: Config;
  logger: Logger;
  /** Aborted by SIGTERM/SIGINT, also while `start` still waits for a dependency. */
  signal: AbortSignal;
}

/** A started service: `close()` shuts it down gracefully. */
export interface StartedService {
  close(): Promise<void>;
}

/** One service process: its name (the logger's `name`), its composition root, and the code of a failed start. */
export interface RunServiceOptions {
  name: string;
  start(context: ServiceContext): Promise<StartedService>;
  /** Logged with a start failure that carries no KT_ERR code of its own, e.g. `KT_ERR_ALERTER_STARTUP`. */
  startupErrorCode: string;
  /** Environment the configuration is read from; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where SIGTERM/SIGINT come from; default the process (tests pass an emitter). */
  signals?: Pick<EventEmitter, 'once' | 'off'>;
  /** Where a configuration error is printed before the logger exists; default stderr. */
  stderr?: { write(text: string): unknown };
  /** Where log lines go; default stdout. */
  logDestination?: LoggerSettings['destination'];
  /**
   * Exits 1 (logging `timeoutCode`) when `close()` has not finished `deadlineMs` after the signal, so that a stuck
   * shutdown ends before the kubelet's grace period does; default: no deadline.
   */
  shutdownDeadline?: { deadlineMs: number; timeoutCode: string };
}

/**
 * The process entry every service shares: configuration (a bad one is printed and exits 2), the redacting logger,
 * SIGTERM/SIGINT handled from the first moment (a signal during start aborts it), start, run until a signal, close.
 * Returns the exit code: 0 after a graceful stop, else the failed start's `exitCode` (libs/errors), 1 without one.
 */
export async function runService(options: RunServiceOptions): Promise<number> {
  const stderr = options.stderr ?? process.stderr;
  let config: Config;
  try {
    config = loadConfig(options.env === undefined ? {} : { env: options.env });
  } catch (error) {
    stderr.write(`${(error as Error).message}\n`);
    return EXIT_CONFIG;
  }
  const logger = createLogger({
    name: options.name,
    level: config.logging.level,
    format: config.logging.format,
    redact: secretPaths().map((p) => `config.${p}`),
    ...(options.logDestination === undefined ? {} : { destination: options.logDestination }),
  });
  logger.info({ config: redactedConfig(config) }, 'configuration loaded');

  const signals = options.signals ?? process;
  const shutdown = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (shutdown.signal.aborted) return;
    logger.info({ event: 'ShutdownRequested', signal }, 'shutting down');
    shutdown.abort(signal);
  };
  const onTerm = (): void => onSignal('SIGTERM');
  const onInt = (): void => onSignal('SIGINT');
  signals.once('SIGTERM', onTerm);
  signals.once('SIGINT', onInt);
  const stopListening = (): void => {
    signals.off('SIGTERM', onTerm);
    signals.off('SIGINT', onInt);
  };

  let running: StartedService;
  try {
    running = await options.start({ config, logger, signal: shutdown.signal });
  } catch (error) {
    stopListening();
    if (shutdown.signal.aborted) {
      logger.info({ event: 'ServiceStopped', service: options.name }, `${options.name} stopped before it finished starting`);
      logger.flush();
      return EXIT_OK;
    }
    const exitCode = isKilltraceError(error) && error.exitCode !== undefined ? error.exitCode : EXIT_RUNTIME;
    // A configuration problem is also printed plainly: the operator reads it in `kubectl logs` or the terminal.
    if (exitCode === EXIT_CONFIG) stderr.write(`${(error as Error).message}\n`);
    logger.fatal({ err: error, code: errorCodeOf(error) ?? options.startupErrorCode }, `${options.name} failed to start: ${(error as Error).message}`);
    logger.flush();
    return exitCode;
  }
  if (!shutdown.signal.aborted) await new Promise<void>((resolve) => shutdown.signal.addEventListener('abort', () => resolve(), { once: true }));
  stopListening();
  const outcome = await closeWithin(running, options.shutdownDeadline?.deadlineMs);
  if (outcome !== 'closed') {
    if (outcome === 'timeout') {
      logger.error({ code: options.shutdownDeadline?.timeoutCode, deadlineMs: options.shutdownDeadline?.deadlineMs }, 'graceful shutdown timed out');
    } else logger.error({ err: outcome.error, code: errorCodeOf(outcome.error) }, `${options.name} shutdown failed: ${(outcome.error as Error).message}`);
    logger.flush();
    return EXIT_RUNTIME;
  }
  logger.info({ event: 'ServiceStopped', service: options.name }, `${options.name} stopped`);
  logger.flush();
  return EXIT_OK;
}

/** Closes `running`; 'timeout' when it takes longer than `deadlineMs` (the close goes on, the process exits). */
async function closeWithin(running: StartedService, deadlineMs: number | undefined): Promise<'closed' | 'timeout' | { error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const closed = running.close().then(
    () => 'closed' as const,
    (error: unknown) => ({ error }),
  );
  if (deadlineMs === undefined) return closed;
  const late = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), deadlineMs);
    timer.unref();
  });
  try {
    return await Promise.race([closed, late]);
  } finally {
    clearTimeout(timer);
  }
}
