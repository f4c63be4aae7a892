export { Correlator, type CorrelatorOptions, type CorrelatorStats, type CoverageGap, type RecordUpdate } from './correlator.js';
export { formatSeconds } from './recommendation.js';
export { readStatus, type CountSource, type StatusView } from './status-convention.js';
