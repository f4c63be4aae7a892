import { readFileSync } from 'node:fs';
import { Client, type ClientOptions } from '@elastic/elasticsearch';
import type { Config } from '@killtrace/config';
import { ElasticAdapterError } from './errors.js';

/** The Elasticsearch client every helper of this package takes. */
export type ElasticClient = Client;

export interface ElasticClientOptions {
  requestTimeoutMs?: number;
  maxRetries?: number;
}

/** The client options for the Killtrace configuration (reads the CA file, if any). */
export function elasticClientOptions(config: Config['elasticsearch'], options: ElasticClientOptions = {}): ClientOptions {
  const clientOptions: ClientOptions = {
    node: config.url,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    maxRetries: options.maxRetries ?? 3,
  };
  if (config.apiKey !== undefined) {
    clientOptions.auth = { apiKey: config.apiKey };
  } else if (config.username !== undefined && config.password !== undefined) {
    clientOptions.auth = { username: config.username, password: config.password };
  }
  if (config.caFile !== undefined) {
    try {
      clientOptions.tls = { ca: readFileSync(config.caFile, 'utf8') };
    } catch (cause) {
      throw new ElasticAdapterError('KT_ERR_ELASTIC_TLS_CA', `cannot read elasticsearch.caFile ${config.caFile}: ${(cause as Error).message}`, {
        target: config.caFile,
        cause,
      });
    }
  }
  return clientOptions;
}

/** Creates an Elasticsearch client from the configuration: node URL, API key or basic auth, CA file. */
export function createElasticClient(config: Config['elasticsearch'], options: ElasticClientOptions = {}): ElasticClient {
  return new Client(elasticClientOptions(config, options));
}
