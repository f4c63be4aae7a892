import { Backoff, sleep } from '@killtrace/retry';

/**
 * Start like a service that expects its dependencies to come and go: instead of exiting when Kafka, Elasticsearch
 * or the API server is not there yet (which in a cluster becomes a CrashLoopBackOff), a service waits for each with
 * a capped exponential back-off, stays alive (`/healthz`) but not ready (`/readyz` names what it waits for), and
 * logs one line when a dependency becomes unavailable and one when it is available again, never one per retry.
 */

/** The part of a pino logger this needs (kept structural so the lib does not depend on libs/logging). */
export interface DependencyLogger {
  info(context: Record<string, unknown>, message: string): void;
  warn(context: Record<string, unknown>, message: string): void;
  debug(context: Record<string, unknown>, message: string): void;
}

export interface DependencyWaitOptions {
  initialMs?: number;
  maxMs?: number;
  /** Errors for which retrying cannot help (a configuration mismatch): rethrown at once. */
  fatal?: (error: unknown) => boolean;
  /** Aborting stops the wait (shutdown): the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

interface DependencyState {
  available: boolean;
  waiting: boolean;
  attempts: number;
  since: number;
  lastError?: string;
}

/** Tracks the service's dependencies; `readiness()` is a `/readyz` check. */
export class Dependencies {
  private readonly states = new Map<string, DependencyState>();

  constructor(
    private readonly logger: DependencyLogger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Runs `attempt` until it succeeds, retrying with the back-off of libs/retry (`initialMs` doubling up to `maxMs`, with jitter), and resolves with
   * its result. Several steps may wait on the same dependency name (topics, then the producer).
   */
  async until<T>(name: string, what: string, attempt: () => Promise<T>, options: DependencyWaitOptions = {}): Promise<T> {
    const initialMs = options.initialMs ?? 500;
    const maxMs = options.maxMs ?? 30_000;
    const state = this.state(name);
    state.waiting = true;
    const backoff = new Backoff(initialMs, Math.max(initialMs, maxMs));
    for (;;) {
      options.signal?.throwIfAborted();
      try {
        const result = await attempt();
        this.markAvailable(name, what);
        state.waiting = false;
        return result;
      } catch (error) {
        if (options.fatal?.(error) === true) {
          state.waiting = false;
          throw error;
        }
        const delay = backoff.failed();
        this.markUnavailable(name, what, error, delay);
        if (!(await sleep(delay, options.signal))) options.signal?.throwIfAborted();
      }
    }
  }

  /** Records that a dependency failed after start (a component's own retry loop reports it here). */
  markUnavailable(name: string, what: string, error: unknown, retryInMs?: number): void {
    const state = this.state(name);
    const message = error instanceof Error ? error.message : String(error);
    state.attempts += 1;
    state.lastError = message;
    if (state.available || state.attempts === 1) {
      state.available = false;
      state.since = this.now();
      this.logger.warn({ dependency: name, step: what, err: message, retryInMs }, `${name} unavailable (${what}): ${message}; retrying with back-off`);
    } else {
      this.logger.debug({ dependency: name, step: what, err: message, attempts: state.attempts, retryInMs }, `${name} still unavailable`);
    }
  }

  markAvailable(name: string, what: string): void {
    const state = this.state(name);
    if (state.available) return;
    const failed = state.attempts > 0;
    this.logger.info({ dependency: name, step: what, ...(failed ? { failedAttempts: state.attempts, unavailableForMs: this.now() - state.since } : {}) }, failed ? `${name} available again (${what})` : `${name} available (${what})`);
    state.available = true;
    state.attempts = 0;
    delete state.lastError;
  }

  /** Not ready while any dependency is waited for or unavailable, naming each with its last error. */
  readiness(): { ok: boolean; detail?: string } {
    const missing = [...this.states.entries()].filter(([, s]) => s.waiting || !s.available);
    if (missing.length === 0) return { ok: true };
    return { ok: false, detail: missing.map(([name, s]) => `waiting for ${name}${s.lastError === undefined ? '' : `: ${s.lastError}`}`).join('; ') };
  }

  private state(name: string): DependencyState {
    let state = this.states.get(name);
    if (state === undefined) {
      state = { available: false, waiting: false, attempts: 0, since: this.now() };
      this.states.set(name, state);
    }
    return state;
  }
}
