import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@killtrace/config';
import { describe, expect, it } from 'vitest';
import { kafkaClientConfig } from './client.js';

describe('kafkaClientConfig', () => {
  it('maps brokers and client id, without TLS or SASL by default', () => {
    const config = loadConfig({ env: { KILLTRACE_CLUSTER_NAME: 'c', KAFKA_BROKERS: 'k1:9092,k2:9092' } });
    const kafka = kafkaClientConfig(config.kafka);
    expect(kafka).toMatchObject({ brokers: ['k1:9092', 'k2:9092'], clientId: 'killtrace' });
    expect(kafka.ssl).toBeUndefined();
    expect(kafka.sasl).toBeUndefined();
  });

  it('logs kafkajs per-attempt connection failures at debug (services report the dependency state once)', () => {
    const lines: [string, string][] = [];
    const at = (level: string) => (_obj: object, msg: string) => void lines.push([level, msg]);
    const config = loadConfig({ env: { KILLTRACE_CLUSTER_NAME: 'c' } });
    const log = kafkaClientConfig(config.kafka, { logger: { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') } }).logCreator?.(0);
    const entry = (namespace: string, message: string) => ({ namespace, level: 1, label: 'ERROR', log: { message, timestamp: '' } });
    log?.(entry('Connection', 'Connection error: connect ECONNREFUSED 127.0.0.1:1'));
    log?.(entry('BrokerPool', 'Failed to connect to seed broker, trying another broker from the list'));
    log?.(entry('Consumer', 'Crash: KafkaJSNumberOfRetriesExceeded'));
    expect(lines).toEqual([
      ['debug', 'Connection error: connect ECONNREFUSED 127.0.0.1:1'],
      ['debug', 'Failed to connect to seed broker, trying another broker from the list'],
      ['error', 'Crash: KafkaJSNumberOfRetriesExceeded'],
    ]);
  });

  it('reads the CA file for TLS and passes SCRAM credentials', () => {
    const ca = join(mkdtempSync(join(tmpdir(), 'kt-kafka-')), 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const config = loadConfig({
      env: {
        KILLTRACE_CLUSTER_NAME: 'c',
        KILLTRACE_KAFKA_TLS_CA_FILE: ca,
        KILLTRACE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KILLTRACE_KAFKA_SASL_USERNAME: 'kt',
        KILLTRACE_KAFKA_SASL_PASSWORD: 'pw',
      },
    });
    const kafka = kafkaClientConfig(config.kafka, { clientId: 'collector' });
    expect(kafka.clientId).toBe('collector');
    expect(kafka.ssl).toEqual({ ca: [expect.stringContaining('BEGIN CERTIFICATE')], rejectUnauthorized: true });
    expect(kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'kt', password: 'pw' });
  });

  it('names the CA file when it disappeared after configuration was loaded', () => {
    const config = loadConfig({ env: { KILLTRACE_CLUSTER_NAME: 'c' } });
    const broken = { ...config.kafka, tls: { ...config.kafka.tls, caFile: '/nonexistent/ca.pem' } };
    expect(() => kafkaClientConfig(broken)).toThrow(/KT_ERR_KAFKA_TLS_CA: cannot read kafka.tls.caFile \/nonexistent\/ca.pem/);
  });
});
