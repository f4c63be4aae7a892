/**
 * The Kibana the saved objects are written for (docs/decisions/0010-kibana-saved-objects.md): 8.17, the minor of
 * the Elasticsearch we pin (scripts/stack.sh, docker-compose.yml), because Kibana refuses an Elasticsearch older
 * than itself and 9.x needs Elasticsearch 9.
 *
 * Each type declares the migration version of the format we write. Kibana migrates an imported object forward
 * from its declared version and rejects one that declares a version newer than it knows, so these are versions
 * that every Kibana from 8.9 through 8.17 (and 9.x) knows, never the newest virtual model version of a type.
 */
export const KIBANA_TARGET = {
  /** The Kibana minor the objects are written and documented for. */
  kibanaVersion: '8.17',
  /** The `version` of dashboard panels: the Kibana release whose embeddable format they use. */
  panelVersion: '8.17.0',
  /** Constant since Kibana 8.8, when core stopped versioning every object. */
  coreMigrationVersion: '8.8.0',
  typeMigrationVersion: {
    // Kibana src/plugins/data_views/server/saved_objects/data_views.ts: convertToMultiNamespaceTypeVersion 8.0.0.
    'index-pattern': '8.0.0',
    // src/plugins/saved_search/server/saved_objects/search.ts: the same conversion; the searchSourceJSON with
    // indexRefName format predates it.
    search: '8.0.0',
    // x-pack/plugins/lens: the 8.6.0 migration renamed the datasource to `formBased` (the format written here),
    // 8.9.0 (metric formatter) is the last legacy migration.
    lens: '8.9.0',
    // src/plugins/dashboard/server/dashboard_saved_object: schemas for 8.9.0; model versions 1 and 2 (10.1.0,
    // 10.2.0) change no document, they only add mappings.
    dashboard: '8.9.0',
  },
} as const;

/** The saved-object types this package writes. */
export type SavedObjectType = keyof typeof KIBANA_TARGET.typeMigrationVersion;
