/* global process */
// Runs a service entry with a V8 CPU profile of one phase: the first SIGUSR2 starts the profiler, the second stops
// it and writes the profile to <out> (bench/lib/pipeline-clients.ts sends them around the throughput phase).
// (`--cpu-prof` is not allowed in NODE_OPTIONS and profiles the whole life, startup included.)
// Usage: node bench/lib/cpu-profiled.mjs <out.cpuprofile> <entry script> [args...]
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [out, entry, ...rest] = process.argv.slice(2);
if (out === undefined || entry === undefined) {
  process.stderr.write('usage: node bench/lib/cpu-profiled.mjs <out.cpuprofile> <entry script> [args...]\n');
  process.exit(2);
}
const session = new Session();
session.connect();
let running = false;
process.on('SIGUSR2', () => {
  if (!running) {
    running = true;
    session.post('Profiler.enable', () => session.post('Profiler.start'));
    return;
  }
  running = false;
  session.post('Profiler.stop', (error, result) => {
    if (error === null) writeFileSync(out, JSON.stringify(result.profile));
  });
});
process.argv = [process.argv[0], resolve(entry), ...rest];
await import(pathToFileURL(resolve(entry)).href);
