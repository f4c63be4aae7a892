import { describe, expect, it } from 'vitest';
import { codedMessage, errorCodeOf, isKilltraceError, KilltraceError, serializeError } from './index.js';

class ParserError extends KilltraceError<'KT_ERR_TEST_BAD_LINE'> {
  override readonly name = 'ParserError';
}

describe('KilltraceError', () => {
  it('carries its code, message, context and exit code, and keeps the subclass name', () => {
    const cause = new Error('EACCES: permission denied');
    const error = new ParserError('KT_ERR_TEST_BAD_LINE', 'line 3 is not JSON', {
      context: { file: 'events.json', line: 3, pod: 'shop/api-1', offset: undefined },
      cause,
      exitCode: 2,
    });
    expect(error).toBeInstanceOf(Error);
    expect(isKilltraceError(error)).toBe(true);
    expect(error.name).toBe('ParserError');
    expect(error.code).toBe('KT_ERR_TEST_BAD_LINE');
    expect(error.context).toEqual({ file: 'events.json', line: 3, pod: 'shop/api-1' });
    expect(Object.isFrozen(error.context)).toBe(true);
    expect(error.exitCode).toBe(2);
    expect(error.cause).toBe(cause);
  });

  it('serialises to plain JSON, the cause flattened, without the stack', () => {
    const error = new KilltraceError('KT_ERR_TEST_OUTER', 'outer', {
      context: { topic: 't' },
      cause: new KilltraceError('KT_ERR_TEST_INNER', 'inner', { context: { file: 'a.log', line: 1 } }),
    });
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      type: 'KilltraceError',
      code: 'KT_ERR_TEST_OUTER',
      message: 'outer',
      context: { topic: 't' },
      cause: { type: 'KilltraceError', code: 'KT_ERR_TEST_INNER', message: 'inner', context: { file: 'a.log', line: 1 } },
    });
  });

  it('gives pino the code and context as fields, with the stack; other errors as pino would', () => {
    const coded = serializeError(new KilltraceError('KT_ERR_TEST_X', 'x', { context: { pod: 'p' }, exitCode: 1 })) as Record<string, unknown>;
    expect(coded).toMatchObject({ type: 'KilltraceError', code: 'KT_ERR_TEST_X', message: 'x', context: { pod: 'p' }, exitCode: 1 });
    expect(String(coded.stack)).toContain('coded-error.test.ts');
    const plain = Object.assign(new TypeError('boom'), { code: 'ECONNREFUSED' });
    expect(serializeError(plain)).toMatchObject({ type: 'TypeError', message: 'boom', code: 'ECONNREFUSED' });
    expect(serializeError('not an error')).toBe('not an error');
  });

  it('finds a KT_ERR code on any thrown value, and leads a message with its code once', () => {
    expect(errorCodeOf({ code: 'KT_ERR_CONFIG_INVALID' })).toBe('KT_ERR_CONFIG_INVALID');
    expect(errorCodeOf({ code: 'ECONNREFUSED' })).toBeUndefined();
    expect(errorCodeOf(null)).toBeUndefined();
    expect(codedMessage('KT_ERR_TEST_X', 'bad')).toBe('KT_ERR_TEST_X: bad');
    expect(codedMessage('KT_ERR_TEST_X', 'KT_ERR_TEST_X: bad')).toBe('KT_ERR_TEST_X: bad');
  });
});
