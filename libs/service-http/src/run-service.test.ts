import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { KilltraceError } from '@killtrace/errors';
import { describe, expect, it } from 'vitest';
import { runService, type RunServiceOptions } from './run-service.js';

const env = { KILLTRACE_CLUSTER_NAME: 'test', KILLTRACE_LOG_FORMAT: 'json' };

function harness(start: RunServiceOptions['start'], overrides: Partial<RunServiceOptions> = {}) {
  const signals = new EventEmitter();
  const stderr: string[] = [];
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      logs.push(...chunk.toString().trim().split('\n'));
      done();
    },
  });
  const exit = runService({ name: 'demo', startupErrorCode: 'KT_ERR_DEMO_STARTUP', start, env, signals, stderr: { write: (t: string) => stderr.push(t) }, logDestination: destination, ...overrides });
  const events = (): unknown[] => logs.map((l) => (JSON.parse(l) as { event?: unknown }).event).filter((e) => e !== undefined);
  const lines = (): Array<Record<string, unknown>> => logs.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { signals, exit, stderr, events, lines };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('runService', () => {
  it('refuses a bad configuration with exit 2, printing every problem, and never starts', async () => {
    let started = false;
    const h = harness(
      async () => {
        started = true;
        return { close: async () => undefined };
      },
      { env: { KILLTRACE_LOG_LEVEL: 'loud' } },
    );
    expect(await h.exit).toBe(2);
    expect(started).toBe(false);
    expect(h.stderr.join('')).toMatch(/KT_ERR_CONFIG_INVALID[\s\S]*clusterName[\s\S]*logging\.level/);
  });

  it('starts, runs until SIGTERM, closes, and exits 0', async () => {
    let closed = 0;
    const h = harness(async ({ config }) => {
      expect(config.clusterName).toBe('test');
      return { close: async () => void closed++ };
    });
    await tick();
    expect(closed).toBe(0);
    h.signals.emit('SIGTERM');
    expect(await h.exit).toBe(0);
    expect(closed).toBe(1);
    expect(h.events()).toEqual(['ShutdownRequested', 'ServiceStopped']);
    expect(h.signals.listenerCount('SIGTERM') + h.signals.listenerCount('SIGINT')).toBe(0);
  });

  it('aborts a start still waiting when SIGINT comes, and exits 0', async () => {
    const h = harness(
      ({ signal }) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(new Error('wait for Kafka aborted')));
        }),
    );
    await tick();
    h.signals.emit('SIGINT');
    expect(await h.exit).toBe(0);
    expect(h.lines().at(-1)).toMatchObject({ event: 'ServiceStopped', msg: 'demo stopped before it finished starting' });
  });

  it('exits with a failed start’s own exit code and KT_ERR code, else 1 with the service’s startup code', async () => {
    const refused = harness(async () => {
      throw new KilltraceError('KT_ERR_DEMO_RULES', 'rules.yaml line 3: unknown field', { exitCode: 2, context: { file: 'rules.yaml', line: 3 } });
    });
    expect(await refused.exit).toBe(2);
    expect(refused.stderr.join('')).toContain('rules.yaml line 3: unknown field');
    expect(refused.lines().at(-1)).toMatchObject({ level: 'fatal', code: 'KT_ERR_DEMO_RULES', err: { context: { file: 'rules.yaml', line: 3 } } });
    const crashed = harness(async () => {
      throw new Error('connect ECONNREFUSED');
    });
    expect(await crashed.exit).toBe(1);
    expect(crashed.stderr).toEqual([]);
    expect(crashed.lines().at(-1)).toMatchObject({ level: 'fatal', code: 'KT_ERR_DEMO_STARTUP', msg: 'demo failed to start: connect ECONNREFUSED' });
  });

  it('exits 1 with the service’s timeout code when close() outlasts the shutdown deadline, and 1 when close() fails', async () => {
    const stuck = harness(async () => ({ close: () => new Promise<void>(() => undefined) }), { shutdownDeadline: { deadlineMs: 20, timeoutCode: 'KT_ERR_DEMO_SHUTDOWN_TIMEOUT' } });
    await tick();
    stuck.signals.emit('SIGTERM');
    expect(await stuck.exit).toBe(1);
    expect(stuck.lines().at(-1)).toMatchObject({ level: 'error', code: 'KT_ERR_DEMO_SHUTDOWN_TIMEOUT', deadlineMs: 20, msg: 'graceful shutdown timed out' });
    const failing = harness(async () => ({
      close: async () => {
        throw new KilltraceError('KT_ERR_DEMO_FLUSH', 'flush refused');
      },
    }));
    await tick();
    failing.signals.emit('SIGTERM');
    expect(await failing.exit).toBe(1);
    expect(failing.lines().at(-1)).toMatchObject({ level: 'error', code: 'KT_ERR_DEMO_FLUSH', msg: 'demo shutdown failed: flush refused' });
  });
});
