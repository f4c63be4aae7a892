import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { StepProfile } from '@killtrace/schemas';
import { loadProfileFileSync } from './profile-file.js';

/** The directory of the built-in profile files, shipped with this package (`libs/profiles/builtin/*.yaml`). */
export const builtinProfileDir = fileURLToPath(new URL('../builtin/', import.meta.url));

let cached: readonly StepProfile[] | undefined;

/**
 * The profiles that ship with Killtrace, read from `builtinProfileDir` (files in name order) on first use. They are
 * data, validated like a user's file (a broken built-in file fails at start with the file, line and key), except for
 * the backtracking check of their patterns, which profiles.test.ts runs instead of every start.
 */
export function builtinProfiles(): readonly StepProfile[] {
  if (cached === undefined) {
    const files = readdirSync(builtinProfileDir)
      .filter((name) => name.endsWith('.yaml') || name.endsWith('.yml'))
      .sort();
    cached = Object.freeze(files.flatMap((name) => loadProfileFileSync(`${builtinProfileDir}${name}`, { checkPatterns: false })));
  }
  return cached;
}
