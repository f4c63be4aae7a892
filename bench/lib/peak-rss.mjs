import { readFileSync } from 'node:fs';
import process from 'node:process';

/** This process's peak resident set size in MB (VmHWM on Linux, maxRSS elsewhere). */
export function peakRssMb() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}
