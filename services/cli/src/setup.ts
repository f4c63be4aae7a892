import { ConfigError, loadConfig, type Config } from '@killtrace/config';
import { createElasticClient, installIndexTemplate, type IndexTemplateReport } from '@killtrace/elastic';
import { importSavedObjects, KibanaAdapterError, killtraceSavedObjects, SAVED_OBJECT_IDS, toNdjson, type ImportReport, type KibanaConnection } from '@killtrace/kibana';
import { retry, RetryStopped } from '@killtrace/retry';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './errors.js';

/** Flags of `killtrace setup`; each overrides the matching setting of libs/config. */
export interface SetupFlags {
  kibanaUrl?: string;
  kibanaSpace?: string;
  /** `--no-kibana`: install the index template only. */
  kibana: boolean;
  replicas: number;
  /** Seconds to keep retrying while Kibana is unreachable or answers 503 (starting up). */
  kibanaWait: number;
}

interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** A URL as shown to the user: never with credentials in it. */
function shown(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString().replace(/\/$/, '');
}

function describeTemplate(url: string, report: IndexTemplateReport, alias: string): string {
  const index = report.createdWriteIndex ? `${report.writeIndex} (created)` : `${report.writeIndex} (already there, mapping updated)`;
  return `Elasticsearch ${shown(url)}: index template ${report.indexTemplate} (component ${report.componentTemplate}) installed; write alias ${alias} -> ${index}\n`;
}

function describeImport(report: ImportReport, baseUrl: string, space: string | undefined): string {
  const lines = [`Kibana ${shown(report.url)}: ${report.objects.length} saved objects`];
  const typeWidth = Math.max(...report.objects.map((object) => object.type.length), 5);
  const idWidth = Math.max(...report.objects.map((object) => object.id.length), 2);
  for (const object of report.objects) {
    const title = object.title !== undefined ? `  "${object.title}"` : '';
    const error = object.error !== undefined ? `  (${object.error})` : '';
    lines.push(`  ${object.outcome.padEnd(11)} ${object.type.padEnd(typeWidth)}  ${object.id.padEnd(idWidth)}${title}${error}`.trimEnd());
  }
  const failed = report.objects.filter((object) => object.outcome === 'failed').length;
  const spacePath = space === undefined || space === 'default' ? '' : `/s/${space}`;
  lines.push(
    failed === 0 && report.success
      ? `Kibana: ${report.objects.length} of ${report.objects.length} imported; dashboard: ${shown(baseUrl)}${spacePath}/app/dashboards#/view/${SAVED_OBJECT_IDS.dashboard}`
      : `Kibana: ${failed} of ${report.objects.length} saved objects failed to import`,
  );
  return `${lines.join('\n')}\n`;
}

/** Kibana is starting (503 while it migrates its own indices) or not listening yet: worth waiting for. */
const notReady = (error: unknown): boolean =>
  error instanceof KibanaAdapterError && (error.code === 'KT_ERR_KIBANA_UNREACHABLE' || error.status === 503);

/** Imports, retrying with the back-off of libs/retry (1 s doubling to 5 s) for up to `waitSeconds` while Kibana is not ready; any other failure is final. */
async function importWhenReady(connection: KibanaConnection, ndjson: string, waitSeconds: number, io: Io): Promise<ImportReport> {
  const deadline = Date.now() + waitSeconds * 1000;
  try {
    return await retry(() => importSavedObjects(connection, ndjson), {
      policy: { initialMs: 1_000, maxMs: 5_000 },
      retriable: (error) => notReady(error) && Date.now() < deadline,
      onRetry: (error) => io.stderr.write(`killtrace setup: Kibana not ready (${(error as Error).message}); retrying for ${Math.ceil((deadline - Date.now()) / 1000)} s more\n`),
    });
  } catch (stopped) {
    throw stopped instanceof RetryStopped ? stopped.cause : stopped;
  }
}

/**
 * `killtrace setup`: installs the restart-record index template and write alias (idempotent, libs/elastic), then,
 * when a Kibana URL is configured, imports the saved objects built for the configured alias with overwrite.
 */
export async function runSetup(flags: SetupFlags, io: Io, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  let config: Config;
  try {
    const kibana: Record<string, string> = {};
    if (flags.kibanaUrl !== undefined) kibana.url = flags.kibanaUrl;
    if (flags.kibanaSpace !== undefined) kibana.space = flags.kibanaSpace;
    // setup writes no records, so the cluster name the other commands require has a placeholder here.
    config = loadConfig({ env: { KILLTRACE_CLUSTER_NAME: 'setup', ...env }, overrides: Object.keys(kibana).length > 0 ? { kibana } : {} });
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr.write(`killtrace setup: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }

  const alias = config.elasticsearch.indexPrefix;
  const client = createElasticClient(config.elasticsearch, { maxRetries: 1 });
  try {
    const report = await installIndexTemplate(client, { alias, replicas: flags.replicas });
    io.stdout.write(describeTemplate(config.elasticsearch.url, report, alias));
  } catch (error) {
    io.stderr.write(`killtrace setup: Elasticsearch ${shown(config.elasticsearch.url)}: ${(error as Error).message}\n`);
    return EXIT_FAILED;
  } finally {
    await client.close();
  }

  const kibanaUrl = config.kibana.url;
  if (!flags.kibana) return EXIT_OK;
  if (kibanaUrl === undefined) {
    io.stdout.write('Kibana: no URL configured (KIBANA_URL or --kibana-url), saved objects not imported; deploy/kibana/killtrace.ndjson imports by hand.\n');
    return EXIT_OK;
  }
  try {
    const report = await importWhenReady({ ...config.kibana, url: kibanaUrl }, toNdjson(killtraceSavedObjects(alias)), flags.kibanaWait, io);
    io.stdout.write(describeImport(report, kibanaUrl, config.kibana.space));
    return report.success ? EXIT_OK : EXIT_FAILED;
  } catch (error) {
    io.stderr.write(`killtrace setup: ${(error as Error).message}\n`);
    return EXIT_FAILED;
  }
}
