import { describe, expect, it } from 'vitest';
import { resolveMode } from './main.js';

describe('collector mode', () => {
  it('takes the first argument, else the configured mode', () => {
    expect(resolveMode(['cluster-watcher'], undefined)).toBe('cluster-watcher');
    expect(resolveMode(['--verbose', 'node-agent'], 'cluster-watcher')).toBe('node-agent');
    expect(resolveMode([], 'node-agent')).toBe('node-agent');
  });

  it('refuses a missing or unknown mode with KT_ERR_COLLECTOR_MODE', () => {
    expect(() => resolveMode([], undefined)).toThrow(expect.objectContaining({ code: 'KT_ERR_COLLECTOR_MODE', exitCode: 2 }) as Error);
    expect(() => resolveMode(['watcher'], undefined)).toThrow(/unknown mode "watcher"/);
  });
});
