export { Correlator, type CorrelatorOptions, type CorrelatorStats, type CoverageGap, type RecordUpdate } from './correlator.js';
export { builtinProfiles, mergeProfiles } from './step-profiles.js';
export { formatSeconds } from './recommendation.js';
export { readStatus, type CountSource, type StatusView } from './status-convention.js';
export { WorkloadHistoryBuilder, percentiles, type WorkloadHistory, type Percentiles } from './workload-history.js';
export type { UnmatchedOom } from './kernel-oom.js';
