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
