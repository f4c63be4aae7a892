import { loadProfileFile as loadFile, ProfileError } from '@killtrace/profiles';
import type { StepProfile } from '@killtrace/schemas';
import { CliError, type CliErrorCode } from './errors.js';

const cliCodes: Record<ProfileError['code'], CliErrorCode> = {
  KT_ERR_PROFILE_UNREADABLE: 'KT_ERR_CLI_PROFILE_UNREADABLE',
  KT_ERR_PROFILE_INVALID: 'KT_ERR_CLI_PROFILE_INVALID',
  KT_ERR_PROFILE_UNSAFE_REGEX: 'KT_ERR_CLI_PROFILE_UNSAFE_REGEX',
};

/** Reads a `--profile` file with the loader the services share (libs/profiles), as a CLI error when it is refused. */
export async function loadProfileFile(path: string): Promise<StepProfile[]> {
  try {
    return await loadFile(path);
  } catch (error) {
    if (error instanceof ProfileError) throw new CliError(cliCodes[error.code], error.message);
    throw error;
  }
}
