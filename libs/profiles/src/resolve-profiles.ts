import type { StepProfile } from '@killtrace/schemas';
import { builtinProfiles } from './builtin-profiles.js';
import { loadProfileFile } from './profile-file.js';

/**
 * User profiles first (they override built-ins of the same name), then the remaining built-ins. The order is the
 * order of matching: the first profile whose `match` fits a container is its profile.
 */
export function mergeProfiles(user: readonly StepProfile[], builtin: readonly StepProfile[] = builtinProfiles()): StepProfile[] {
  const names = new Set(user.map((profile) => profile.name));
  return [...user, ...builtin.filter((profile) => !names.has(profile.name))];
}

/**
 * Every profile a run uses: those of `files` (in the order given, as `--profile` and `correlation.profiles` list
 * them), then the built-ins they do not override. Throws `ProfileError` for the first file that cannot be used.
 */
export async function resolveProfiles(files: readonly string[]): Promise<StepProfile[]> {
  const user: StepProfile[] = [];
  for (const file of files) user.push(...(await loadProfileFile(file)));
  return mergeProfiles(user);
}
