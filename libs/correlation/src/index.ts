export { Correlator, type CorrelatorOptions, type CorrelatorStats, type CoverageGap, type RecordUpdate } from './correlator.js';
export { builtinProfiles, mergeProfiles } from './step-profiles.js';
export { formatSeconds } from './recommendation.js';
export type { UnmatchedOom } from './kernel-oom.js';
