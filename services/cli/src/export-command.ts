import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { loadConfig } from '@killtrace/config';
import { RecordSnapshot, createElasticClient, type EmptySnapshot, type RecordFilter } from '@killtrace/elastic';
import { compareRecords, inScope, scopeFilter, streamTimeline, timelineFormats, type TimelineFormat, type TimelineScope } from '@killtrace/render';
import type { RestartRecord, StepProfile } from '@killtrace/schemas';
import { CliError, EXIT_OK } from './errors.js';
import { ProgressMeter } from './progress-meter.js';
import { loadProfileFile } from './profile-loader.js';
import { runAnalysis } from './run-analysis.js';

/** Flags of `killtrace export` (see `killtrace export --help`). */
export interface ExportFlags {
  bundle?: string[];
  id?: string;
  pod?: string;
  workload?: string;
  container?: string;
  from?: string;
  to?: string;
  since?: string;
  format: TimelineFormat;
  out?: string;
  elasticsearch?: string;
  index?: string;
  profile?: string[];
  clusterName: string;
  year?: number;
  /** With --bundle: worker threads that read the container logs (as `killtrace analyze --workers`); default auto. */
  workers?: number | 'auto';
}

interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

const DURATION = /^(\d+)(m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

function isoOption(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(t)) throw new CliError('KT_ERR_CLI_BAD_OPTION', `${name} must be an ISO-8601 time like 2026-10-02T06:00:00Z, got "${value}"`);
  return new Date(t).toISOString();
}

function splitNamespaced(flag: string, value: string): { namespace: string; name: string } {
  const [namespace, name, ...rest] = value.split('/');
  if (!namespace || !name || rest.length > 0) throw new CliError('KT_ERR_CLI_BAD_OPTION', `${flag} must be NAMESPACE/NAME, got "${value}"`);
  return { namespace, name };
}

/** The scope the flags ask for: exactly one of --id, --pod, --workload. */
export function exportScope(flags: ExportFlags, now: number): TimelineScope {
  const given = [flags.id, flags.pod, flags.workload].filter((v) => v !== undefined).length;
  if (given !== 1) throw new CliError('KT_ERR_CLI_BAD_OPTION', 'give exactly one of --id RECORD_ID, --pod NAMESPACE/POD or --workload NAMESPACE/NAME');
  if (flags.since !== undefined && flags.from !== undefined) throw new CliError('KT_ERR_CLI_BAD_OPTION', 'give --since or --from, not both');
  let from = isoOption('--from', flags.from);
  const to = isoOption('--to', flags.to);
  if (flags.since !== undefined) {
    const m = DURATION.exec(flags.since);
    if (!m) throw new CliError('KT_ERR_CLI_BAD_OPTION', `--since must be a duration like 30m, 12h, 7d or 2w, got "${flags.since}"`);
    from = new Date(now - Number(m[1]) * (UNIT_MS[m[2] ?? 'd'] ?? 0)).toISOString();
  }
  if (from !== undefined && to !== undefined && from >= to) throw new CliError('KT_ERR_CLI_BAD_OPTION', `--from (${from}) must be before --to (${to})`);
  if (flags.id !== undefined) {
    if (flags.container !== undefined || from !== undefined || to !== undefined) throw new CliError('KT_ERR_CLI_BAD_OPTION', '--id names one restart: --container, --from, --to and --since do not apply');
    return { kind: 'record', id: flags.id };
  }
  if (flags.pod !== undefined) {
    const { namespace, name } = splitNamespaced('--pod', flags.pod);
    return { kind: 'pod', namespace, pod: name, ...(from ? { from } : {}), ...(to ? { to } : {}) };
  }
  const { namespace, name } = splitNamespaced('--workload', flags.workload ?? '');
  return { kind: 'workload', namespace, workload: name, ...(flags.container ? { container: flags.container } : {}), ...(from ? { from } : {}), ...(to ? { to } : {}) };
}

