import { inject } from 'vitest';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createElasticClient } from '@killtrace/elastic';
import { killtraceSavedObjects } from '@killtrace/kibana';
import { main } from '../../services/cli/src/main.js';
import { startFakeKibana, type FakeKibana } from '../fakes/kibana-import-server.js';
import { integrationConfig, uniqueSuffix } from './helpers.js';

// `killtrace setup` end to end: the index template against the real Elasticsearch, the saved objects against a
// stand-in of Kibana's import API that checks requests as Kibana does (test/fakes/kibana-import-server.ts).

const client = createElasticClient(integrationConfig().elasticsearch);
const prefixes: string[] = [];
const total = killtraceSavedObjects().length;
const lensCount = killtraceSavedObjects().filter((object) => object.type === 'lens').length;
let fake: FakeKibana | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

afterAll(async () => {
  for (const prefix of prefixes) {
    await client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true }).catch(() => undefined);
    await client.indices.deleteIndexTemplate({ name: prefix }).catch(() => undefined);
    await client.cluster.deleteComponentTemplate({ name: `${prefix}-mappings` }).catch(() => undefined);
  }
  await client.close();
});

function newPrefix(): string {
  const prefix = `kt-it-setup-${uniqueSuffix()}`;
  prefixes.push(prefix);
  return prefix;
}

/** Runs `killtrace setup ARGS` with the given environment; returns the exit code and what it printed. */
async function setup(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (text: string) => ((stdout += text), true), isTTY: false },
    stderr: { write: (text: string) => ((stderr += text), true), isTTY: false },
  } as unknown as { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream };
  const code = await main(['node', 'killtrace', 'setup', '--replicas', '0', ...args], io, { ELASTICSEARCH_URL: inject('elasticsearchUrl'), ...env });
  return { code, stdout, stderr };
}

