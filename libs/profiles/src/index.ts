export { builtinProfileDir, builtinProfiles } from './builtin-profiles.js';
export { loadProfileFile, loadProfileFileSync, parseProfileFile } from './profile-file.js';
export { ProfileError, type ProfileErrorCode } from './profile-error.js';
export { mergeProfiles, resolveProfiles } from './resolve-profiles.js';
export { findUnsafePatterns, type UnsafePattern } from './regex-safety.js';
