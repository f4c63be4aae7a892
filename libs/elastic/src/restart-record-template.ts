/**
 * Elasticsearch mapping of the restart record (CONTRACT.md section 1, libs/schemas/src/restart-record.ts).
 * Pure data: the index-template code installs it. Strict everywhere except pod labels, so a misspelt field
 * fails loudly at write time instead of silently creating a mapping that dashboards never query.
 */

import type { estypes } from '@elastic/elasticsearch';

type Mapping = estypes.MappingProperty;

const keyword: Mapping = { type: 'keyword', ignore_above: 1024 };
const date: Mapping = { type: 'date' };
const long: Mapping = { type: 'long' };
const double: Mapping = { type: 'double' };
const boolean: Mapping = { type: 'boolean' };
/** Full text for search, plus `.keyword` for exact match, sorting and aggregations. */
const text: Mapping = { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 8191 } } };

const object = (properties: Record<string, Mapping>): Mapping => ({ type: 'object', properties });
const named: Mapping = object({ name: keyword });
/**
 * An owning workload's name, also copied into `killtrace.workload` (indexed, not in `_source`): one field for
 * Kibana's workload control and charts whatever the owner kind (libs/kibana/src/data-view.ts). ReplicaSets are
 * left out so a Deployment's pods carry one workload, not two.
 */
const owner: Mapping = object({ name: { type: 'keyword', ignore_above: 1024, copy_to: 'killtrace.workload' } });

/** The `mappings` section of the restart-record index template. */
export const restartRecordMappings: estypes.MappingTypeMapping = {
  dynamic: 'strict',
  dynamic_templates: [
    {
      // Pod labels are open-ended; dots in label keys are replaced by `_` upstream, so every value is a leaf.
      kubernetes_labels: {
        path_match: 'kubernetes.labels.*',
        mapping: { type: 'keyword', ignore_above: 1024 },
      },
    },
  ],
  properties: {
    '@timestamp': date,
    message: text,
    event: object({ kind: keyword, category: keyword, type: keyword, action: keyword, dataset: keyword }),
    orchestrator: object({ type: keyword, cluster: object({ name: keyword }) }),
    kubernetes: object({
      namespace: keyword,
      pod: object({ name: keyword, uid: keyword }),
      node: named,
      container: named,
      labels: { type: 'object', dynamic: true },
      daemonset: owner,
      deployment: owner,
      statefulset: owner,
      replicaset: named,
      job: owner,
    }),
    container: object({ id: keyword, image: named }),
    killtrace: object({
      status: keyword,
      // Filled by copy_to from the owner names above, never written by Killtrace itself.
      workload: keyword,
      restart: object({ count: long, count_source: keyword }),
      container: object({ kind: keyword }),
      kill_event: object({ count: long, first_at: date, last_at: date }),
      prestop_outlived_grace: boolean,
      cause: keyword,
      decided_by: keyword,
      confidence: keyword,
      probe_induced: boolean,
      during_init: boolean,
      exit_code: long,
      signal: long,
      reason: keyword,
      started_at: date,
      killed_at: date,
      finished_at: date,
      uptime_seconds: double,
      probe: object({
        type: keyword,
        handler: keyword,
        period_seconds: long,
        timeout_seconds: long,
        failure_threshold: long,
        initial_delay_seconds: long,
        budget_seconds: double,
        failures: long,
        first_failure_at: date,
        last_failure_message: text,
      }),
      init: object({
        phase: keyword,
        step: keyword,
        step_started_at: date,
        step_elapsed_seconds: double,
        completed_steps: keyword,
        expected_seconds: double,
        profile: keyword,
      }),
      log: object({ last_line: text, last_line_at: date, silence_seconds: double }),
      recommendation: object({
        text,
        startup_probe: object({ period_seconds: long, failure_threshold: long }),
        basis: text,
        what_if: object({ kills_observed: long, kills_avoided: long, text }),
      }),
      oom: object({
        process: keyword,
        pid: long,
        killed_at: date,
        memory_limit_bytes: long,
        memory_usage_bytes: long,
        anon_rss_bytes: long,
        constraint: keyword,
        cgroup: keyword,
        matched_by: keyword,
      }),
      // nested: "a failed probe followed by a kill" must match within one entry, not across entries.
      timeline: { type: 'nested', properties: { at: date, source: keyword, text } },
    }),
  },
};

/** Index settings of restart-record indices; one shard is plenty for one document per container restart. */
export function restartRecordSettings(options: { shards?: number; replicas?: number } = {}): Record<string, number> {
  return { number_of_shards: options.shards ?? 1, number_of_replicas: options.replicas ?? 1 };
}
