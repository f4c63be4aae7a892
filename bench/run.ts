/**
 * Runs every `bench/*.bench.ts` case (or `--only <name>`) and prints a summary table. Not part of `npm test`.
 *   npm run bench -- [--log-mb 512] [--only analyze] [--runs 1] [--keep] [--strict]
 * `--log-mb` defaults to env KILLTRACE_BENCH_LOG_MB, else 512 (use 2048 for the memory target). `--strict` exits
 * non-zero when a target is missed.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchCase, BenchRow } from './lib/bench-case.js';

const here = dirname(fileURLToPath(import.meta.url));

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const logMb = Number(arg('log-mb') ?? process.env.KILLTRACE_BENCH_LOG_MB ?? 512);
if (!Number.isFinite(logMb) || logMb <= 0) {
  console.error(`bench: --log-mb must be a positive number (got ${String(arg('log-mb'))})`);
  process.exit(2);
}
const only = arg('only');
const keep = process.argv.includes('--keep');
const runs = Number(arg('runs') ?? 1);
const strict = process.argv.includes('--strict');

const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort();
const results: Array<{ name: string; rows: BenchRow[]; error?: string }> = [];
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: BenchCase };
  const c = mod.default;
  if (only && c.name !== only) continue;
  console.error(`bench: ${c.name}: ${c.description} (log ${logMb} MiB)...`);
  try {
    results.push({ name: c.name, rows: await c.run({ logMb, keep, runs }) });
  } catch (err) {
    results.push({ name: c.name, rows: [], error: err instanceof Error ? err.message : String(err) });
  }
}

const table = results.flatMap((r) =>
  r.error
    ? [[r.name, 'ERROR', r.error.split('\n')[0] ?? '', '', '']]
    : r.rows.map((row) => [r.name, row.metric, `${row.value}${row.unit ? ` ${row.unit}` : ''}`, row.target ?? '', row.ok === undefined ? '' : row.ok ? 'ok' : 'MISS']),
);
const header = ['case', 'metric', 'value', 'target', ''];
const widths = header.map((h, i) => Math.min(100, Math.max(h.length, ...table.map((row) => (row[i] ?? '').length))));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const row of table) console.log(line(row));
for (const r of results) if (r.error) console.error(`\n${r.name}: ${r.error}`);

const failed = results.some((r) => r.error) || (strict && results.some((r) => r.rows.some((row) => row.ok === false)));
process.exit(failed ? 1 : 0);
