import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { redactedConfig, loadConfig, secretPaths } from '@killtrace/config';
import { KilltraceError } from '@killtrace/errors';
import { createLogger, REDACTED, resolveLogFormat } from './index.js';

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

const secretEnv = {
  KILLTRACE_CLUSTER_NAME: 'c',
  KILLTRACE_KAFKA_SASL_MECHANISM: 'scram-sha-256',
  KILLTRACE_KAFKA_SASL_USERNAME: 'kt',
  KILLTRACE_KAFKA_SASL_PASSWORD: 'kafka-pass-123',
  KILLTRACE_ELASTICSEARCH_API_KEY: 'es-api-key-456',
};

describe('createLogger', () => {
  it('writes JSON lines with name, level label and ISO time', () => {
    const out = capture();
    const logger = createLogger({ name: 'test', format: 'json', destination: out.stream });
    logger.info({ pod: 'p1' }, 'hello');
    const line = JSON.parse(out.text().trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ name: 'test', level: 'info', pod: 'p1', msg: 'hello' });
    expect(typeof line.time).toBe('string');
  });

  it('redacts secrets in a logged configuration, headers and nested objects', () => {
    const out = capture();
    const logger = createLogger({ name: 'test', format: 'json', destination: out.stream });
    const config = loadConfig({ env: secretEnv });
    logger.info({ config }, 'raw config logged by mistake');
    logger.info({ request: { headers: { authorization: 'Bearer tok-789' } } }, 'request');
    logger.warn({ kafka: { sasl: { mechanism: 'plain', password: 'kafka-pass-123' } } }, 'nested');
    logger.info({ config: redactedConfig(config) }, 'redacted config');
    const text = out.text();
    for (const secret of ['kafka-pass-123', 'es-api-key-456', 'tok-789']) expect(text).not.toContain(secret);
    expect(text).toContain(REDACTED);
    // Non-secret settings stay readable.
    expect(text).toContain('killtrace.signals');
  });

  it('covers every secret setting of the configuration', () => {
    const out = capture();
    const logger = createLogger({ name: 'test', format: 'json', destination: out.stream, redact: secretPaths() });
    const config = loadConfig({ env: secretEnv });
    logger.info(config, 'config at the root');
    expect(out.text()).not.toContain('kafka-pass-123');
    expect(out.text()).not.toContain('es-api-key-456');
  });

  it('pretty-prints when asked, still redacting', () => {
    const out = capture();
    const logger = createLogger({ name: 'test', format: 'pretty', destination: out.stream });
    logger.info({ password: 'pw-000' }, 'pretty line');
    logger.flush();
    return new Promise<void>((resolve) => {
      setTimeout(() => {
        expect(out.text()).toContain('pretty line');
        expect(out.text()).not.toContain('pw-000');
        expect(() => JSON.parse(out.text())).toThrow();
        resolve();
      }, 50);
    });
  });

  it('chooses pretty only on a terminal in auto mode', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
  });
});

describe('createLogger and coded errors', () => {
  it('logs a coded error with its code and context as fields, and other errors as pino does', () => {
    const out = capture();
    const logger = createLogger({ name: 'test', format: 'json', destination: out.stream });
    logger.error({ err: new KilltraceError('KT_ERR_TEST_BAD', 'bad line', { context: { file: 'a.log', line: 7, pod: 'ns/p' } }) }, 'failed');
    logger.error({ err: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) }, 'plain');
    const [coded, plain] = out.text().trim().split('\n').map((l) => JSON.parse(l) as { err: Record<string, unknown> });
    expect(coded?.err).toMatchObject({ type: 'KilltraceError', code: 'KT_ERR_TEST_BAD', message: 'bad line', context: { file: 'a.log', line: 7, pod: 'ns/p' } });
    expect(String(coded?.err.stack)).toContain('logger.test.ts');
    expect(plain?.err).toMatchObject({ type: 'Error', message: 'refused', code: 'ECONNREFUSED' });
  });
});
