/* global process, performance, console */
// One side of the learned-steps benchmark: runAnalysis() with step learning on or off, in a fresh process; prints
// one JSON line. Usage: node [--import tsx] learn-child.mjs <module path> <bundle dir> on|off
import { pathToFileURL } from 'node:url';
import { peakRssMb } from './peak-rss.mjs';

const [modulePath, dir, learn] = process.argv.slice(2);
const mod = await import(pathToFileURL(modulePath).href);
const began = performance.now();
const result = await mod.runAnalysis({ dir, clusterName: 'bench', learnSteps: learn === 'on' });
const ms = performance.now() - began;
const learned = result.records.filter((r) => r.killtrace.init.step_source === 'learned').length;
console.log(JSON.stringify({ ms, records: result.records.length, learned, bytes: result.stats.bytes, peakRssMb: peakRssMb() }));
