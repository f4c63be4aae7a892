import { causeSchema, confidenceSchema, restartRecordSchema } from '@killtrace/schemas';
import { z } from 'zod';

/**
 * The route schemas: request parameters as they arrive on the wire (strings, or arrays of strings for repeated
 * parameters) and the response bodies. Requests are validated with them and the OpenAPI document is generated
 * from them (openapi.ts), so the two cannot drift. Names follow Kubernetes' own rules, so anything else is a 400.
 */

// RFC 1123 label (namespaces, containers) and subdomain (pods, workloads, nodes): apimachinery's validation.
const dnsLabel = z.string().max(63).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a Kubernetes name (RFC 1123 label: a-z, 0-9, -)');
const dnsSubdomain = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'expected a Kubernetes name (RFC 1123 subdomain: a-z, 0-9, -, .)');
const isoTime = z.iso.datetime({ offset: true, message: 'expected an RFC 3339 time like 2026-10-02T06:30:00Z' });
const bool = z.enum(['true', 'false']);
const oneOrMany = <T extends z.ZodType>(item: T) => z.union([item, z.array(item).max(20)]);
export const recordIdSchema = z
  .string()
  .max(400)
  .regex(/^[A-Za-z0-9-]{1,128}:[a-z0-9]([-a-z0-9]*[a-z0-9])?:\d{1,9}$/, 'expected a record id <pod uid>:<container>:<restart count>');

export const recordFiltersQuery = z.strictObject({
  namespace: dnsLabel.optional().describe('Kubernetes namespace'),
  workload: dnsSubdomain.optional().describe('owning DaemonSet, Deployment, StatefulSet, ReplicaSet or Job'),
  pod: dnsSubdomain.optional().describe('pod name'),
  container: dnsLabel.optional().describe('container name'),
  node: dnsSubdomain.optional().describe('node name'),
  cause: oneOrMany(causeSchema).optional().describe('one or more causes (repeat the parameter)'),
  confidence: oneOrMany(confidenceSchema).optional().describe('one or more confidences (repeat the parameter)'),
  probe_induced: bool.optional().describe('killed by a failed liveness or startup probe'),
  during_init: bool.optional().describe('ended before the container finished initializing'),
  from: isoTime.optional().describe('earliest @timestamp (inclusive)'),
  to: isoTime.optional().describe('latest @timestamp (exclusive)'),
});

export const listRecordsQuery = recordFiltersQuery.extend({
  limit: z.string().regex(/^\d{1,5}$/, 'expected a whole number').optional().describe('page size (default 50, at most api.maxPageSize)'),
  cursor: z.string().max(4096).regex(/^[A-Za-z0-9_-]+$/, 'expected the `next` value of a previous page').optional().describe('the `next` value of the previous page'),
});

export const recordParams = z.strictObject({ id: recordIdSchema.describe('record id <pod uid>:<container>:<restart count>') });

export const timelineQuery = z.strictObject({
  id: recordIdSchema.optional().describe('one restart'),
  namespace: dnsLabel.optional().describe('namespace of the pod or workload'),
  pod: dnsSubdomain.optional().describe('every restart of this pod'),
  workload: dnsSubdomain.optional().describe('every restart of this workload'),
  container: dnsLabel.optional().describe('only this container'),
  from: isoTime.optional().describe('earliest @timestamp (inclusive)'),
  to: isoTime.optional().describe('latest @timestamp (exclusive)'),
  format: z.enum(['markdown', 'html', 'json', 'csv']).optional().describe('document format (default markdown)'),
});

export const workloadParams = z.strictObject({ namespace: dnsLabel, workload: dnsSubdomain });
export const recommendationQuery = z.strictObject({
  container: dnsLabel.optional().describe('only this container (default: every container with restarts)'),
  from: isoTime.optional().describe('earliest @timestamp (inclusive)'),
  to: isoTime.optional().describe('latest @timestamp (exclusive)'),
});

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    instance: z.string(),
    code: z.string(),
    invalid_params: z.array(z.object({ name: z.string(), reason: z.string() })).optional(),
  })
  .describe('RFC 9457 problem details');

export const recordPageSchema = z.object({
  items: z.array(z.object({ id: z.string(), record: restartRecordSchema })),
  next: z.string().nullable().describe('cursor of the next page; null on the last page'),
  total: z.int(),
  total_is_lower_bound: z.boolean(),
});

const percentilesSchema = z.object({
  count: z.int(),
  min: z.number().nullable(),
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  p99: z.number().nullable(),
  max: z.number().nullable(),
});

export const recommendationSchema = z.object({
  namespace: z.string(),
  workload: z.string(),
  containers: z.array(
    z.object({
      container: z.string(),
      restarts: z.int(),
      probe_kills: z.int(),
      probe_kills_during_init: z.int(),
      init_completed_seconds: percentilesSchema,
      killed_during_init_seconds: percentilesSchema,
      current_tolerance_seconds: z.number().nullable().describe('initialDelaySeconds + failureThreshold x periodSeconds of the newest record'),
      startup_probe: z.object({ period_seconds: z.int(), failure_threshold: z.int(), budget_seconds: z.number() }).nullable(),
      basis: z.string().nullable(),
      what_if: z.object({ kills_observed: z.int(), kills_avoided: z.int(), text: z.string() }),
      kills_over_time: z.array(z.object({ from: z.string(), to: z.string(), kills: z.int() })),
      init_histogram: z.array(z.object({ from_seconds: z.number(), to_seconds: z.number(), completed: z.int(), killed: z.int() })),
      first_at: z.string().nullable(),
      last_at: z.string().nullable(),
    }),
  ),
});
export type RecommendationBody = z.infer<typeof recommendationSchema>;
