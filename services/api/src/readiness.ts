import { classifyElasticError, type ElasticClient } from '@killtrace/elastic';
import type { Dependencies } from '@killtrace/service-http';

const DEPENDENCY = 'elasticsearch';
const STEP = 'records count';

/** One count on the records' alias, the kind of request every route makes (a missing index counts: no records yet). */
async function countOnce(elastic: ElasticClient, index: string): Promise<void> {
  try {
    await elastic.count({ index, ignore_unavailable: true, allow_no_indices: true }, { requestTimeout: 5_000, maxRetries: 0 });
  } catch (error) {
    throw new Error(classifyElasticError(error).reason, { cause: error });
  }
}

/**
 * /readyz of the API: not ready, with the reason, while Elasticsearch does not answer a count on the records' alias.
 * Each answer goes to `dependencies`, which logs one line per change (unavailable, available again), not per probe.
 */
export function elasticReadiness(elastic: ElasticClient, index: string, dependencies?: Dependencies): () => Promise<string | undefined> {
  return async () => {
    try {
      await countOnce(elastic, index);
      dependencies?.markAvailable(DEPENDENCY, STEP);
      return undefined;
    } catch (error) {
      dependencies?.markUnavailable(DEPENDENCY, STEP, error);
      return `Elasticsearch unreachable: ${(error as Error).message}`;
    }
  };
}

/** At start, waits (back-off, in the background) for Elasticsearch so its state is logged before any probe; never throws. */
export function watchElasticAtStart(elastic: ElasticClient, index: string, dependencies: Dependencies, signal: AbortSignal): void {
  dependencies.until(DEPENDENCY, STEP, () => countOnce(elastic, index), { signal }).catch(() => undefined);
}
