import { WORKLOAD_FIELD } from './data-view.js';
import { SAVED_OBJECT_IDS } from './ids.js';
import { KIBANA_TARGET } from './target.js';
import { savedObject, type SavedObject, type SavedObjectReference } from './saved-object.js';

/** A panel on the 48-column dashboard grid, showing a saved object by reference. */
interface PanelDefinition {
  panelIndex: string;
  type: 'lens' | 'search';
  id: string;
  title: string;
  grid: { x: number; y: number; w: number; h: number };
}

/** An options-list control over one field of the data view. */
export interface ControlDefinition {
  id: string;
  fieldName: string;
  title: string;
}

/** The dashboard's controls; their selections become filters on every panel (and the embedded saved search). */
export const DASHBOARD_CONTROLS: readonly ControlDefinition[] = [
  { id: 'control-namespace', fieldName: 'kubernetes.namespace', title: 'Namespace' },
  { id: 'control-workload', fieldName: WORKLOAD_FIELD, title: 'Workload' },
  { id: 'control-cause', fieldName: 'killtrace.cause', title: 'Cause' },
];

/**
 * The layout (README "Kibana" sketches it): the timeline across the top, the probe questions in the middle, the
 * table that shows "killed before init could finish", then the restarts themselves, filtered by the controls.
 */
export const DASHBOARD_PANELS: readonly PanelDefinition[] = [
  { panelIndex: 'restarts-over-time', type: 'lens', id: SAVED_OBJECT_IDS.lens.restartsOverTime, title: 'Restarts over time by cause', grid: { x: 0, y: 0, w: 48, h: 12 } },
  { panelIndex: 'top-workloads', type: 'lens', id: SAVED_OBJECT_IDS.lens.topWorkloadsProbeKills, title: 'Top workloads by probe-induced kills', grid: { x: 0, y: 12, w: 16, h: 14 } },
  { panelIndex: 'init-step', type: 'lens', id: SAVED_OBJECT_IDS.lens.initStepAtKill, title: 'Init step in progress at kill', grid: { x: 16, y: 12, w: 16, h: 14 } },
  { panelIndex: 'nodes', type: 'lens', id: SAVED_OBJECT_IDS.lens.nodesMostKills, title: 'Nodes with the most kills', grid: { x: 32, y: 12, w: 16, h: 14 } },
  { panelIndex: 'uptime-vs-budget', type: 'lens', id: SAVED_OBJECT_IDS.lens.uptimeVsBudget, title: 'Uptime at kill against the probe budget', grid: { x: 0, y: 26, w: 48, h: 12 } },
  { panelIndex: 'restarts', type: 'search', id: SAVED_OBJECT_IDS.searches.workloadRestarts, title: 'Restarts', grid: { x: 0, y: 38, w: 48, h: 16 } },
];

/** The name under which the dashboard refers to a panel's saved object (`<panelIndex>:<panelRefName>`). */
export const panelReferenceName = (panelIndex: string): string => `${panelIndex}:panel_${panelIndex}`;
/** The name under which the dashboard refers to a control's data view. */
export const controlReferenceName = (controlId: string): string => `controlGroup_${controlId}:optionsListDataView`;

/** The `dashboard` saved object. */
export function dashboardObject(): SavedObject {
  const panels = DASHBOARD_PANELS.map((panel) => ({
    version: KIBANA_TARGET.panelVersion,
    type: panel.type,
    gridData: { ...panel.grid, i: panel.panelIndex },
    panelIndex: panel.panelIndex,
    embeddableConfig: { title: panel.title, enhancements: {} },
    panelRefName: `panel_${panel.panelIndex}`,
  }));
  const controls: Record<string, unknown> = {};
  DASHBOARD_CONTROLS.forEach((control, order) => {
    controls[control.id] = {
      order,
      width: 'medium',
      grow: true,
      type: 'optionsListControl',
      explicitInput: {
        id: control.id,
        fieldName: control.fieldName,
        title: control.title,
        searchTechnique: 'prefix',
        selectedOptions: [],
        singleSelect: false,
        exclude: false,
        existsSelected: false,
        sort: { by: '_count', direction: 'desc' },
        enhancements: {},
      },
    };
  });
  const references: SavedObjectReference[] = [
    ...DASHBOARD_PANELS.map((panel) => ({ name: panelReferenceName(panel.panelIndex), type: panel.type, id: panel.id })),
    ...DASHBOARD_CONTROLS.map((control) => ({ name: controlReferenceName(control.id), type: 'index-pattern' as const, id: SAVED_OBJECT_IDS.dataView })),
  ];
  return savedObject(
    'dashboard',
    SAVED_OBJECT_IDS.dashboard,
    {
      title: 'Killtrace: container restarts',
      description:
        'Which kubelet decision killed which step of which workload: restarts by cause, probe-induced kills, the init step they interrupted, uptime against the probe budget, and the nodes with the most kills.',
      panelsJSON: JSON.stringify(panels),
      optionsJSON: JSON.stringify({ useMargins: true, syncColors: false, syncCursor: true, syncTooltips: false, hidePanelTitles: false }),
      timeRestore: true,
      timeFrom: 'now-7d',
      timeTo: 'now',
      refreshInterval: { pause: true, value: 60_000 },
      controlGroupInput: {
        controlStyle: 'oneLine',
        chainingSystem: 'HIERARCHICAL',
        ignoreParentSettingsJSON: JSON.stringify({ ignoreFilters: false, ignoreQuery: false, ignoreTimerange: false, ignoreValidations: false }),
        panelsJSON: JSON.stringify(controls),
      },
      kibanaSavedObjectMeta: { searchSourceJSON: JSON.stringify({ query: { query: '', language: 'lucene' }, filter: [] }) },
      version: 1,
    },
    references,
  );
}
