/* global process, performance, console */
// The analysis side of the analyze benchmark: runAnalysis() on a bundle directory in a fresh process; prints one
// JSON line. Usage: node [--import tsx] analyze-child.mjs <module path or URL> <bundle dir> [workers]
import { pathToFileURL } from 'node:url';
import { peakRssMb } from './peak-rss.mjs';

const [modulePath, dir, workersArg] = process.argv.slice(2);
const workers = workersArg === undefined ? 1 : Number(workersArg);
const mod = await import(pathToFileURL(modulePath).href);
const began = performance.now();
const result = await mod.runAnalysis({ dir, clusterName: 'bench', workers });
const ms = performance.now() - began;
const causes = {};
for (const r of result.records) causes[r.killtrace.cause] = (causes[r.killtrace.cause] ?? 0) + 1;
console.log(
  JSON.stringify({
    ms,
    records: result.records.length,
    causes,
    stats: result.stats,
    diagnostics: result.diagnostics.length,
    workers: result.workers ?? 1,
    peakRssMb: peakRssMb(),
    cpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
  }),
);
