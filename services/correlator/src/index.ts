/** @killtrace/correlator: the streaming correlator service (signals + logs from Kafka -> restart records). */
export { main, startCorrelator, type RunningCorrelator, type CorrelatorPorts } from './main.js';
export { compileOptions, type CorrelatorServiceOptions } from './correlator-options.js';
export { CorrelatorError, correlatorErrorCodes, type CorrelatorErrorCode, EXIT_OK, EXIT_CONFIG, EXIT_RUNTIME } from './errors.js';
export { partitionWatermark, advanceWatermark, encodeCommitMetadata, decodeCommitMetadata, type TopicProgress } from './watermark.js';
export { PartitionState, type ReplayPlan, type ReplayRange, type Acceptance, type FlushTake } from './partition-state.js';
