import type { ElasticClient } from './client.js';
import { ElasticAdapterError } from './errors.js';
import { restartRecordMappings, restartRecordSettings } from './restart-record-template.js';

export interface IndexTemplateOptions {
  /** Write alias; indices are `<alias>-000001`, ... and the templates are named after it. */
  alias: string;
  shards?: number;
  /** Replicas per shard; 0 on a single-node cluster keeps it green. */
  replicas?: number;
}

export interface IndexTemplateReport {
  componentTemplate: string;
  indexTemplate: string;
  writeIndex: string;
  /** False when the write alias already existed (the second and later runs). */
  createdWriteIndex: boolean;
}

/** Another process created the first index between our check and our create: the outcome we wanted. */
const isAlreadyExists = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && JSON.stringify((error as { meta?: { body?: unknown } }).meta?.body ?? '').includes('resource_already_exists_exception');

/**
 * Installs the restart-record mappings as a component template, a composable index template matching
 * `<alias>-*`, and the first index behind the write alias. Idempotent: templates are overwritten with the same
 * content, an existing alias is kept, and new fields are added to the current write index's mapping.
 */
export async function installIndexTemplate(client: ElasticClient, options: IndexTemplateOptions): Promise<IndexTemplateReport> {
  const { alias } = options;
  const componentTemplate = `${alias}-mappings`;
  const indexTemplate = alias;
  const firstIndex = `${alias}-000001`;
  try {
    await client.cluster.putComponentTemplate({
      name: componentTemplate,
      template: { mappings: restartRecordMappings },
      _meta: { managed_by: 'killtrace', description: 'restart record mappings (docs/record.md)' },
    });
    await client.indices.putIndexTemplate({
      name: indexTemplate,
      index_patterns: [`${alias}-*`],
      composed_of: [componentTemplate],
      priority: 200,
      template: { settings: restartRecordSettings(options) },
      _meta: { managed_by: 'killtrace' },
    });
  } catch (cause) {
    throw new ElasticAdapterError('KT_ERR_ELASTIC_TEMPLATE', `installing templates ${componentTemplate} / ${indexTemplate} failed: ${(cause as Error).message}`, {
      target: indexTemplate,
      cause,
    });
  }

  let createdWriteIndex = false;
  const aliasExists = await client.indices.existsAlias({ name: alias });
  if (!aliasExists && (await client.indices.exists({ index: alias }))) {
    // Typically documents were written before the template was installed and auto-created a plain index.
    throw new ElasticAdapterError(
      'KT_ERR_ELASTIC_TEMPLATE',
      `a concrete index named ${alias} exists where the write alias belongs; reindex it into ${firstIndex} and delete it`,
      { target: alias },
    );
  }
  try {
    if (!aliasExists) {
      await client.indices.create({ index: firstIndex, aliases: { [alias]: { is_write_index: true } }, wait_for_active_shards: 1 });
      createdWriteIndex = true;
    } else {
      // Templates only shape new indices; additive mapping changes must reach the live write index too.
      await client.indices.putMapping({ index: alias, ...restartRecordMappings });
    }
  } catch (cause) {
    if (!isAlreadyExists(cause)) {
      const what = aliasExists ? `updating the mapping of ${alias}` : `creating write index ${firstIndex} behind alias ${alias}`;
      throw new ElasticAdapterError('KT_ERR_ELASTIC_TEMPLATE', `${what} failed: ${(cause as Error).message}`, {
        target: alias,
        cause,
      });
    }
  }
  const resolved = await client.indices.getAlias({ name: alias });
  const writeIndex =
    Object.entries(resolved).find(([, v]) => v.aliases?.[alias]?.is_write_index === true)?.[0] ?? Object.keys(resolved)[0] ?? firstIndex;
  return { componentTemplate, indexTemplate, writeIndex, createdWriteIndex };
}
