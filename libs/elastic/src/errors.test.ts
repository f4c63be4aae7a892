import { errors } from '@elastic/elasticsearch';
import { describe, expect, it } from 'vitest';
import { classifyElasticError, ElasticAdapterError } from './index.js';

function responseError(statusCode: number): Error {
  return new errors.ResponseError({ body: { error: { type: 'x' } }, statusCode, headers: {}, warnings: null, meta: {} as never });
}

describe('classifyElasticError', () => {
  it('retries unreachable or overloaded clusters', () => {
    expect(classifyElasticError(new errors.ConnectionError('connect ECONNREFUSED')).kind).toBe('retriable');
    expect(classifyElasticError(new errors.TimeoutError('timeout')).kind).toBe('retriable');
    expect(classifyElasticError(responseError(429))).toEqual({ kind: 'retriable', reason: 'HTTP 429' });
    expect(classifyElasticError(responseError(503)).kind).toBe('retriable');
  });

  it('stops on bad requests and authentication failures, also behind adapter errors', () => {
    expect(classifyElasticError(responseError(400)).kind).toBe('fatal');
    expect(classifyElasticError(responseError(401)).kind).toBe('fatal');
    const wrapped = new ElasticAdapterError('KT_ERR_ELASTIC_BULK', 'bulk failed', { cause: new errors.ConnectionError('down') });
    expect(classifyElasticError(wrapped).kind).toBe('retriable');
    expect(classifyElasticError(new Error('bug')).kind).toBe('fatal');
  });
});
