import { TIME_FIELD, WORKLOAD_FIELD } from './data-view.js';
import { SAVED_OBJECT_IDS } from './ids.js';
import { savedObject, type SavedObject } from './saved-object.js';

/** A Lucene query as Lens stores it (whole visualization or one metric column). */
export interface LensQuery {
  query: string;
  language: 'lucene';
}

/** The columns of a Lens form-based layer that Killtrace uses (a subset of Lens's operations). */
export type LensColumn =
  | { operationType: 'date_histogram'; label: string; sourceField: string }
  | { operationType: 'terms'; label: string; sourceField: string; size: number; orderBy: string; missingBucket: boolean }
  | { operationType: 'count'; label: string; filter?: LensQuery }
  | { operationType: 'max' | 'min'; label: string; sourceField: string; filter?: LensQuery };

/** One Lens visualization: a single data layer on the restart data view. */
export interface LensDefinition {
  id: string;
  title: string;
  description: string;
  visualizationType: 'lnsXY' | 'lnsDatatable';
  /** Applied to the whole visualization, like the query bar of the Lens editor. */
  query: LensQuery;
  /** Column id -> column, in display order (bucket columns first, as Lens orders them). */
  columns: Record<string, LensColumn>;
  /** How the columns are drawn. */
  chart: { seriesType: 'bar_stacked' | 'bar_horizontal'; x: string; y: string; split?: string } | { table: true; sortBy: string };
}

const LAYER = 'layer1';
const lucene = (query: string): LensQuery => ({ query, language: 'lucene' });

export const LENS_VISUALIZATIONS: readonly LensDefinition[] = [
  {
    id: SAVED_OBJECT_IDS.lens.restartsOverTime,
    title: 'Killtrace: restarts over time by cause',
    description: 'Container restarts per interval, stacked by what killed them.',
    visualizationType: 'lnsXY',
    query: lucene(''),
    columns: {
      cause: { operationType: 'terms', label: 'Cause', sourceField: 'killtrace.cause', size: 10, orderBy: 'restarts', missingBucket: false },
      time: { operationType: 'date_histogram', label: 'Time', sourceField: TIME_FIELD },
      restarts: { operationType: 'count', label: 'Restarts' },
    },
    chart: { seriesType: 'bar_stacked', x: 'time', y: 'restarts', split: 'cause' },
  },
  {
    id: SAVED_OBJECT_IDS.lens.topWorkloadsProbeKills,
    title: 'Killtrace: top workloads by probe-induced kills',
    description: 'Workloads whose containers the kubelet killed most often for failed liveness or startup probes.',
    visualizationType: 'lnsXY',
    query: lucene('killtrace.probe_induced:true'),
    columns: {
      workload: { operationType: 'terms', label: 'Workload', sourceField: WORKLOAD_FIELD, size: 10, orderBy: 'kills', missingBucket: false },
      kills: { operationType: 'count', label: 'Probe-induced kills' },
    },
    chart: { seriesType: 'bar_horizontal', x: 'workload', y: 'kills' },
  },
  {
    id: SAVED_OBJECT_IDS.lens.initStepAtKill,
    title: 'Killtrace: init step in progress at kill',
    description: 'For kills during init, the init step that was running; "(missing value)" when no step profile named one.',
    visualizationType: 'lnsXY',
    query: lucene('killtrace.during_init:true'),
    columns: {
      step: { operationType: 'terms', label: 'Init step', sourceField: 'killtrace.init.step', size: 10, orderBy: 'kills', missingBucket: true },
      kills: { operationType: 'count', label: 'Kills during init' },
    },
    chart: { seriesType: 'bar_horizontal', x: 'step', y: 'kills' },
  },
  {
    id: SAVED_OBJECT_IDS.lens.uptimeVsBudget,
    title: 'Killtrace: uptime at kill against the probe budget',
    description:
      'Per workload: probe-induced kills and how many came during init, the longest uptime at a kill next to the probe budget (an uptime of about initial delay + budget means the probe never passed once), how long the interrupted init step had run, and how long init usually takes. Kills during init equal to kills: init never got to finish.',
    visualizationType: 'lnsDatatable',
    query: lucene('killtrace.probe_induced:true'),
    columns: {
      workload: { operationType: 'terms', label: 'Workload', sourceField: WORKLOAD_FIELD, size: 20, orderBy: 'kills', missingBucket: false },
      kills: { operationType: 'count', label: 'Probe-induced kills' },
      duringInit: { operationType: 'count', label: 'Killed during init', filter: lucene('killtrace.during_init:true') },
      longestUptime: { operationType: 'max', label: 'Longest uptime at kill', sourceField: 'killtrace.uptime_seconds' },
      budget: { operationType: 'max', label: 'Probe budget', sourceField: 'killtrace.probe.budget_seconds' },
      stepElapsed: { operationType: 'max', label: 'Longest interrupted step', sourceField: 'killtrace.init.step_elapsed_seconds' },
      expectedInit: { operationType: 'max', label: 'Expected init time', sourceField: 'killtrace.init.expected_seconds' },
    },
    chart: { table: true, sortBy: 'kills' },
  },
  {
    id: SAVED_OBJECT_IDS.lens.nodesMostKills,
    title: 'Killtrace: nodes with the most kills',
    description: 'Nodes ranked by container kills of any cause; a node class that is slow to initialize shows up here first.',
    visualizationType: 'lnsXY',
    query: lucene(''),
    columns: {
      node: { operationType: 'terms', label: 'Node', sourceField: 'kubernetes.node.name', size: 10, orderBy: 'kills', missingBucket: false },
      kills: { operationType: 'count', label: 'Kills' },
    },
    chart: { seriesType: 'bar_horizontal', x: 'node', y: 'kills' },
  },
];

