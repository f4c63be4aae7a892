import { z } from 'zod';

/**
 * The restart record (CONTRACT.md section 1): one per container termination. Field names are fixed by the
 * contract and follow ECS; Killtrace's own fields live under `killtrace`. Dates are ISO-8601 strings with
 * millisecond precision (what Elasticsearch's `date` type keeps).
 */

const isoDate = z.iso.datetime({ offset: true });

export const causeSchema = z.enum([
  'liveness_probe',
  'startup_probe',
  'oom_killed',
  'evicted',
  'preempted',
  'app_exit',
  'stopped',
  'node_shutdown',
  'unknown',
]);
export type Cause = z.infer<typeof causeSchema>;

export const decidedBySchema = z.enum(['kubelet', 'kernel', 'application', 'api', 'unknown']);
export type DecidedBy = z.infer<typeof decidedBySchema>;

export const confidenceSchema = z.enum(['high', 'medium', 'low']);
export type Confidence = z.infer<typeof confidenceSchema>;

/** `kernel_log` (extension): the kernel's OOM-killer lines. */
export const timelineSourceSchema = z.enum(['event', 'pod_status', 'kubelet_log', 'app_log', 'inference', 'kernel_log']);
export type TimelineSource = z.infer<typeof timelineSourceSchema>;

export const timelineEntrySchema = z.object({
  at: isoDate,
  source: timelineSourceSchema,
  text: z.string(),
});
export type TimelineEntry = z.infer<typeof timelineEntrySchema>;

export const recordProbeSchema = z.object({
  type: z.enum(['liveness', 'startup']).nullable(),
  handler: z.enum(['http', 'tcp', 'exec', 'grpc']).nullable(),
  period_seconds: z.number().int().nullable(),
  timeout_seconds: z.number().int().nullable(),
  failure_threshold: z.number().int().nullable(),
  initial_delay_seconds: z.number().int().nullable(),
  budget_seconds: z.number().nullable(),
  failures: z.number().int().nullable(),
  first_failure_at: isoDate.nullable(),
  last_failure_message: z.string().nullable(),
});

export const recordInitSchema = z.object({
  phase: z.enum(['initializing', 'running', 'unknown']),
  step: z.string().nullable(),
  step_started_at: isoDate.nullable(),
  step_elapsed_seconds: z.number().nullable(),
  completed_steps: z.array(z.string()),
  expected_seconds: z.number().nullable(),
  /** Extension: the step profile that matched this container, if any. */
  profile: z.string().nullable(),
});

export const whatIfSchema = z.object({
  /** Restarts observed for this workload's container in the input. */
  kills_observed: z.number().int(),
  /** Of those, how many the recommended probe would have let through. */
  kills_avoided: z.number().int(),
  text: z.string(),
});

export const recordRecommendationSchema = z.object({
  text: z.string(),
  startup_probe: z
    .object({
      period_seconds: z.number().int(),
      failure_threshold: z.number().int(),
    })
    .nullable(),
  basis: z.string().nullable(),
  what_if: whatIfSchema.nullable(),
});

/**
 * Extension: how `killtrace.restart.count` (and so the document id) was established, most reliable first.
 * `container_id`: a container id in the journal or the status ties the termination to a status entry;
 * `log_file`: its `<N>.log`; `start_time`: the status' `startedAt` matched the first line of a log file;
 * `pod_status`: the kubelet's restartCount/state convention (libs/correlation/src/status-convention.ts);
 * `event_counts`: the counts of aggregated Started/Killing events; `episode_order`: counted from the nearest of
 * those anchors by the order of the kills; `fallback`: nothing names a restart count, so the kills the evidence
 * shows are numbered from 0 in time order (the first one shown is 0): the id is stable for the same evidence but
 * may not match the kubelet's restartCount.
 */
export const countSourceSchema = z.enum(['container_id', 'log_file', 'start_time', 'pod_status', 'event_counts', 'episode_order', 'fallback']);
export type RecordCountSource = z.infer<typeof countSourceSchema>;

