/* global process, console */
// Where a correlator's CPU went during the pipeline benchmark's throughput phase, from the V8 CPU profile of that
// phase (KILLTRACE_BENCH_CPU_PROF, bench/lib/pipeline-clients.ts, bench/lib/cpu-profiled.mjs). Self time is attributed to the area of the function's file; functions without a file (V8 builtins
// such as JSON.parse, Buffer#toString) count for the area of their nearest caller that has one.
// Usage: node bench/lib/cpu-profile-summary.mjs <file.cpuprofile> [...]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const AREAS = [
  ['kafkajs client', /node_modules\/kafkajs\//],
  ['@platformatic/kafka client', /node_modules\/(@platformatic\/|mnemonist|fastq|debug|scule)/],
  ['bench adapter (platformatic batch consumer)', /bench\/lib\/platformatic-batch-consumer/],
  ['profiler', /bench\/lib\/cpu-profiled\.mjs/],
  ['libs/kafka (port, decode: JSON.parse)', /libs\/kafka\//],
  ['zod validation', /node_modules\/zod\//],
  ['libs/schemas (message -> signals)', /libs\/schemas\//],
  ['libs/correlation (pure core)', /libs\/correlation\//],
  ['services/correlator (pipeline, partition state, flush)', /services\/correlator\//],
  ['prom-client metrics', /node_modules\/prom-client\//],
  ['pino logging', /node_modules\/(pino|sonic-boom)/],
  ['Node.js internals (net, streams, timers)', /^node:/],
];

function areaOf(url) {
  if (url === '') return undefined;
  for (const [name, re] of AREAS) if (re.test(url)) return name;
  return 'other JavaScript';
}

function summarise(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const area = new Map();
  const resolve = (id) => {
    if (area.has(id)) return area.get(id);
    const n = byId.get(id);
    const fn = n.callFrame.functionName;
    let a;
    if (fn === '(idle)') a = 'idle';
    else if (fn === '(garbage collector)') a = 'garbage collection';
    else if (fn === '(program)') a = 'V8/native (program)';
    else a = areaOf(n.callFrame.url) ?? (parent.has(id) ? resolve(parent.get(id)) : 'V8/native (program)');
    area.set(id, a);
    return a;
  };
  const times = [];
  let t = profile.startTime;
  for (const d of profile.timeDeltas) times.push((t += d));
  const first = 0;
  const last = profile.samples.length - 1;
  const totals = new Map();
  for (let i = first; i <= last; i += 1) {
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const a = resolve(profile.samples[i]);
    totals.set(a, (totals.get(a) ?? 0) + dt);
  }
  const windowMs = (times[last] ?? 0) / 1000 - (times[first] ?? 0) / 1000;
  const busy = [...totals].filter(([a]) => a !== 'idle').reduce((s, [, ms]) => s + ms, 0);
  console.log(`${basename(file)}: throughput phase ${(windowMs / 1000).toFixed(2)} s, ${(busy / 1000).toFixed(2)} s busy (${((100 * busy) / windowMs).toFixed(0)} %), idle ${((totals.get('idle') ?? 0) / 1000).toFixed(2)} s`);
  for (const [a, ms] of [...totals].filter(([x]) => x !== 'idle').sort((x, y) => y[1] - x[1])) {
    console.log(`  ${((100 * ms) / busy).toFixed(1).padStart(5)} %  ${(ms / 1000).toFixed(2).padStart(6)} s  ${a}`);
  }
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node bench/lib/cpu-profile-summary.mjs <file.cpuprofile> [...]');
  process.exit(2);
}
for (const f of files) summarise(f);
