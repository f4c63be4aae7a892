import { loadConfig } from '@killtrace/config';
import { describe, expect, it } from 'vitest';
import { elasticClientOptions } from './index.js';

const env = { KILLTRACE_CLUSTER_NAME: 'c', ELASTICSEARCH_URL: 'https://es.example:9200' };

describe('elasticClientOptions', () => {
  it('uses an API key when given', () => {
    const config = loadConfig({ env: { ...env, KILLTRACE_ELASTICSEARCH_API_KEY: 'a2V5' } });
    expect(elasticClientOptions(config.elasticsearch)).toMatchObject({ node: 'https://es.example:9200', auth: { apiKey: 'a2V5' } });
  });

  it('uses basic auth when given username and password', () => {
    const config = loadConfig({ env: { ...env, KILLTRACE_ELASTICSEARCH_USERNAME: 'elastic', KILLTRACE_ELASTICSEARCH_PASSWORD: 'pw' } });
    expect(elasticClientOptions(config.elasticsearch).auth).toEqual({ username: 'elastic', password: 'pw' });
  });

  it('names an unreadable CA file', () => {
    const config = loadConfig({ env });
    expect(() => elasticClientOptions({ ...config.elasticsearch, caFile: '/nonexistent/ca.pem' })).toThrow(/KT_ERR_ELASTIC_TLS_CA/);
  });
});
