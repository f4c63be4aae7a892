import { z } from 'zod';
import { diagnosticSchema, stepProfileSchema, stepTrackerStateSchema } from '@killtrace/schemas';
import type { LogTask, LogTaskOutcome, LogTaskSettings } from '@killtrace/bundle';
import type { StepTrackerState } from '@killtrace/correlation';

/**
 * Messages between the analyser's main thread and its log workers (services/cli/src/analysis-worker.ts). A thread
 * boundary is an edge like a file or a Kafka topic: both sides validate what they receive.
 */

/** A time that may be unbounded: evidence spans open to -Infinity / +Infinity with fewer than three times. */
const boundTime = z.union([z.number(), z.literal(Number.POSITIVE_INFINITY), z.literal(Number.NEGATIVE_INFINITY)]);
const count = z.number().int().nonnegative();

export const workerDataSchema = z.object({ profiles: z.array(stepProfileSchema) });
export type WorkerData = z.infer<typeof workerDataSchema>;

const logTaskSchema = z.object({
  index: count,
  incarnation: z.object({ namespace: z.string(), pod: z.string(), uid: z.string(), container: z.string(), restartCount: count }),
  groups: z.array(z.array(z.object({ path: z.string(), readPath: z.string(), gzip: z.boolean(), size: count, kubectl: z.boolean() }))),
}) satisfies z.ZodType<LogTask>;

const settingsSchema = z.object({
  maxLineChars: count,
  span: z.object({ low: boundTime, high: boundTime, newest: boundTime, oldest: boundTime, outliers: count }).optional(),
}) satisfies z.ZodType<LogTaskSettings>;

/** Main -> worker: read one incarnation's logs, tracking them as `tracking` says (Correlator.logTracking). */
export const taskMessageSchema = z.object({
  type: z.literal('task'),
  task: logTaskSchema,
  settings: settingsSchema,
  tracking: z.object({ profile: count.optional(), learn: z.boolean() }),
});
export type TaskMessage = z.infer<typeof taskMessageSchema>;

const trackerStateSchema = stepTrackerStateSchema satisfies z.ZodType<StepTrackerState>;

const outcomeSchema = z.object({
  index: count,
  diagnostics: z.array(diagnosticSchema),
  files: count,
  skippedFiles: count,
  lines: count,
  bytes: count,
  signals: count,
  criOutliers: count,
  criOutOfOrder: count,
}) satisfies z.ZodType<LogTaskOutcome>;

/** Worker -> main: progress, a finished task, or a failure naming where it happened. */
export const workerMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), bytes: count, file: z.string() }),
  z.object({ type: z.literal('done'), outcome: outcomeSchema, tracker: trackerStateSchema, latestAt: z.number().optional() }),
  z.object({ type: z.literal('failed'), message: z.string(), file: z.string().optional(), line: count.optional() }),
]);
export type WorkerMessage = z.infer<typeof workerMessageSchema>;
