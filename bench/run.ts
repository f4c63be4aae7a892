/**
 * Runs every `bench/*.bench.ts` case (or `--only <name>`) and prints a summary table. Not part of `npm test`.
 *   npm run bench -- [--log-mb 512] [--only analyze] [--runs 1] [--keep] [--strict] [--smoke]
 * `--log-mb` defaults to env KILLTRACE_BENCH_LOG_MB, else 512 (use 2048 for the memory target). `--strict` exits
 * non-zero when a target is missed. `--smoke` runs every case at a tiny size and judges no target (CI runs it).
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchCase, BenchRow, PeerTable } from './lib/bench-case.js';

const here = dirname(fileURLToPath(import.meta.url));

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const smoke = process.argv.includes('--smoke');
const logMb = Number(arg('log-mb') ?? process.env.KILLTRACE_BENCH_LOG_MB ?? (smoke ? 4 : 512));
if (!Number.isFinite(logMb) || logMb <= 0) {
  console.error(`bench: --log-mb must be a positive number (got ${String(arg('log-mb'))})`);
  process.exit(2);
}
const only = arg('only');
const keep = process.argv.includes('--keep');
const runs = Number(arg('runs') ?? 1);
const strict = process.argv.includes('--strict') && !smoke;
const tables: PeerTable[] = [];
const report = (table: PeerTable): void => void tables.push(table);

const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort();
const results: Array<{ name: string; rows: BenchRow[]; error?: string }> = [];
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: BenchCase };
  const c = mod.default;
  if (only && c.name !== only) continue;
  console.error(`bench: ${c.name}: ${c.description} (log ${logMb} MiB)...`);
  const started = performance.now();
  try {
    results.push({ name: c.name, rows: await c.run({ logMb, keep, runs, smoke, report }) });
  } catch (err) {
    results.push({ name: c.name, rows: [], error: err instanceof Error ? err.message : String(err) });
  }
  // Each case's own wall time, so a slow case (and CI's smoke run, .ci/run) is easy to spot.
  console.error(`bench: ${c.name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

const table = results.flatMap((r) =>
  r.error
    ? [[r.name, 'ERROR', r.error.split('\n')[0] ?? '', '', '']]
    : r.rows.map((row) => [r.name, row.metric, `${row.value}${row.unit ? ` ${row.unit}` : ''}`, row.target ?? '', row.ok === undefined || smoke ? '' : row.ok ? 'ok' : 'MISS']),
);
const header = ['case', 'metric', 'value', 'target', ''];
const widths = header.map((h, i) => Math.min(100, Math.max(h.length, ...table.map((row) => (row[i] ?? '').length))));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const row of table) console.log(line(row).trimEnd());
for (const t of tables) {
  const head = ['', ...t.columns];
  const body = t.rows.map((r) => [r.metric, ...r.cells]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(w[i] ?? 0) : c.padStart(w[i] ?? 0))).join(' | ')} |`;
  console.log(`\n${t.title}${smoke ? ' (smoke size: figures mean nothing)' : ''}`);
  console.log(fmt(head));
  console.log(`| ${w.map((n, i) => (i === 0 ? '-'.repeat(n) : `${'-'.repeat(Math.max(1, n - 1))}:`)).join(' | ')} |`);
  for (const r of body) console.log(fmt(r));
  for (const note of t.notes ?? []) console.log(`  ${note}`);
}
for (const r of results) if (r.error) console.error(`\n${r.name}: ${r.error}`);

const failed = results.some((r) => r.error) || (strict && results.some((r) => r.rows.some((row) => row.ok === false)));
process.exit(failed ? 1 : 0);
