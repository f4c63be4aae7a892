import { z } from 'zod';
import type { CorrelatorState } from '@killtrace/correlation';
import { eventSignalSchema, kernelOomSignalSchema, kubeletSignalSchema, podSnapshotSchema, stepProfileSchema, stepTrackerStateSchema } from '@killtrace/schemas';

/**
 * What a partition snapshot holds (decision 0016), validated with zod when read back from the snapshots topic: the
 * pure core's state (libs/correlation/src/correlator-state.ts), the partition's event-time progress, and the exact
 * offsets of `signals` and `logs` the state covers. A snapshot that fails this schema is ignored with a warning
 * (services/correlator/src/snapshots.ts) and the partition is rebuilt by replay, as without snapshots.
 */

/** Format of the snapshot payload; a reader ignores any other. */
export const SNAPSHOT_VERSION = 1;

const finite = z.number().finite();
const entries = <K extends z.ZodType, V extends z.ZodType>(key: K, value: V) => z.array(z.tuple([key, value]));

const trackerStateSchema = stepTrackerStateSchema.extend({ profile: z.int().min(0).optional() });

const podStateSchema = z.object({
  key: z.string().min(1),
  namespace: z.string(),
  name: z.string(),
  uid: z.string().optional(),
  snapshot: podSnapshotSchema.optional(),
  snapshotObservedAt: finite.optional(),
  containers: z.array(z.object({ name: z.string(), kubelet: z.array(kubeletSignalSchema), logs: entries(z.int(), trackerStateSchema) })),
  events: entries(z.string(), eventSignalSchema),
  podKubelet: z.array(kubeletSignalSchema),
});

const count = z.int().min(0);

const workloadKillSchema = z.object({
  podUid: z.string(),
  container: z.string(),
  restartCount: z.int(),
  nodeClass: z.string().optional(),
  initializing: z.boolean(),
  elapsedSeconds: finite.optional(),
});

export const correlatorStateSchema = z.object({
  version: z.literal(1),
  profiles: z.array(stepProfileSchema),
  pods: z.array(podStateSchema),
  uidsByName: entries(z.string(), z.array(z.string())),
  counts: z.object({ pod: count, event: count, kubelet: count, app_log: count, kernel_oom: count, node: count }),
  kernelOoms: entries(z.string(), entries(z.string(), kernelOomSignalSchema)),
  kernelOomsOutsidePods: count,
  ignored: count,
  dirty: z.array(z.string()),
  emitted: entries(z.string(), finite),
  finalizeAt: entries(z.string(), finite),
  historyDigest: entries(z.string(), z.string()),
  latestAt: finite.optional(),
  nodes: entries(z.string(), z.record(z.string(), z.string())),
  podKills: entries(z.string(), entries(z.string(), z.array(workloadKillSchema))),
  killsByWorkload: entries(z.string(), entries(z.string(), z.array(workloadKillSchema))),
  lastLog: z.object({ uid: z.string(), podKey: z.string(), container: z.string(), restartCount: z.int() }).optional(),
}) satisfies z.ZodType<CorrelatorState>;

/** Event-time progress of one topic of the partition at the snapshot. */
const topicProgressSchema = z.object({
  /** Next offset to read: every message before it is in the state, none after. */
  next: z.int().min(0),
  /** Newest event time read; absent while none. */
  maxEventTime: finite.optional(),
});

export const partitionSnapshotSchema = z.object({
  v: z.literal(SNAPSHOT_VERSION),
  groupId: z.string().min(1),
  partition: z.int().min(0),
  /** Wall-clock time the state was captured (for logs and the age metric; never used for correlation). */
  takenAt: finite,
  /** Digest of what shapes the state besides the input (cluster name, profiles, state window; snapshots.ts). */
  settings: z.string().min(1),
  watermark: finite.optional(),
  lastEvictWatermark: finite.optional(),
  /** Per topic name; a topic of which nothing was read yet is absent. */
  topics: z.record(z.string(), topicProgressSchema),
  core: correlatorStateSchema,
});
export type PartitionSnapshot = z.infer<typeof partitionSnapshotSchema>;
