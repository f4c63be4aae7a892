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
