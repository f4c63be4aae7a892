/**
 * @killtrace/kibana: Killtrace's Kibana saved objects (data view, saved searches, Lens visualizations, dashboard)
 * built from one TypeScript source of truth, and the only code that talks to Kibana (the saved objects import API).
 * deploy/kibana/killtrace.ndjson is generated from here (`npm run kibana:objects`).
 */
export { KIBANA_TARGET, type SavedObjectType } from './target.js';
export { SAVED_OBJECT_IDS } from './ids.js';
export { savedObject, toNdjson, type SavedObject, type SavedObjectReference } from './saved-object.js';
export { dataViewObject, WORKLOAD_FIELD, WORKLOAD_SOURCE_FIELDS, DURATION_FIELDS, FIELD_LABELS, TIME_FIELD } from './data-view.js';
export { SAVED_SEARCHES, SEARCH_INDEX_REF, savedSearchObject, type SavedSearchDefinition } from './saved-searches.js';
export { LENS_VISUALIZATIONS, LENS_LAYER_REF, lensObject, type LensColumn, type LensDefinition, type LensQuery } from './lens.js';
export { DASHBOARD_CONTROLS, DASHBOARD_PANELS, dashboardObject, panelReferenceName, controlReferenceName, type ControlDefinition } from './dashboard.js';
export { killtraceSavedObjects, DEFAULT_ALIAS } from './saved-objects.js';
export { importSavedObjects, importUrl, type ImportOutcome, type ImportReport, type KibanaConnection } from './import-client.js';
export { KibanaAdapterError, kibanaErrorCodes, type KibanaErrorCode } from './errors.js';
