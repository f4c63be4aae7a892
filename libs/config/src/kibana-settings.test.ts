import { describe, expect, it } from 'vitest';
import { loadConfig } from './index.js';

const base = { KILLTRACE_CLUSTER_NAME: 'c' };

describe('kibana settings', () => {
  it('are unset by default: setup then imports nothing', () => {
    expect(loadConfig({ env: base }).kibana).toEqual({});
  });

  it('read the URL, space and credentials from the environment', () => {
    const config = loadConfig({
      env: { ...base, KIBANA_URL: 'https://kibana.example:5601/base', KILLTRACE_KIBANA_SPACE: 'ops', KILLTRACE_KIBANA_USERNAME: 'u', KILLTRACE_KIBANA_PASSWORD: 'p' },
    });
    expect(config.kibana).toEqual({ url: 'https://kibana.example:5601/base', space: 'ops', username: 'u', password: 'p' });
  });

  it('name each bad key: a URL that is not http(s), a space id with capitals, credentials given twice or half', () => {
    const attempt = (env: Record<string, string>): string => {
      try {
        loadConfig({ env: { ...base, ...env } });
        return 'accepted';
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(attempt({ KIBANA_URL: 'ftp://kibana' })).toContain('kibana.url');
    expect(attempt({ KILLTRACE_KIBANA_SPACE: 'Ops Team' })).toContain('kibana.space');
    expect(attempt({ KILLTRACE_KIBANA_API_KEY: 'k', KILLTRACE_KIBANA_USERNAME: 'u', KILLTRACE_KIBANA_PASSWORD: 'p' })).toMatch(/kibana.apiKey .*: give either an API key or a username\/password/);
    expect(attempt({ KILLTRACE_KIBANA_USERNAME: 'u' })).toMatch(/kibana.password.*: username and password must be given together/);
  });
});
