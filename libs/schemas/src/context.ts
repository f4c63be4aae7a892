import { z } from 'zod';
import { producerRefSchema } from './messages.js';

/**
 * The cluster-wide context topic (docs/decisions/0017-cluster-context-topic.md): a compacted topic every correlator
 * process reads whole, so a workload's init history and the node classes do not depend on how pods hash to
 * partitions. Keyed `pod/<uid>` (what one pod tells about its workloads, published by the correlator partition that
 * holds the pod) and `node/<name>` (a Node's class labels, published by the cluster watcher). A null value (tombstone)
 * removes the key.
 */

export const CONTEXT_MESSAGE_VERSION = 1;

/** One incarnation's init duration, from its ready line or the pod's Ready condition (libs/correlation history). */
export const initObservationSchema = z.object({
  /** `namespace/owner/container` (libs/correlation/src/workload.ts `workloadKey`). */
  workload: z.string().min(1),
  restartCount: z.number().int().nonnegative(),
  seconds: z.number().nonnegative(),
});
export type InitObservation = z.infer<typeof initObservationSchema>;

/**
 * Caps on what one pod fact carries (the context topic's messages stay well under Kafka's 1 MB default): kills past
 * MAX_CONTEXT_KILLS and learned incarnations past MAX_CONTEXT_LEARNED_CHARS of keys are left out, newest restart
 * counts first (libs/correlation/src/context-facts.ts). Below the caps the other partitions compute exactly what
 * one process would.
 */
export const MAX_CONTEXT_KILLS = 1_000;
export const MAX_CONTEXT_LEARNED_CHARS = 320_000;

/** A probe kill of one of the pod's incarnations, for the workload-wide what-if (its node class is the pod's node's). */
export const podKillSchema = z.object({
  workload: z.string().min(1),
  container: z.string().min(1),
  restartCount: z.number().int().nonnegative(),
  /** It was still initializing when killed. */
  initializing: z.boolean(),
  /** Seconds from its start to the kill decision. */
  elapsedSeconds: z.number().optional(),
});
export type PodKill = z.infer<typeof podKillSchema>;

/**
 * One incarnation's masked log lines with their first and last sight, and when it was ready or ended: what step
 * learning needs from it (libs/correlation/src/learned-steps.ts IncarnationTemplates; its node class is the pod's
 * node's, its example lines are left out). `last` is clamped just past the init window, so a healthy container's
 * heartbeat does not change the fact.
 */
export const learnedIncarnationSchema = z.object({
  workload: z.string().min(1),
  restartCount: z.number().int().nonnegative(),
  startedAt: z.number(),
  readyAt: z.number().optional(),
  /** `readyAt` is only a bound (it ran well past what its liveness probe allows). */
  readyIsBound: z.literal(true).optional(),
  endedAt: z.number().optional(),
  endedBy: z.number().optional(),
  /** `[masked key, first sight, last sight]`, epoch ms. */
  sightings: z.array(z.tuple([z.string(), z.number(), z.number()])),
});
export type LearnedIncarnation = z.infer<typeof learnedIncarnationSchema>;

/** The init durations the probe linter (and its gauge) counts for one workload container of the pod, and which incarnations they are. */
export const probeInitSchema = z.object({
  workload: z.string().min(1),
  seconds: z.array(z.number().nonnegative()),
  restartCounts: z.array(z.number().int().nonnegative()),
});
export type ProbeInit = z.infer<typeof probeInitSchema>;

/** What one pod contributes to its workloads' history: where it runs and the inits it completed. */
export const podContextSchema = z.object({
  kind: z.literal('pod'),
  uid: z.string().min(1),
  namespace: z.string().min(1),
  name: z.string().min(1),
  node: z.string().min(1).optional(),
  /** Workload container keys of the pod's containers (the classes its recommendation lists come from their nodes). */
  workloads: z.array(z.string().min(1)),
  init: z.array(initObservationSchema),
  // Added within v1 (decision 0017, amended): absent in facts of older correlators, which then count as none.
  /** Its probe kills (the workload-wide what-if per node class). */
  kills: z.array(podKillSchema).max(MAX_CONTEXT_KILLS).optional(),
  /** Its incarnations' template sightings (learned init sequences across the workload's pods). */
  learned: z.array(learnedIncarnationSchema).optional(),
  /** Its init durations as the probe linter counts them (`killtrace_probe_init_margin_seconds`). */
  probeInit: z.array(probeInitSchema).optional(),
});
export type PodContext = z.infer<typeof podContextSchema>;

/** A Node's name and the labels node classes are made of (only the configured ones). */
export const nodeContextSchema = z.object({
  kind: z.literal('node'),
  name: z.string().min(1),
  labels: z.record(z.string(), z.string()),
});
export type NodeContext = z.infer<typeof nodeContextSchema>;

export const contextFactSchema = z.discriminatedUnion('kind', [podContextSchema, nodeContextSchema]);
export type ContextFact = z.infer<typeof contextFactSchema>;

/** A message of the context topic (its key is `contextKey(fact)`). */
export const contextMessageSchema = z.object({
  v: z.literal(CONTEXT_MESSAGE_VERSION),
  producer: producerRefSchema,
  fact: contextFactSchema,
});
export type ContextMessage = z.infer<typeof contextMessageSchema>;

/** The compaction key of a fact: `pod/<uid>` or `node/<name>`. */
export function contextKey(fact: ContextFact): string {
  return fact.kind === 'pod' ? `pod/${fact.uid}` : `node/${fact.name}`;
}

/** The context fact of a Node: only the labels node classes are made of (`keys`, in their order), so it stays small and changes only when a class does. */
export function nodeContextFact(name: string, labels: Readonly<Record<string, string>>, keys: readonly string[]): NodeContext {
  const kept: Record<string, string> = {};
  for (const key of keys) {
    const value = labels[key];
    if (value !== undefined) kept[key] = value;
  }
  // No time in it: the same labels from the cluster watcher and from a replayed bundle are the same fact.
  return { kind: 'node', name, labels: kept };
}
