import { createRequire } from 'node:module';
import type * as Recheck from 'recheck';
import type { StepProfile } from '@killtrace/schemas';

/** One profile pattern that can backtrack catastrophically. */
export interface UnsafePattern {
  profile: string;
  /** `match.pod`, `ready`, `steps[1] (gpu-vfio-bind).start`, ... */
  where: string;
  pattern: string;
  /** `exponential`, `3rd degree polynomial`, ... */
  complexity: string;
  /** A string that makes it slow, as recheck writes it (JavaScript expression). */
  attack?: string;
}

/**
 * Finds the patterns of step profiles that can hang the analysis on one unlucky log line: exponential backtracking,
 * or polynomial of degree 3 and more. Quadratic patterns (an unanchored `.*`, as in `bind .* to vfio-pci`) are
 * accepted: log lines are cut at 1 MiB and such lines are rare. Uses recheck's pure JavaScript checker (no child
 * process); a pattern it cannot decide within `timeoutMs` is accepted.
 */
export function findUnsafePatterns(profiles: readonly StepProfile[], timeoutMs = 2000): UnsafePattern[] {
  const out: UnsafePattern[] = [];
  // Loaded on first use: the checker is ~30 MB of code that most runs (built-in profiles only) never need.
  const { checkSync } = createRequire(import.meta.url)('recheck') as typeof Recheck;
  for (const profile of profiles) {
    const patterns: Array<[string, string | undefined]> = [
      ['match.namespace', profile.match.namespace],
      ['match.pod', profile.match.pod],
      ['match.container', profile.match.container],
      ['match.image', profile.match.image],
      ['ready', profile.ready],
    ];
    profile.steps.forEach((step, i) => {
      patterns.push([`steps[${i}] (${step.name}).start`, step.start], [`steps[${i}] (${step.name}).end`, step.end]);
    });
    for (const [where, pattern] of patterns) {
      if (pattern === undefined) continue;
      const result = checkSync(pattern, '', { timeout: timeoutMs });
      if (result.status !== 'vulnerable') continue;
      const c = result.complexity;
      if (c.type === 'polynomial' && c.degree < 3) continue;
      out.push({ profile: profile.name, where, pattern, complexity: c.summary, ...(result.attack ? { attack: result.attack.pattern } : {}) });
    }
  }
  return out;
}
