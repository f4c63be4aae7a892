import { describe, expect, it } from 'vitest';
import { loadConfig, redactedConfig, REDACTED, secretPaths } from './index.js';

describe('redactedConfig', () => {
  it('lists every secret setting', () => {
    expect(secretPaths()).toEqual(['kafka.sasl.password', 'elasticsearch.apiKey', 'elasticsearch.password', 'kibana.apiKey', 'kibana.password', 'api.tokens']);
  });

  it('hides secrets that are set and leaves the original untouched', () => {
    const config = loadConfig({
      env: {
        KILLTRACE_CLUSTER_NAME: 'c',
        KILLTRACE_KAFKA_SASL_MECHANISM: 'plain',
        KILLTRACE_KAFKA_SASL_USERNAME: 'kt',
        KILLTRACE_KAFKA_SASL_PASSWORD: 'kafka-secret',
        KILLTRACE_ELASTICSEARCH_API_KEY: 'es-key-secret',
      },
    });
    const redacted = redactedConfig(config);
    const dump = JSON.stringify(redacted);
    expect(dump).not.toContain('kafka-secret');
    expect(dump).not.toContain('es-key-secret');
    expect(redacted.kafka.sasl).toEqual({ mechanism: 'plain', username: 'kt', password: REDACTED });
    expect(redacted.elasticsearch.apiKey).toBe(REDACTED);
    expect(redacted.elasticsearch.password).toBeUndefined();
    expect(config.kafka.sasl.password).toBe('kafka-secret');
  });
});
