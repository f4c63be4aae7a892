import { ProfileError, resolveProfiles } from '@killtrace/profiles';
import type { StepProfile } from '@killtrace/schemas';
import { CorrelatorError, EXIT_CONFIG } from './errors.js';

/**
 * The step profiles of the correlator: the files of `correlation.profiles` (validated exactly like
 * `killtrace analyze --profile`, by libs/profiles), then the built-in profiles they do not override. A file that
 * cannot be used is a configuration error naming the file, the line and the key.
 */
export async function loadStepProfiles(files: readonly string[]): Promise<StepProfile[]> {
  try {
    return await resolveProfiles(files);
  } catch (error) {
    if (error instanceof ProfileError) {
      throw new CorrelatorError('KT_ERR_CORRELATOR_PROFILE_INVALID', `correlation.profiles: ${error.message}`, EXIT_CONFIG, { cause: error });
    }
    throw error;
  }
}
