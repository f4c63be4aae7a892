import type { Config } from '@killtrace/config';
import { createElasticClient } from '@killtrace/elastic';
import type { Logger } from '@killtrace/logging';
import { Dependencies, runService } from '@killtrace/service-http';
import { buildApp } from './app.js';
import { loadTokens } from './auth.js';
import { elasticReadiness, watchElasticAtStart } from './readiness.js';

/** A listening API: close it to stop. */
export interface RunningApi {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Composition root: configuration -> tokens and Elasticsearch client -> app -> listen. */
export async function startApi(config: Config, logger: Logger): Promise<RunningApi> {
  const tokens = loadTokens(config.api);
  const elastic = createElasticClient(config.elasticsearch, { requestTimeoutMs: 30_000, maxRetries: 1 });
  // Listens before Elasticsearch answers (alive, not ready) instead of failing: no CrashLoopBackOff while it starts.
  const dependencies = new Dependencies(logger);
  const stopWaiting = new AbortController();
  const app = await buildApp({
    elastic,
    index: config.elasticsearch.indexPrefix,
    tokens,
    rateLimitPerMinute: config.api.rateLimitPerMinute,
    maxPageSize: config.api.maxPageSize,
    logger,
    notReadyReason: elasticReadiness(elastic, config.elasticsearch.indexPrefix, dependencies),
  });
  await app.listen({ host: config.api.host, port: config.api.port });
  watchElasticAtStart(elastic, config.elasticsearch.indexPrefix, dependencies, stopWaiting.signal);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.api.port;
  const host = config.api.host.includes(':') ? `[${config.api.host}]` : config.api.host;
  logger.info({ event: 'ApiListening', host: config.api.host, port, tokens: tokens.size }, `API and web page on http://${host}:${port}/ui/`);
  return {
    port,
    url: `http://${host}:${port}`,
    close: async () => {
      stopWaiting.abort();
      await app.close();
      await elastic.close().catch(() => undefined);
    },
  };
}

/** The process entry: runs until SIGTERM/SIGINT, then closes (libs/service-http runService). Returns the exit code. */
export function main(): Promise<number> {
  return runService({ name: 'api', startupErrorCode: 'KT_ERR_API_CONFIG', start: ({ config, logger }) => startApi(config, logger) });
}
