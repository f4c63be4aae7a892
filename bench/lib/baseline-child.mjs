/* global process, performance, console */
// Baseline for the analyze benchmark: read the same container log files line by line (gunzip for `.gz`) and count
// lines. Runs in a fresh process; prints one JSON line. Usage: node baseline-child.mjs <file-list.json>
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { peakRssMb } from './peak-rss.mjs';

const files = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const began = performance.now();
let lines = 0;
let bytes = 0;
for (const file of files) {
  const raw = createReadStream(file);
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const rl = createInterface({ input, crlfDelay: Infinity });
  for await (const line of rl) {
    lines++;
    bytes += line.length + 1;
  }
}
const ms = performance.now() - began;
console.log(JSON.stringify({ ms, lines, bytes, peakRssMb: peakRssMb(), cpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6 }));
