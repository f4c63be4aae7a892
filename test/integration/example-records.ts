import { fileURLToPath } from 'node:url';
import { installIndexTemplate, writeDocuments, type ElasticClient } from '@killtrace/elastic';
import { restartRecordId, type RestartRecord } from '@killtrace/schemas';
import { runAnalysis } from '../../services/cli/src/run-analysis.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The restart records of the example bundles, from the embedded analyser (the same core the correlator runs). */
export async function exampleRecords(): Promise<RestartRecord[]> {
  const out: RestartRecord[] = [];
  for (const example of ['host-agent-crashloop', 'shop-inventory-mixed']) {
    const result = await runAnalysis({ dir: `${root}examples/${example}`, clusterName: 'integration' });
    out.push(...result.records);
  }
  return out;
}

/**
 * Writes records the way the correlator does (services/correlator/src/record-sink.ts): the index template and
 * write alias from `installIndexTemplate`, then `writeDocuments` under `restartRecordId`, refreshed for search.
 */
export async function seedRecords(client: ElasticClient, alias: string, records: readonly RestartRecord[]): Promise<void> {
  await installIndexTemplate(client, { alias, replicas: 0 });
  const report = await writeDocuments(
    client,
    records.map((record) => ({ id: restartRecordId(record.kubernetes.pod.uid, record.kubernetes.container.name, record.killtrace.restart.count), document: record })),
    { index: alias, refresh: true },
  );
  if (report.failures.length > 0 || report.successful !== records.length) throw new Error(`seeding ${alias} failed: ${JSON.stringify(report.failures.slice(0, 3))}`);
}

/** Deletes an alias's indices and templates after a test. */
export async function dropRecords(client: ElasticClient, alias: string): Promise<void> {
  await client.indices.delete({ index: `${alias}-*` }).catch(() => undefined);
  await client.indices.deleteIndexTemplate({ name: alias }).catch(() => undefined);
  await client.cluster.deleteComponentTemplate({ name: `${alias}-mappings` }).catch(() => undefined);
}

/**
 * The example bundles through the real pipeline: their signals produced to Kafka as the collectors publish them,
 * the correlator (in-process, test/e2e/harness.ts) writing records to Elasticsearch with its record sink, until
 * Elasticsearch holds exactly what the embedded analyser gives.
 */
export async function pipelineRecords(name: string): Promise<{ alias: string; records: RestartRecord[]; close: () => Promise<void> }> {
  const { bundleSignals, cleanup, elasticFor, expectedRecords, kafkaFor, pipelineSetup, produceSignals, waitForDocs } = await import('../e2e/harness.js');
  const { startCorrelator } = await import('../../services/correlator/src/main.js');
  const { createLogger } = await import('@killtrace/logging');
  const setup = pipelineSetup(name, 1, { KILLTRACE_HTTP_PORT: '0' });
  const correlator = await startCorrelator(setup.config, createLogger({ name: `${name}-correlator`, level: 'warn', format: 'json' }));
  const close = async (): Promise<void> => {
    await correlator.close();
    await cleanup(setup, kafkaFor(setup), elasticFor(setup));
  };
  try {
    const expected = new Map<string, RestartRecord>();
    const kafka = kafkaFor(setup);
    for (const example of ['host-agent-crashloop', 'shop-inventory-mixed']) {
      const dir = `${root}examples/${example}`;
      await produceSignals(kafka, setup.topics, await bundleSignals(dir));
      for (const [id, record] of await expectedRecords(dir)) expected.set(id, record);
    }
    const es = elasticFor(setup);
    const { docs } = await waitForDocs(es, setup.alias, expected, 90_000);
    await es.close();
    return { alias: setup.alias, records: [...docs.values()], close };
  } catch (error) {
    await close();
    throw error;
  }
}
