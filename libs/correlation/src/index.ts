export type { CorrelatorState, PodState, TrackerState } from './correlator-state.js';
export type { StepTrackerState, LogLine } from './step-tracker.js';
export { Correlator, type CorrelatorOptions, type CorrelatorStats, type CoverageGap, type InitDuration, type RecordUpdate } from './correlator.js';
export { formatSeconds } from './recommendation.js';
export { readStatus, type CountSource, type StatusView } from './status-convention.js';
export { displayName, type LearnedModel, type LearnedStep } from './learned-steps.js';
export { WILDCARD } from './template-miner.js';
export { initAllowance, initMargins, lintWorkload, type LintFinding, type LintOptions, type LintSeverity, type WorkloadProbes } from './probe-lint.js';
export { DEFAULT_NODE_CLASS_LABELS, nodeClassOf, UNLABELLED_CLASS } from './node-class.js';
export { WorkloadHistoryBuilder, percentiles, type WorkloadHistory, type Percentiles } from './workload-history.js';
export type { UnmatchedOom } from './kernel-oom.js';
export { ClusterContext } from './cluster-context.js';
/** One incarnation's log follower and its profile compiler, for readers that follow logs in worker threads. */
export { StepTracker } from './step-tracker.js';
export { compileProfile } from './step-profiles.js';
