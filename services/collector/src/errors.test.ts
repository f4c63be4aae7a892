import { describe, expect, it } from 'vitest';
import { CollectorError, collectorErrorCodes } from './errors.js';

describe('collector error catalogue', () => {
  it('has unique, prefixed, described codes with exit codes', () => {
    const codes = Object.keys(collectorErrorCodes);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [code, entry] of Object.entries(collectorErrorCodes)) {
      expect(code).toMatch(/^KT_ERR_COLLECTOR_[A-Z_]+$/);
      expect(entry.message.length).toBeGreaterThan(0);
      expect(entry.exitCode).toBeGreaterThan(0);
    }
  });

  it('carries code, context and exit code', () => {
    const error = new CollectorError('KT_ERR_COLLECTOR_LIST', 'GET /api/v1/pods answered 403', { path: '/api/v1/pods', status: 403 });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('CollectorError');
    expect(error.message).toBe('KT_ERR_COLLECTOR_LIST: GET /api/v1/pods answered 403');
    expect(error.context).toEqual({ path: '/api/v1/pods', status: 403 });
    expect(error.exitCode).toBe(1);
  });
});
