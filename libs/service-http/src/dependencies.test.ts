import { describe, expect, it } from 'vitest';
import { Dependencies } from './dependencies.js';

function recorder() {
  const lines: { level: string; message: string; context: Record<string, unknown> }[] = [];
  const at = (level: string) => (context: Record<string, unknown>, message: string) => void lines.push({ level, message, context });
  return { lines, logger: { info: at('info'), warn: at('warn'), debug: at('debug') } };
}

describe('Dependencies', () => {
  it('retries until the dependency answers, not ready meanwhile, with one line when it fails and one when it is back', async () => {
    const { lines, logger } = recorder();
    const deps = new Dependencies(logger);
    let calls = 0;
    const readiness: { ok: boolean; detail?: string }[] = [];
    const result = await deps.until('kafka', 'create topics', async () => {
      calls += 1;
      readiness.push(deps.readiness());
      if (calls < 4) throw new Error('connect ECONNREFUSED 127.0.0.1:1');
      return 'done';
    }, { initialMs: 1, maxMs: 4 });
    expect(result).toBe('done');
    expect(calls).toBe(4);
    expect(readiness[0]).toEqual({ ok: false, detail: 'waiting for kafka' });
    expect(readiness[1]).toEqual({ ok: false, detail: 'waiting for kafka: connect ECONNREFUSED 127.0.0.1:1' });
    expect(deps.readiness()).toEqual({ ok: true });
    expect(lines.filter((l) => l.level !== 'debug').map((l) => [l.level, l.message])).toEqual([
      ['warn', 'kafka unavailable (create topics): connect ECONNREFUSED 127.0.0.1:1; retrying with back-off'],
      ['info', 'kafka available again (create topics)'],
    ]);
    expect(lines.filter((l) => l.level === 'debug')).toHaveLength(2);
  });

  it('rethrows an error retrying cannot fix, and stops waiting when aborted', async () => {
    const deps = new Dependencies(recorder().logger);
    await expect(deps.until('kafka', 'topics', () => Promise.reject(new Error('not co-partitioned')), { fatal: () => true })).rejects.toThrow('not co-partitioned');
    const controller = new AbortController();
    const waiting = deps.until('elasticsearch', 'template', () => Promise.reject(new Error('down')), { initialMs: 50, signal: controller.signal });
    controller.abort(new Error('shutting down'));
    await expect(waiting).rejects.toThrow('shutting down');
  });
});
