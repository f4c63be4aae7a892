import { WORKLOAD_FIELD } from './data-view.js';
import { SAVED_OBJECT_IDS } from './ids.js';
import { savedObject, type SavedObject } from './saved-object.js';

/** A Discover saved search over the restart data view, in Lucene syntax (sent to Elasticsearch as `query_string`). */
export interface SavedSearchDefinition {
  id: string;
  title: string;
  description: string;
  /** Lucene query; Kibana sends it as `query_string` with the data view's time range and filters. */
  query: string;
  columns: string[];
  sort: [string, 'asc' | 'desc'][];
}

const WHERE = ['kubernetes.namespace', WORKLOAD_FIELD, 'kubernetes.pod.name', 'kubernetes.container.name'];

export const SAVED_SEARCHES: readonly SavedSearchDefinition[] = [
  {
    id: SAVED_OBJECT_IDS.searches.probeInducedKills,
    title: 'Killtrace: probe-induced kills',
    description: 'Containers the kubelet killed because a liveness or startup probe failed, with the probe budget and what the application was doing.',
    query: 'killtrace.probe_induced:true',
    columns: [...WHERE, 'killtrace.probe.type', 'killtrace.probe.budget_seconds', 'killtrace.uptime_seconds', 'killtrace.init.step', 'message'],
    sort: [['@timestamp', 'desc']],
  },
  {
    id: SAVED_OBJECT_IDS.searches.killsDuringInit,
    title: 'Killtrace: kills during init',
    description: 'Incarnations that ended before they finished initializing: the init step in progress and how long it had been running.',
    query: 'killtrace.during_init:true',
    columns: [...WHERE, 'killtrace.cause', 'killtrace.init.step', 'killtrace.init.step_elapsed_seconds', 'killtrace.init.expected_seconds', 'killtrace.recommendation.text'],
    sort: [['@timestamp', 'desc']],
  },
  {
    id: SAVED_OBJECT_IDS.searches.workloadRestarts,
    title: "Killtrace: a workload's restarts",
    description:
      'Every restart of a workload (DaemonSet, Deployment, StatefulSet or Job). Pick one in the dashboard\'s Workload and Namespace controls, or add AND killtrace.workload:"<name>" to the query.',
    query: `${WORKLOAD_FIELD}:*`,
    columns: [WORKLOAD_FIELD, 'kubernetes.pod.name', 'kubernetes.container.name', 'killtrace.restart.count', 'killtrace.cause', 'killtrace.confidence', 'message'],
    sort: [['@timestamp', 'desc']],
  },
  {
    id: SAVED_OBJECT_IDS.searches.attributionsToReview,
    title: 'Killtrace: attributions to review (low or medium confidence)',
    description:
      'Restarts whose cause no kubelet line or Event states: inferred from timing and exit status (medium), guessed (low), or unexplained (unknown). Check the timeline before acting on them.',
    query: 'killtrace.confidence:(low OR medium) OR killtrace.cause:unknown',
    columns: [...WHERE, 'killtrace.cause', 'killtrace.confidence', 'killtrace.decided_by', 'killtrace.exit_code', 'message'],
    sort: [['@timestamp', 'desc']],
  },
  {
    id: SAVED_OBJECT_IDS.searches.probeTimeouts,
    title: 'Killtrace: probe timeouts',
    description:
      'Kills whose last probe failure was a timeout (the application did not answer within timeoutSeconds), as opposed to a refused connection or an error status: usually a busy or blocked process, not a dead one.',
    query: 'killtrace.probe.last_failure_message:("deadline exceeded" OR "timed out")',
    columns: [...WHERE, 'killtrace.probe.type', 'killtrace.probe.timeout_seconds', 'killtrace.probe.last_failure_message', 'killtrace.init.step'],
    sort: [['@timestamp', 'desc']],
  },
  {
    id: SAVED_OBJECT_IDS.searches.oomKills,
    title: 'Killtrace: OOM kills',
    description: 'Containers the kernel killed for exceeding their memory limit.',
    query: 'killtrace.cause:oom_killed',
    columns: [...WHERE, 'kubernetes.node.name', 'killtrace.uptime_seconds', 'killtrace.log.last_line', 'message'],
    sort: [['@timestamp', 'desc']],
  },
  {
    id: SAVED_OBJECT_IDS.searches.evictions,
    title: 'Killtrace: evictions',
    description: 'Pods the kubelet evicted (node pressure), by node.',
    query: 'killtrace.cause:evicted',
    columns: ['kubernetes.node.name', ...WHERE, 'killtrace.reason', 'killtrace.uptime_seconds', 'message'],
    sort: [['@timestamp', 'desc']],
  },
];

/** The name under which a saved search (and a Lens layer) refers to its data view. */
export const SEARCH_INDEX_REF = 'kibanaSavedObjectMeta.searchSourceJSON.index';

/** The `search` saved object of one definition. */
export function savedSearchObject(definition: SavedSearchDefinition): SavedObject {
  return savedObject(
    'search',
    definition.id,
    {
      title: definition.title,
      description: definition.description,
      columns: definition.columns,
      sort: definition.sort,
      grid: {},
      hideChart: false,
      isTextBasedQuery: false,
      kibanaSavedObjectMeta: {
        searchSourceJSON: JSON.stringify({
          query: { query: definition.query, language: 'lucene' },
          filter: [],
          indexRefName: SEARCH_INDEX_REF,
        }),
      },
    },
    [{ name: SEARCH_INDEX_REF, type: 'index-pattern', id: SAVED_OBJECT_IDS.dataView }],
  );
}
