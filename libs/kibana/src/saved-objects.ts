import { dashboardObject } from './dashboard.js';
import { dataViewObject } from './data-view.js';
import { LENS_VISUALIZATIONS, lensObject } from './lens.js';
import type { SavedObject } from './saved-object.js';
import { SAVED_SEARCHES, savedSearchObject } from './saved-searches.js';

/** The default write alias (libs/config `elasticsearch.indexPrefix`), used for the committed NDJSON. */
export const DEFAULT_ALIAS = 'killtrace-restarts';

/**
 * Every Killtrace saved object for the given write alias, referenced objects before the objects that refer to
 * them (the order Kibana exports them in): the data view, the saved searches, the Lens visualizations, the dashboard.
 */
export function killtraceSavedObjects(alias: string = DEFAULT_ALIAS): SavedObject[] {
  return [dataViewObject(alias), ...SAVED_SEARCHES.map(savedSearchObject), ...LENS_VISUALIZATIONS.map(lensObject), dashboardObject()];
}
