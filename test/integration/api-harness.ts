import { buildApp, TokenSet } from '../../services/api/src/index.js';
import { createElasticClient, type ElasticClient } from '@killtrace/elastic';
import { createLogger } from '@killtrace/logging';
import type { FastifyInstance } from 'fastify';
import { integrationConfig } from './helpers.js';

export const TOKEN = 'integration-token-0123456789';

/** The API over `alias` on the integration Elasticsearch, listening on a free loopback port. */
export async function startTestApi(alias: string, options: { rateLimitPerMinute?: number; elastic?: ElasticClient } = {}): Promise<{ app: FastifyInstance; url: string; elastic: ElasticClient }> {
  const elastic = options.elastic ?? createElasticClient(integrationConfig().elasticsearch);
  const app = await buildApp({
    elastic,
    index: alias,
    tokens: new TokenSet([TOKEN, 'second-token-abcdefghijklmnop']),
    rateLimitPerMinute: options.rateLimitPerMinute ?? 1000,
    maxPageSize: 200,
    logger: createLogger({ name: 'api-test', level: 'silent' }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { app, url: `http://127.0.0.1:${port}`, elastic };
}
