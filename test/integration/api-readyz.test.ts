import { createElasticClient } from '@killtrace/elastic';
import { afterAll, describe, expect, it } from 'vitest';
import { elasticReadiness } from '../../services/api/src/readiness.js';
import { integrationConfig, uniqueSuffix } from './helpers.js';

/** The API's /readyz check (the chart's readinessProbe) against the real Elasticsearch, before any record exists. */
describe('API readiness on the real Elasticsearch', () => {
  const elastic = createElasticClient(integrationConfig().elasticsearch);
  afterAll(() => elastic.close());

  it('is ready while Elasticsearch answers, even before the records index exists', async () => {
    expect(await elasticReadiness(elastic, `kt-api-readyz-${uniqueSuffix()}`)()).toBeUndefined();
  });

  it('is not ready, naming the refused connection, when nothing listens', async () => {
    const down = createElasticClient({ ...integrationConfig().elasticsearch, url: 'http://127.0.0.1:9' });
    try {
      expect(await elasticReadiness(down, 'kt-api-readyz')()).toMatch(/^Elasticsearch unreachable: .*ECONNREFUSED/);
    } finally {
      await down.close();
    }
  });
});
