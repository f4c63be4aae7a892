/** Why a step-profile file was refused. */
export type ProfileErrorCode = 'KT_ERR_PROFILE_UNREADABLE' | 'KT_ERR_PROFILE_INVALID' | 'KT_ERR_PROFILE_UNSAFE_REGEX';

/**
 * A step-profile file that cannot be used, with the file, and where known the line and the key (dotted path, e.g.
 * `profiles.0.steps.1.start`) at fault. The message already names all three, so callers print it as is.
 */
export class ProfileError extends Error {
  override readonly name = 'ProfileError';

  constructor(
    readonly code: ProfileErrorCode,
    message: string,
    readonly file: string,
    readonly line?: number,
    readonly key?: string,
  ) {
    super(message);
  }
}
