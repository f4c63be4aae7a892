import { SAVED_OBJECT_IDS } from './ids.js';
import { savedObject, type SavedObject } from './saved-object.js';

/**
 * `killtrace.workload`: the owning workload's name, whatever its kind (DaemonSet, Deployment, StatefulSet, Job).
 * The index template fills it with `copy_to` from the owner fields (libs/elastic/src/restart-record-template.ts),
 * so it is a plain indexed keyword: no runtime field, no script (the pinned test Elasticsearch, the integ-test
 * distribution, has no Painless). Combine it with the namespace control when names repeat across namespaces.
 */
export const WORKLOAD_FIELD = 'killtrace.workload';

/** The record fields copied into the workload field. */
export const WORKLOAD_SOURCE_FIELDS = ['kubernetes.deployment.name', 'kubernetes.statefulset.name', 'kubernetes.daemonset.name', 'kubernetes.job.name'] as const;

/** Record fields in seconds, shown as durations ("2 minutes") instead of bare numbers. */
export const DURATION_FIELDS = [
  'killtrace.uptime_seconds',
  'killtrace.probe.budget_seconds',
  'killtrace.init.step_elapsed_seconds',
  'killtrace.init.expected_seconds',
  'killtrace.log.silence_seconds',
] as const;

/** Labels Discover and Lens show instead of the field names. */
export const FIELD_LABELS: Record<string, string> = {
  'killtrace.uptime_seconds': 'Uptime at kill',
  'killtrace.probe.budget_seconds': 'Probe budget',
  'killtrace.init.step': 'Init step in progress',
  'killtrace.init.step_elapsed_seconds': 'Step running for',
  'killtrace.init.expected_seconds': 'Expected init time',
  'killtrace.log.silence_seconds': 'Log silence before kill',
  [WORKLOAD_FIELD]: 'Workload',
  _id: 'Record id',
};

/** The time field of the data view: every search Kibana runs on it is bounded by a range on this field. */
export const TIME_FIELD = '@timestamp';

function fieldFormatMap(alias: string): Record<string, unknown> {
  const formats: Record<string, unknown> = {};
  for (const field of DURATION_FIELDS) {
    formats[field] = {
      id: 'duration',
      params: { inputFormat: 'seconds', outputFormat: 'humanizePrecise', outputPrecision: 1, includeSpaceWithSuffix: true, useShortSuffix: true },
    };
  }
  // The record id (`<pod uid>:<container>:<restart count>`) opens the record alone in Discover. A template without a
  // leading slash is resolved by Kibana under the current space's `/app/`, so the link works in any space.
  formats._id = {
    id: 'url',
    params: { type: 'a', urlTemplate: `discover#/doc/${SAVED_OBJECT_IDS.dataView}/${alias}?id={{value}}`, labelTemplate: '{{value}}', openLinkInCurrentTab: false },
  };
  return formats;
}

/** The data view on the restart-record write alias (the only place the index name appears). */
export function dataViewObject(alias: string): SavedObject {
  const fieldAttrs: Record<string, { customLabel: string }> = {};
  for (const [field, customLabel] of Object.entries(FIELD_LABELS)) fieldAttrs[field] = { customLabel };
  return savedObject('index-pattern', SAVED_OBJECT_IDS.dataView, {
    title: alias,
    name: 'Killtrace restarts',
    timeFieldName: TIME_FIELD,
    allowNoIndex: true,
    fields: '[]',
    sourceFilters: '[]',
    fieldFormatMap: JSON.stringify(fieldFormatMap(alias)),
    fieldAttrs: JSON.stringify(fieldAttrs),
  });
}
