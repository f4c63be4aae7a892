export * from './signals.js';
export * from './diagnostics.js';
export * from './profile.js';
export * from './restart-record.js';
export { restartRecordId } from './record-id.js';
export * from './messages.js';
export { recordFieldPaths, renderRecordReference } from './record-reference.js';
export { recordWorkload, type RecordWorkload } from './record-workload.js';
export * from './context.js';
