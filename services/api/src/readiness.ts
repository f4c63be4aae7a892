import { classifyElasticError, type ElasticClient } from '@killtrace/elastic';

/**
 * /readyz of the API: not ready, with the reason, while Elasticsearch does not answer a count on the records' alias,
 * the kind of request every route makes (a missing index counts as ready: no records yet).
 */
export function elasticReadiness(elastic: ElasticClient, index: string): () => Promise<string | undefined> {
  return async () => {
    try {
      await elastic.count({ index, ignore_unavailable: true, allow_no_indices: true }, { requestTimeout: 5_000, maxRetries: 0 });
      return undefined;
    } catch (error) {
      return `Elasticsearch unreachable: ${classifyElasticError(error).reason}`;
    }
  };
}
