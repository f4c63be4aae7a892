import { ConfigError } from '@killtrace/config';
import { ElasticAdapterError } from '@killtrace/elastic';
import { ERROR_CODE_PATTERN, KilltraceError } from '@killtrace/errors';
import { KafkaAdapterError } from '@killtrace/kafka';
import { KibanaAdapterError } from '@killtrace/kibana';
import { describe, expect, it } from 'vitest';
import { AlerterError, alerterErrorCodes, EXIT_RUNTIME } from '../../services/alerter/src/errors.js';
import { ApiError, apiErrorCodes } from '../../services/api/src/errors.js';
import { CliError } from '../../services/cli/src/errors.js';
import { CollectorError, collectorErrorCodes } from '../../services/collector/src/errors.js';
import { CorrelatorError, correlatorErrorCodes } from '../../services/correlator/src/errors.js';

// Every package raises the one error shape of libs/errors: one `instanceof`, one JSON form in logs (STYLE.md).
const samples: Array<[KilltraceError, Record<string, unknown>]> = [
  [ConfigError.invalid([{ key: 'kafka.brokers', message: 'required' }]), { problems: [{ key: 'kafka.brokers', message: 'required' }] }],
  [new KafkaAdapterError('KT_ERR_KAFKA_INVALID_MESSAGE', 'bad', { topic: 't', details: ['x: required'] }), { topic: 't', details: ['x: required'] }],
  [new ElasticAdapterError('KT_ERR_ELASTIC_BULK', 'bulk failed', { target: 'killtrace-restarts' }), { target: 'killtrace-restarts' }],
  [new KibanaAdapterError('KT_ERR_KIBANA_HTTP', 'refused', { url: 'http://kibana:5601', status: 403 }), { url: 'http://kibana:5601', status: 403 }],
  [new CollectorError('KT_ERR_COLLECTOR_LIST', 'list failed', { path: '/api/v1/pods', status: 500 }), { path: '/api/v1/pods', status: 500 }],
  [new AlerterError('KT_ERR_ALERTER_STARTUP', 'no Kafka', EXIT_RUNTIME), {}],
  [new CorrelatorError('KT_ERR_CORRELATOR_PROFILE_INVALID', 'bad profile', 2, { context: { file: 'p.yaml', line: 4 } }), { file: 'p.yaml', line: 4 }],
  [new ApiError('KT_ERR_API_NOT_FOUND', 'no such record'), { status: 404 }],
  [new CliError('KT_ERR_CLI_INPUT_NOT_FOUND', 'no such file: x'), {}],
];

describe('one error shape', () => {
  it('every package error is a KilltraceError with a KT_ERR code, its context, and serialises the same way', () => {
    for (const [error, context] of samples) {
      expect(error, error.name).toBeInstanceOf(KilltraceError);
      expect(error.code).toMatch(/^KT_ERR_[A-Z]+_[A-Z0-9_]+$/);
      const json = JSON.parse(JSON.stringify(error)) as Record<string, unknown>;
      expect(json, error.name).toMatchObject({ type: error.name, code: error.code, message: error.message, context });
    }
  });

  it('keeps each package’s messages and exit codes', () => {
    expect(new KafkaAdapterError('KT_ERR_KAFKA_TLS_CA', 'ca.pem unreadable').message).toBe('KT_ERR_KAFKA_TLS_CA: ca.pem unreadable');
    expect(new CollectorError('KT_ERR_COLLECTOR_MODE', 'no mode').exitCode).toBe(2);
    expect(new AlerterError('KT_ERR_ALERTER_RULES_INVALID', 'bad rule').exitCode).toBe(2);
    expect(new CliError('KT_ERR_CLI_BAD_OPTION', 'bad --output').message).toBe('bad --output');
    expect(new ApiError('KT_ERR_API_RATE_LIMITED', 'slow down').status).toBe(429);
  });

  it('the services’ catalogues follow the same grammar as the libraries’ (test/unit/foundation-error-codes.test.ts), each code once', () => {
    const catalogues: Record<string, Record<string, unknown>> = { ALERTER: alerterErrorCodes, API: apiErrorCodes, COLLECTOR: collectorErrorCodes, CORRELATOR: correlatorErrorCodes };
    const seen = new Set<string>();
    for (const [area, catalogue] of Object.entries(catalogues)) {
      for (const code of Object.keys(catalogue)) {
        expect(code).toMatch(ERROR_CODE_PATTERN);
        expect(code.startsWith(`KT_ERR_${area}_`), code).toBe(true);
        expect(seen.has(code), code).toBe(false);
        seen.add(code);
      }
    }
  });
});