/** A line on a terminal showing how far the two passes are (silent when stderr is not a terminal). */
class PassMeter {
  private shown = false;
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly total: number | null,
  ) {}

  update(pass: 'summary' | 'rows', read: number): void {
    if (!this.stream.isTTY) return;
    const of = this.total !== null ? ` / ${this.total}` : '';
    const pct = this.total ? ` ${Math.floor((read / this.total) * 100)}%` : '';
    this.stream.write(`\r${`${pass === 'summary' ? 'summarising' : 'writing'} ${read}${of} records${pct}`.padEnd(60)}`);
    this.shown = true;
  }

  done(): void {
    if (this.shown) this.stream.write(`\r${' '.repeat(60)}\r`);
  }
}

async function write(stream: NodeJS.WritableStream | WriteStream, chunk: string): Promise<void> {
  if (chunk.length === 0) return;
  if (!stream.write(chunk)) await once(stream, 'drain');
}

/**
 * `killtrace export`: one timeline document from a bundle (embedded analyser) or from Elasticsearch. `onWorkers`
 * learns how many threads read a bundle's container logs.
 */
export async function exportTimeline(flags: ExportFlags, io: Io, now = Date.now(), onWorkers: (workers: number) => void = () => undefined): Promise<number> {
  if (!(timelineFormats as readonly string[]).includes(flags.format)) throw new CliError('KT_ERR_CLI_BAD_OPTION', `--format must be one of ${timelineFormats.join(', ')}`);
  const scope = exportScope(flags, now);
  const out = flags.out !== undefined ? createWriteStream(flags.out) : io.stdout;
  if (flags.out !== undefined) {
    await once(out as WriteStream, 'open').catch((error: Error) => {
      throw new CliError('KT_ERR_CLI_BAD_OPTION', `cannot write --out ${flags.out}: ${error.message}`);
    });
  }
  let summaryRestarts = 0;
  if (flags.bundle !== undefined && flags.bundle.length > 0) {
    if (flags.elasticsearch !== undefined) throw new CliError('KT_ERR_CLI_BAD_OPTION', 'give --bundle or --elasticsearch, not both');
    const profiles: StepProfile[] = [];
    for (const file of flags.profile ?? []) profiles.push(...(await loadProfileFile(file)));
    const meter = new ProgressMeter(io.stderr);
    const [dir, ...more] = flags.bundle;
    const result = await runAnalysis({ dir, logs: more, profiles, clusterName: flags.clusterName, referenceYear: flags.year, workers: flags.workers ?? 'auto', onProgress: (p) => meter.update(p) });
    onWorkers(result.workers);
    meter.done();
    const records: RestartRecord[] = result.records.filter((r) => inScope(r, scope)).sort(compareRecords);
    const summary = await streamTimeline({
      format: flags.format,
      scope,
      open: () => iterate(records),
      write: (chunk) => write(out, chunk),
    });
    summaryRestarts = summary.restarts;
  } else {
    const config = loadConfig({
      env: { KILLTRACE_CLUSTER_NAME: flags.clusterName, ...process.env },
      overrides: flags.elasticsearch !== undefined ? { elasticsearch: { url: flags.elasticsearch } } : undefined,
    });
    const index = flags.index ?? config.elasticsearch.indexPrefix;
    const client = createElasticClient(config.elasticsearch);
    let snapshot: RecordSnapshot | EmptySnapshot | undefined;
    try {
      snapshot = await RecordSnapshot.open(client, index);
      const filter: RecordFilter = scopeFilter(scope);
      const total = await snapshot.count(filter);
      const meter = new PassMeter(io.stderr, total);
      const open = snapshot;
      const summary = await streamTimeline({
        format: flags.format,
        scope,
        open: () => open.records(filter),
        write: (chunk) => write(out, chunk),
        onProgress: (pass, read) => meter.update(pass, read),
      });
      meter.done();
      summaryRestarts = summary.restarts;
    } finally {
      await snapshot?.close();
      await client.close();
    }
  }
  if (flags.out !== undefined) {
    (out as WriteStream).end();
    await once(out as WriteStream, 'finish');
    io.stderr.write(`killtrace: wrote ${flags.format} timeline of ${summaryRestarts} restart(s) to ${flags.out}\n`);
  }
  if (summaryRestarts === 0) io.stderr.write('killtrace: no restart record matches this scope\n');
  return EXIT_OK;
}

async function* iterate<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}
