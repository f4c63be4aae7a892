import type { Counter, Gauge } from 'prom-client';
import type { Logger } from '@killtrace/logging';
import { Backoff } from '@killtrace/retry';

/** journalctl restarts back off from 1 s, doubling (with jitter, libs/retry) up to 1 min. */
const RESTART_INITIAL_MS = 1_000;
const RESTART_MAX_MS = 60_000;
/** Failures in a row after which the journal counts as unreadable (warning, metric, failing /readyz). */
export const UNHEALTHY_AFTER = 3;
/** A journalctl that has run this long without ending, or that delivered a line, is working. */
export const HEALTHY_AFTER_MS = 10_000;

export interface JournalHealthOptions {
  /** What is read, for log lines: `kubelet journal`, `kernel journal`. */
  subject: string;
  /** What is missing while it cannot be read: `kill decisions`, `kernel OOM kills`. */
  collects: string;
  /** Prefix of the log events (`Journal` -> JournalUnreadable, JournalReadable, JournalctlEnded). */
  event: string;
  healthy: Gauge;
  failures: Counter;
  logger: Logger;
}

/**
 * The health of one journal source and the back-off of its journalctl restarts, shared by the kubelet and the
 * kernel followers: failures in a row grow the delay; from the third the source is unreadable (a warning once, the
 * gauge at 0, a failing readiness) until journalctl delivers a line or keeps running, which also resets the back-off.
 */
export class JournalHealth {
  private readonly restarts = new Backoff(RESTART_INITIAL_MS, RESTART_MAX_MS);
  private state: { ok: boolean; detail: string } = { ok: true, detail: '' };

  constructor(private readonly options: JournalHealthOptions) {
    options.healthy.set(1);
  }

  get ok(): boolean {
    return this.state.ok;
  }

  get detail(): string {
    return this.state.detail;
  }

  get failuresInRow(): number {
    return this.restarts.failures;
  }

  /** Health transitions are logged once each: a warning when the source becomes unreadable, info when it recovers. */
  set(ok: boolean, detail: string): void {
    const changed = ok !== this.state.ok;
    this.state = { ok, detail };
    if (!changed) return;
    const { logger, healthy, subject, collects, event } = this.options;
    healthy.set(ok ? 1 : 0);
    if (ok) logger.info({ event: `${event}Readable` }, `the ${subject} is being read again`);
    else logger.warn({ event: `${event}Unreadable`, detail }, `cannot read the ${subject}, ${collects} are not collected: ${detail}`);
  }

  /** journalctl delivered a line or kept running: failures in a row start over. */
  works(): void {
    this.restarts.succeeded();
    this.set(true, '');
  }

  /** Counts a failure (a missing journal file) without a restart: once per absence, not once per poll. */
  unreadable(detail: string): void {
    if (this.state.ok) this.options.failures.inc();
    this.set(false, detail);
  }

  /** journalctl ended: counts it, logs it (a warning the first time in a row), returns the wait before the next start. */
  ended(exitDetail: string): number {
    const delayMs = this.restarts.failed();
    const failures = this.restarts.failures;
    const { logger, event, subject } = this.options;
    this.options.failures.inc();
    const log = failures === 1 ? logger.warn.bind(logger) : logger.debug.bind(logger);
    log({ event: `${event}ctlEnded`, detail: exitDetail, failures, delayMs }, `journalctl for the ${subject} ended; restarting it from the last acknowledged cursor`);
    if (failures >= UNHEALTHY_AFTER) this.set(false, `journalctl failed ${failures} times in a row (last: ${exitDetail || 'no detail'}); next attempt in ${delayMs} ms`);
    return delayMs;
  }
}
