import { SAVED_OBJECT_IDS } from './ids.js';
import { savedObject, type SavedObject } from './saved-object.js';

/**
 * `killtrace.workload`: a runtime field of the data view (not of the index), `<namespace>/<kind>/<name>` of the
 * owning workload, so one control, one saved search and one chart can address DaemonSets, Deployments,
 * StatefulSets and Jobs alike. Kibana sends it as `runtime_mappings` with every search on the data view.
 * The order prefers the Deployment over its ReplicaSet; a pod without a known owner is `<namespace>/pod/<name>`.
 */
export const WORKLOAD_FIELD = 'killtrace.workload';

/** The index fields the workload runtime field reads, in order of preference. */
export const WORKLOAD_SOURCE_FIELDS = [
  'kubernetes.deployment.name',
  'kubernetes.statefulset.name',
  'kubernetes.daemonset.name',
  'kubernetes.job.name',
  'kubernetes.replicaset.name',
] as const;

export const WORKLOAD_SCRIPT = [
  "if (doc['kubernetes.namespace'].size() == 0) { return; }",
  "String ns = doc['kubernetes.namespace'].value;",
  "for (String kind : ['deployment', 'statefulset', 'daemonset', 'job', 'replicaset']) {",
  "  String f = 'kubernetes.' + kind + '.name';",
  "  if (doc.containsKey(f) && doc[f].size() > 0) { emit(ns + '/' + kind + '/' + doc[f].value); return; }",
  '}',
  "if (doc['kubernetes.pod.name'].size() > 0) { emit(ns + '/pod/' + doc['kubernetes.pod.name'].value); }",
].join('\n');

/** The data view's runtime fields, as Kibana stores them (`runtimeFieldMap`) and sends them (`runtime_mappings`). */
export const RUNTIME_FIELDS: Record<string, { type: 'keyword'; script: { source: string } }> = {
  [WORKLOAD_FIELD]: { type: 'keyword', script: { source: WORKLOAD_SCRIPT } },
};

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
    runtimeFieldMap: JSON.stringify(RUNTIME_FIELDS),
  });
}