describe('killtrace setup', () => {
  it('installs the template and alias, imports every saved object into the space, and is idempotent', async () => {
    fake = await startFakeKibana({ credentials: { username: 'elastic', password: 'changeme' } });
    const prefix = newPrefix();
    const env = {
      KILLTRACE_ELASTICSEARCH_INDEX_PREFIX: prefix,
      KIBANA_URL: fake.url,
      KILLTRACE_KIBANA_SPACE: 'platform',
      KILLTRACE_KIBANA_USERNAME: 'elastic',
      KILLTRACE_KIBANA_PASSWORD: 'changeme',
    };

    const first = await setup([], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`write alias ${prefix} -> ${prefix}-000001 (created)`);
    expect(first.stdout).toContain(`Kibana ${fake.url}/s/platform/api/saved_objects/_import?overwrite=true: ${total} saved objects`);
    expect(first.stdout.match(/^ {2}created /gm)?.length).toBe(total);
    expect(first.stdout).toMatch(new RegExp(`^ {2}created {5}index-pattern {2}killtrace-restarts-data-view +"${prefix}"$`, 'm'));
    expect(first.stdout).toContain(`Kibana: ${total} of ${total} imported; dashboard: ${fake.url}/s/platform/app/dashboards#/view/killtrace-restarts-dashboard`);
    expect(first.stdout).not.toContain('changeme');

    // Elasticsearch: the alias points at the write index, whose mapping has the field the dashboard's controls use.
    const aliases = await client.indices.getAlias({ name: prefix });
    expect(aliases[`${prefix}-000001`]?.aliases[prefix]?.is_write_index).toBe(true);
    const mapping = await client.indices.getFieldMapping({ index: prefix, fields: 'killtrace.workload' });
    expect(mapping[`${prefix}-000001`]?.mappings['killtrace.workload']).toBeDefined();
    const template = await client.indices.getIndexTemplate({ name: prefix });
    expect(template.index_templates[0]?.index_template.index_patterns).toEqual([`${prefix}-*`]);

    // Kibana: one import request as Kibana expects it, the data view on the configured alias.
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/s/platform/api/saved_objects/_import', query: { overwrite: 'true' }, fileName: 'killtrace.ndjson', status: 200 });
    expect(request?.headers['kbn-xsrf']).toBeDefined();
    expect(request?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    const dataView = request?.objects.find((object) => object.type === 'index-pattern');
    expect(dataView?.attributes.title).toBe(prefix);

    const second = await setup([], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`write alias ${prefix} -> ${prefix}-000001 (already there, mapping updated)`);
    expect(second.stdout.match(/^ {2}overwritten /gm)?.length).toBe(total);
    expect(fake.stored.get('platform')?.size).toBe(total);
  });

  it('exits 2 and names each object Kibana refused', async () => {
    fake = await startFakeKibana({ types: ['index-pattern', 'search', 'dashboard'] });
    const result = await setup([], { KILLTRACE_ELASTICSEARCH_INDEX_PREFIX: newPrefix(), KIBANA_URL: fake.url });
    expect(result.code).toBe(2);
    expect(result.stdout.match(/^ {2}failed {6}lens /gm)?.length).toBe(lensCount);
    expect(result.stdout).toMatch(/failed {6}dashboard +killtrace-restarts-dashboard +"Killtrace: container restarts" +\(missing_references: lens\//);
    expect(result.stdout).toContain(`Kibana: ${lensCount + 1} of ${total} saved objects failed to import`);
  });

  it('waits for a Kibana that is still starting (503), and gives up after --kibana-wait on one that never answers', async () => {
    fake = await startFakeKibana({ startingRequests: 2 });
    const prefix = newPrefix();
    const waited = await setup(['--kibana-wait', '30'], { KILLTRACE_ELASTICSEARCH_INDEX_PREFIX: prefix, KIBANA_URL: fake.url });
    expect(waited.code).toBe(0);
    expect(waited.stderr.match(/Kibana not ready \(KT_ERR_KIBANA_HTTP: .* answered HTTP 503: .*not ready yet.*\); retrying/g)?.length).toBe(2);
    expect(fake.requests.map((request) => request.status)).toEqual([503, 503, 200]);

    const url = fake.url;
    await fake.close();
    fake = undefined;
    const gaveUp = await setup(['--kibana-wait', '0'], { KILLTRACE_ELASTICSEARCH_INDEX_PREFIX: prefix, KIBANA_URL: url });
    expect(gaveUp.code).toBe(2);
    expect(gaveUp.stderr).toContain(`KT_ERR_KIBANA_UNREACHABLE: cannot reach Kibana at ${url}/api/saved_objects/_import?overwrite=true`);
  });

  it('exits 2 with the HTTP status when Kibana refuses the credentials', async () => {
    fake = await startFakeKibana({ credentials: { username: 'elastic', password: 'changeme' } });
    const result = await setup(['--kibana-url', fake.url], {
      KILLTRACE_ELASTICSEARCH_INDEX_PREFIX: newPrefix(),
      KILLTRACE_KIBANA_USERNAME: 'elastic',
      KILLTRACE_KIBANA_PASSWORD: 'wrong',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/KT_ERR_KIBANA_HTTP: .* answered HTTP 401/);
    expect(result.stderr).not.toContain('wrong');
  });

  it('installs only the template when no Kibana URL is configured or --no-kibana is given', async () => {
    fake = await startFakeKibana();
    const prefix = newPrefix();
    const without = await setup([], { KILLTRACE_ELASTICSEARCH_INDEX_PREFIX: prefix });
    expect(without.code).toBe(0);
    expect(without.stdout).toContain('Kibana: no URL configured (KIBANA_URL or --kibana-url), saved objects not imported');
    const skipped = await setup(['--no-kibana'], { KILLTRACE_ELASTICSEARCH_INDEX_PREFIX: prefix, KIBANA_URL: fake.url });
    expect(skipped.code).toBe(0);
    expect(fake.requests).toEqual([]);
    expect(await client.indices.existsAlias({ name: prefix })).toBe(true);
  });

  it('rejects an invalid Kibana setting before touching anything, naming the key', async () => {
    const result = await setup(['--kibana-space', 'Not A Space'], { KILLTRACE_ELASTICSEARCH_INDEX_PREFIX: newPrefix(), KIBANA_URL: 'http://127.0.0.1:1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('kibana.space');
    expect(result.stdout).toBe('');
  });
});
