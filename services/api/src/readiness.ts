import type { ElasticClient } from '@killtrace/elastic';

/** /readyz of the API: not ready, with the reason, while Elasticsearch (which every route reads) does not answer a ping. */
export function elasticReadiness(elastic: ElasticClient): () => Promise<string | undefined> {
  return async () => {
    try {
      await elastic.ping({}, { requestTimeout: 5_000, maxRetries: 0 });
      return undefined;
    } catch (error) {
      return `Elasticsearch unreachable: ${(error as Error).message}`;
    }
  };
}
