import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './index.js';

const base = { KILLTRACE_CLUSTER_NAME: 'prod-eu' };

function tempFile(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'kt-config-')), name);
  writeFileSync(file, text);
  return file;
}

function failure(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies defaults when only the cluster name is given', () => {
    const config = loadConfig({ env: base });
    expect(config.clusterName).toBe('prod-eu');
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.kafka.topics.signals).toBe('killtrace.signals');
    expect(config.kafka.sasl.mechanism).toBe('none');
    expect(config.elasticsearch.url).toBe('http://127.0.0.1:9200');
    expect(config.logging).toEqual({ level: 'info', format: 'auto' });
    expect(config.correlator.allowedLatenessMs).toBe(30_000);
  });

  it('coerces environment variables to each setting type', () => {
    const config = loadConfig({
      env: {
        ...base,
        KAFKA_BROKERS: 'k1:9092, k2:9093,',
        KILLTRACE_KAFKA_PARTITIONS: '12',
        KILLTRACE_KAFKA_TLS: 'yes',
        KILLTRACE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KILLTRACE_KAFKA_SASL_USERNAME: 'kt',
        KILLTRACE_KAFKA_SASL_PASSWORD: 's3cret',
        KILLTRACE_LOG_LEVEL: 'debug',
      },
    });
    expect(config.kafka.brokers).toEqual(['k1:9092', 'k2:9093']);
    expect(config.kafka.partitions).toBe(12);
    expect(config.kafka.tls.enabled).toBe(true);
    expect(config.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'kt', password: 's3cret' });
    expect(config.logging.level).toBe('debug');
  });

  it('reads the correlator settings from the environment and validates them', () => {
    const config = loadConfig({
      env: {
        ...base,
        KILLTRACE_CORRELATOR_STATE_WINDOW_MS: '3600000',
        KILLTRACE_CORRELATOR_GROUP_ID: ' kt-group ',
        KILLTRACE_CORRELATOR_FLUSH_INTERVAL_MS: '100',
        KILLTRACE_CORRELATOR_MAX_UNFLUSHED: '10',
        KILLTRACE_CORRELATOR_READY_MAX_LAG: '0',
        KILLTRACE_CORRELATOR_RETRY_INITIAL_MS: '50',
        KILLTRACE_CORRELATOR_RETRY_MAX_MS: '2000',
        KILLTRACE_CORRELATOR_SHUTDOWN_GRACE_MS: '0',
        KILLTRACE_CORRELATOR_MAX_EVENT_TIME_AHEAD_MS: '60000',
        KILLTRACE_CORRELATOR_RECORD_PRODUCERS: '3',
      },
    });
    expect(config.correlator).toEqual({
      allowedLatenessMs: 30_000,
      groupId: 'kt-group',
      stateWindowMs: 3_600_000,
      flushIntervalMs: 100,
      maxUnflushedMessages: 10,
      readyMaxLag: 0,
      retryInitialMs: 50,
      retryMaxMs: 2_000,
      shutdownGraceMs: 0,
      maxEventTimeAheadMs: 60_000,
      idleTimeoutMs: 30_000,
      sessionTimeoutMs: 15_000,
      snapshotsEnabled: true,
      snapshotIntervalMs: 60_000,
      snapshotEveryMessages: 200_000,
      recordProducers: 3,
    });
    const defaults = loadConfig({ env: base }).correlator;
    expect(defaults).toMatchObject({ recordProducers: 1, stateWindowMs: 86_400_000, flushIntervalMs: 200, maxUnflushedMessages: 50_000, readyMaxLag: 10_000, retryInitialMs: 250, retryMaxMs: 15_000, shutdownGraceMs: 25_000 });
    expect(defaults.groupId).toBeUndefined();

    const error = failure(() =>
      loadConfig({
        env: {
          ...base,
          KILLTRACE_CORRELATOR_STATE_WINDOW_MS: '0',
          KILLTRACE_CORRELATOR_FLUSH_INTERVAL_MS: '1.5',
          KILLTRACE_CORRELATOR_MAX_UNFLUSHED: '-1',
          KILLTRACE_CORRELATOR_READY_MAX_LAG: 'lots',
        },
      }),
    );
    expect(error.problems.map((p) => p.key).sort()).toEqual(
      ['correlator.stateWindowMs', 'correlator.flushIntervalMs', 'correlator.maxUnflushedMessages', 'correlator.readyMaxLag'].sort(),
    );
    expect(error.message).toContain('correlator.stateWindowMs (from env KILLTRACE_CORRELATOR_STATE_WINDOW_MS)');
    expect(error.message).toContain('correlator.flushIntervalMs (from env KILLTRACE_CORRELATOR_FLUSH_INTERVAL_MS): expected an integer, got "1.5"');

    const inverted = failure(() => loadConfig({ env: { ...base, KILLTRACE_CORRELATOR_RETRY_MAX_MS: '100' } }));
    expect(inverted.problems.map((p) => p.key)).toEqual(['correlator.retryMaxMs']);
    expect(inverted.message).toContain('must be at least correlator.retryInitialMs (250)');
  });

  it('reads a YAML file and lets the environment override it', () => {
    const file = tempFile(
      'killtrace.yaml',
      'clusterName: from-file\nkafka:\n  brokers: [a:1, b:2]\n  partitions: 3\nelasticsearch:\n  indexPrefix: kt-file\n',
    );
    const config = loadConfig({ env: { KILLTRACE_CONFIG_FILE: file, KILLTRACE_KAFKA_PARTITIONS: '9' } });
    expect(config.clusterName).toBe('from-file');
    expect(config.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(config.kafka.partitions).toBe(9);
    expect(config.elasticsearch.indexPrefix).toBe('kt-file');
  });

  it('reads a JSON file and applies overrides last', () => {
    const file = tempFile('killtrace.json', JSON.stringify({ clusterName: 'json', http: { port: 8080 } }));
    const config = loadConfig({ env: {}, file, overrides: { http: { port: 0 } } });
    expect(config.clusterName).toBe('json');
    expect(config.http.port).toBe(0);
  });

  it('names every bad key, where its value came from and what was expected', () => {
    const error = failure(() =>
      loadConfig({
        env: {
          KAFKA_BROKERS: 'no-port',
          KILLTRACE_KAFKA_PARTITIONS: 'many',
          KILLTRACE_KAFKA_TLS: 'maybe',
          KILLTRACE_KAFKA_SASL_MECHANISM: 'scram-sha-256',
          ELASTICSEARCH_URL: 'ftp://es',
          KILLTRACE_ELASTICSEARCH_API_KEY: 'key',
          KILLTRACE_ELASTICSEARCH_USERNAME: 'elastic',
          KILLTRACE_LOG_LEVEL: 'loud',
          KILLTRACE_HTTP_PORT: '70000',
        },
      }),
    );
    expect(error.code).toBe('KT_ERR_CONFIG_INVALID');
    const keys = error.problems.map((p) => p.key).sort();
    expect(keys).toEqual(
      [
        'clusterName',
        'kafka.brokers.0',
        'kafka.partitions',
        'kafka.tls.enabled',
        'kafka.sasl.username',
        'kafka.sasl.password',
        'elasticsearch.url',
        'elasticsearch.apiKey',
        'elasticsearch.password',
        'logging.level',
        'http.port',
      ].sort(),
    );
    for (const key of keys) expect(error.message).toContain(key);
    expect(error.message).toContain('clusterName: required: set KILLTRACE_CLUSTER_NAME');
    expect(error.message).toContain('kafka.partitions (from env KILLTRACE_KAFKA_PARTITIONS): expected an integer, got "many"');
    expect(error.message).toContain('kafka.brokers.0 (from env KAFKA_BROKERS): expected host:port');
    expect(error.message).toContain('logging.level (from env KILLTRACE_LOG_LEVEL): expected one of trace, debug');
    expect(error.message).toContain('kafka.sasl.password: required when kafka.sasl.mechanism is scram-sha-256');
  });

  it('reports unknown keys and unreadable CA files from the configuration file', () => {
    const file = tempFile('bad.yaml', 'clusterName: c\nkafka:\n  brokerz: [a:1]\n  tls:\n    caFile: /nonexistent/ca.pem\n');
    const error = failure(() => loadConfig({ env: {}, file }));
    expect(error.problems.map((p) => p.key)).toEqual(['kafka.brokerz']);
    expect(error.message).toContain(`kafka.brokerz (from file ${file}): unknown setting`);

    const caOnly = tempFile('ca.yaml', 'clusterName: c\nkafka:\n  tls:\n    caFile: /nonexistent/ca.pem\n');
    const caError = failure(() => loadConfig({ env: {}, file: caOnly }));
    expect(caError.message).toContain('kafka.tls.caFile (from file');
    expect(caError.message).toContain('/nonexistent/ca.pem is not readable (ENOENT)');
  });

  it('never echoes a secret value in an error', () => {
    const error = failure(() => loadConfig({ env: { ...base, KILLTRACE_ELASTICSEARCH_PASSWORD: 'hunter2' } }));
    expect(error.problems.map((p) => p.key)).toEqual(['elasticsearch.username']);
    expect(error.message).not.toContain('hunter2');
  });

  it('fails with a file error code for unreadable or malformed files', () => {
    expect(failure(() => loadConfig({ env: {}, file: '/nonexistent/killtrace.yaml' })).code).toBe('KT_ERR_CONFIG_FILE_UNREADABLE');
    expect(failure(() => loadConfig({ env: {}, file: tempFile('x.yaml', 'a: [') })).code).toBe('KT_ERR_CONFIG_FILE_MALFORMED');
    expect(failure(() => loadConfig({ env: {}, file: tempFile('x.yaml', '- a\n- b\n') })).code).toBe('KT_ERR_CONFIG_FILE_MALFORMED');
  });
});