/** Extension: `main` (spec.containers), `init` (an init container), `sidecar` (an init container with restartPolicy Always). */
export const containerKindSchema = z.enum(['main', 'init', 'sidecar']);
export type ContainerKind = z.infer<typeof containerKindSchema>;

/** Extension: the aggregated Event that states this kill, when it counts several (client-go event aggregation). */
export const killEventSchema = z.object({
  count: z.number().int().positive(),
  first_at: isoDate,
  last_at: isoDate,
});

/** Extension: what the kernel's OOM-killer lines say about this termination (present only when they were read). */
export const recordOomSchema = z.object({
  /** The killed process's command name (`comm`). */
  process: z.string(),
  pid: z.number().int().nullable(),
  /** When the kernel killed it. */
  killed_at: isoDate,
  /** The cgroup limit that was hit, in bytes (from `memory: usage ..kB, limit ..kB`). */
  memory_limit_bytes: z.number().nullable(),
  memory_usage_bytes: z.number().nullable(),
  /** The killed process's `anon-rss`, in bytes. */
  anon_rss_bytes: z.number().nullable(),
  /** `CONSTRAINT_MEMCG` (a cgroup limit) or `CONSTRAINT_NONE` (the node ran out of memory). */
  constraint: z.string().nullable(),
  /** `task_memcg`: the cgroup of the killed task. */
  cgroup: z.string().nullable(),
  /** How the kill was tied to this record: the runtime container id in the cgroup path, or the incarnation's time span. */
  matched_by: z.enum(['container_id', 'time']),
});
export type RecordOom = z.infer<typeof recordOomSchema>;

export const restartRecordSchema = z.object({
  '@timestamp': isoDate,
  message: z.string(),
  event: z.object({
    kind: z.literal('event'),
    category: z.tuple([z.literal('process')]),
    type: z.tuple([z.literal('end')]),
    action: z.literal('container-restart'),
    dataset: z.literal('killtrace.restart'),
  }),
  orchestrator: z.object({
    type: z.literal('kubernetes'),
    cluster: z.object({ name: z.string() }),
  }),
  kubernetes: z.object({
    namespace: z.string(),
    pod: z.object({ name: z.string(), uid: z.string() }),
    node: z.object({ name: z.string().nullable() }),
    container: z.object({ name: z.string() }),
    labels: z.record(z.string(), z.string()),
    daemonset: z.object({ name: z.string() }).optional(),
    deployment: z.object({ name: z.string() }).optional(),
    statefulset: z.object({ name: z.string() }).optional(),
    replicaset: z.object({ name: z.string() }).optional(),
    job: z.object({ name: z.string() }).optional(),
  }),
  container: z.object({
    id: z.string().nullable(),
    image: z.object({ name: z.string().nullable() }),
  }),
  killtrace: z.object({
    /** Extension: `provisional` while late evidence may still arrive, `final` after. */
    status: z.enum(['provisional', 'final']),
    restart: z.object({ count: z.number().int().nonnegative(), count_source: countSourceSchema }),
    container: z.object({ kind: containerKindSchema }),
    kill_event: killEventSchema.nullable(),
    /** Extension: the kubelet journal says the container's preStop hook had not completed when the grace period ran out. */
    prestop_outlived_grace: z.boolean(),
    cause: causeSchema,
    decided_by: decidedBySchema,
    confidence: confidenceSchema,
    probe_induced: z.boolean(),
    during_init: z.boolean(),
    exit_code: z.number().int().nullable(),
    signal: z.number().int().nullable(),
    reason: z.string().nullable(),
    started_at: isoDate.nullable(),
    killed_at: isoDate.nullable(),
    finished_at: isoDate.nullable(),
    uptime_seconds: z.number().nullable(),
    probe: recordProbeSchema,
    init: recordInitSchema,
    log: z.object({
      last_line: z.string().nullable(),
      last_line_at: isoDate.nullable(),
      silence_seconds: z.number().nullable(),
    }),
    recommendation: recordRecommendationSchema,
    timeline: z.array(timelineEntrySchema),
    oom: recordOomSchema.optional(),
  }),
});
export type RestartRecord = z.infer<typeof restartRecordSchema>;