/** A column in Lens's persisted form-based datasource format. */
function persistedColumn(column: LensColumn): Record<string, unknown> {
  const common = { label: column.label, customLabel: true };
  switch (column.operationType) {
    case 'date_histogram':
      return {
        ...common,
        dataType: 'date',
        operationType: 'date_histogram',
        sourceField: column.sourceField,
        isBucketed: true,
        scale: 'interval',
        params: { interval: 'auto', includeEmptyRows: true, dropPartials: false },
      };
    case 'terms':
      return {
        ...common,
        dataType: 'string',
        operationType: 'terms',
        sourceField: column.sourceField,
        isBucketed: true,
        scale: 'ordinal',
        params: {
          size: column.size,
          orderBy: { type: 'column', columnId: column.orderBy },
          orderDirection: 'desc',
          otherBucket: true,
          missingBucket: column.missingBucket,
          parentFormat: { id: 'terms' },
          include: [],
          exclude: [],
          includeIsRegex: false,
          excludeIsRegex: false,
        },
      };
    case 'count':
      return {
        ...common,
        dataType: 'number',
        operationType: 'count',
        sourceField: '___records___',
        isBucketed: false,
        scale: 'ratio',
        params: { emptyAsNull: true },
        ...(column.filter !== undefined ? { filter: column.filter } : {}),
      };
    case 'max':
    case 'min':
      return {
        ...common,
        dataType: 'number',
        operationType: column.operationType,
        sourceField: column.sourceField,
        isBucketed: false,
        scale: 'ratio',
        params: { emptyAsNull: true },
        ...(column.filter !== undefined ? { filter: column.filter } : {}),
      };
  }
}

function visualizationState(definition: LensDefinition): Record<string, unknown> {
  const chart = definition.chart;
  if ('table' in chart) {
    return {
      layerId: LAYER,
      layerType: 'data',
      columns: Object.keys(definition.columns).map((columnId) => ({ columnId })),
      sorting: { columnId: chart.sortBy, direction: 'desc' },
    };
  }
  return {
    legend: { isVisible: chart.split !== undefined, position: 'right' },
    valueLabels: chart.seriesType === 'bar_horizontal' ? 'show' : 'hide',
    preferredSeriesType: chart.seriesType,
    fittingFunction: 'None',
    layers: [
      {
        layerId: LAYER,
        layerType: 'data',
        seriesType: chart.seriesType,
        xAccessor: chart.x,
        accessors: [chart.y],
        ...(chart.split !== undefined ? { splitAccessor: chart.split } : {}),
      },
    ],
  };
}

/** The name under which a Lens layer refers to its data view. */
export const LENS_LAYER_REF = `indexpattern-datasource-layer-${LAYER}`;

/** The `lens` saved object of one definition (by reference: the dashboard points at it by id). */
export function lensObject(definition: LensDefinition): SavedObject {
  const columns: Record<string, unknown> = {};
  for (const [id, column] of Object.entries(definition.columns)) columns[id] = persistedColumn(column);
  return savedObject(
    'lens',
    definition.id,
    {
      title: definition.title,
      description: definition.description,
      visualizationType: definition.visualizationType,
      state: {
        datasourceStates: {
          formBased: { layers: { [LAYER]: { columns, columnOrder: Object.keys(definition.columns), incompleteColumns: {}, sampling: 1 } } },
        },
        visualization: visualizationState(definition),
        query: definition.query,
        filters: [],
        internalReferences: [],
        adHocDataViews: {},
      },
    },
    [{ name: LENS_LAYER_REF, type: 'index-pattern', id: SAVED_OBJECT_IDS.dataView }],
  );
}
