/** @killtrace/bundle: reads an analysis bundle from disk (CONTRACT.md section 2) and streams its signals. */

/** Reads directories/files, recognising inputs by content, and streams signals to a callback; returns the report. */
export { readBundle } from './read-bundle.js';
/** The same as an async generator of `{ signal }` / `{ diagnostic }` items with backpressure. */
export { iterateBundle } from './iterate-bundle.js';
export type { BundleItem, IterateBundleOptions } from './iterate-bundle.js';
/** Options, progress, reference clock, stats and report types. */
export type { BundleInputs, ContainerLogReader, BundleProgress, BundleReport, BundleStats, InputNote, ReadBundleOptions, ReferenceClock } from './bundle-options.js';
/** Content sniffing of one file's first bytes (exposed for the CLI's `--explain-inputs`-style tooling and tests). */
export { sniffContent } from './sniff.js';
export type { SniffedType } from './sniff.js';
/** Bounded-memory line streaming over any Buffer source (used for CRI logs and journals). */
export { readLines } from './line-reader.js';
export type { LineReadResult, LineReaderOptions } from './line-reader.js';
/** One incarnation's container logs read as a unit (the same code in the main thread and in analysis workers). */
export { MAX_OUTLIER_DIAGNOSTICS, readLogTask } from './log-task.js';
export type { LogIncarnation, LogTask, LogTaskConsumer, LogTaskFile, LogTaskHooks, LogTaskOutcome, LogTaskSettings } from './log-task.js';
