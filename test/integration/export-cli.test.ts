import { createElasticClient, type ElasticClient } from '@killtrace/elastic';
import type { RestartRecord } from '@killtrace/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../services/cli/src/main.js';
import { dropRecords, exampleRecords, seedRecords } from './example-records.js';
import { integrationConfig, uniqueSuffix } from './helpers.js';

// `killtrace export` from Elasticsearch gives the bundle export's document, and streams a week of a workload.

const EXAMPLE = new URL('../../examples/host-agent-crashloop', import.meta.url).pathname;
const alias = `kt-export-${uniqueSuffix()}`;
const weekAlias = `kt-export-week-${uniqueSuffix()}`;
let elastic: ElasticClient;
const url = (): string => integrationConfig().elasticsearch.url;

function stream(sink: string[], isTTY: boolean): NodeJS.WriteStream {
  return { write: (chunk: string) => sink.push(chunk) > 0, isTTY, columns: 100 } as unknown as NodeJS.WriteStream;
}

async function run(args: string[], tty = false): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'killtrace', ...args], { stdout: stream(out, false), stderr: stream(err, tty) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const shift = (iso: string | null, ms: number): string | null => (iso === null ? null : new Date(Date.parse(iso) + ms).toISOString());

/** A week of the crash loop: the example's seven incarnations repeated 90 times, each copy 112 min after the last. */
function week(records: readonly RestartRecord[], copies: number): RestartRecord[] {
  const host = records.filter((r) => r.kubernetes.namespace === 'onecloud');
  const out: RestartRecord[] = [];
  for (let i = 0; i < copies; i++) {
    const ms = i * 112 * 60_000;
    for (const r of host) {
      const c = structuredClone(r);
      c.killtrace.restart.count = r.killtrace.restart.count + i * host.length;
      c['@timestamp'] = shift(c['@timestamp'], ms) ?? c['@timestamp'];
      c.killtrace.started_at = shift(c.killtrace.started_at, ms);
      c.killtrace.killed_at = shift(c.killtrace.killed_at, ms);
      c.killtrace.finished_at = shift(c.killtrace.finished_at, ms);
      c.killtrace.probe.first_failure_at = shift(c.killtrace.probe.first_failure_at, ms);
      c.killtrace.init.step_started_at = shift(c.killtrace.init.step_started_at, ms);
      c.killtrace.log.last_line_at = shift(c.killtrace.log.last_line_at, ms);
      c.killtrace.timeline = c.killtrace.timeline.map((e) => ({ ...e, at: shift(e.at, ms) ?? e.at }));
      out.push(c);
    }
  }
  return out;
}

beforeAll(async () => {
  elastic = createElasticClient(integrationConfig().elasticsearch);
  const records = await exampleRecords();
  await seedRecords(elastic, alias, records);
  await seedRecords(elastic, weekAlias, week(records, 90));
});

afterAll(async () => {
  await dropRecords(elastic, alias);
  await dropRecords(elastic, weekAlias);
  await elastic?.close();
});

describe('killtrace export from Elasticsearch', () => {
  it('writes the same document as from the bundle, in every format and scope', async () => {
    const scopes = [
      ['--workload', 'onecloud/default-host'],
      ['--pod', 'onecloud/default-host-x7k2p', '--from', '2026-10-02T06:33:00Z'],
      ['--id', 'fd886e36-4a19-4d16-a666-e71cf7582046:host:6'],
    ];
    for (const scope of scopes) {
      for (const format of ['markdown', 'html', 'json', 'csv']) {
        const fromBundle = await run(['export', '--bundle', EXAMPLE, ...scope, '-f', format, '--cluster-name', 'integration']);
        const fromElastic = await run(['export', '--elasticsearch', url(), '--index', alias, ...scope, '-f', format]);
        expect(fromElastic.code).toBe(0);
        expect(fromElastic.stdout.length).toBeGreaterThan(100);
        expect(fromElastic.stdout, `${scope.join(' ')} ${format}`).toBe(fromBundle.stdout);
      }
    }
  });

  it('streams a week of a workload page by page, with progress on a terminal', async () => {
    const { code, stdout, stderr } = await run(['export', '--elasticsearch', url(), '--index', weekAlias, '--workload', 'onecloud/default-host', '-f', 'csv'], true);
    expect(code).toBe(0);
    const rows = stdout.trim().split('\r\n').slice(1);
    const restarts = new Set(rows.map((r) => r.split(',')[5]));
    expect(restarts.size).toBe(630);
    expect(stderr).toContain('summarising 630 / 630 records 100%');
    expect(stderr).toContain('writing 630 / 630 records 100%');
    const md = await run(['export', '--elasticsearch', url(), '--index', weekAlias, '--workload', 'onecloud/default-host', '--from', '2026-10-03T00:00:00Z']);
    expect(md.stdout).toContain('| First kill | 2026-10-03 ');
  });

  it('names an unreachable Elasticsearch', async () => {
    const { code, stderr } = await run(['export', '--elasticsearch', 'http://127.0.0.1:9', '--workload', 'a/b']);
    expect(code).toBe(1);
    expect(stderr).toContain('KT_ERR_ELASTIC_SEARCH');
    expect(stderr).toContain('127.0.0.1:9');
  });
});
