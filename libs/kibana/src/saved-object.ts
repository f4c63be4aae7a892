import type { SavedObjectType } from './target.js';
import { KIBANA_TARGET } from './target.js';

/** A reference from one saved object to another, by id; `name` is how the referring attributes point at it. */
export interface SavedObjectReference {
  name: string;
  type: SavedObjectType;
  id: string;
}

/** One line of an export/import NDJSON file. */
export interface SavedObject {
  id: string;
  type: SavedObjectType;
  attributes: Record<string, unknown>;
  references: SavedObjectReference[];
  coreMigrationVersion: string;
  typeMigrationVersion: string;
}

/** A saved object stamped with the migration versions of its type (src/target.ts). */
export function savedObject(type: SavedObjectType, id: string, attributes: Record<string, unknown>, references: SavedObjectReference[] = []): SavedObject {
  return {
    id,
    type,
    attributes,
    references,
    coreMigrationVersion: KIBANA_TARGET.coreMigrationVersion,
    typeMigrationVersion: KIBANA_TARGET.typeMigrationVersion[type],
  };
}

/** NDJSON as Kibana exports it: one object per line, newline-terminated. */
export function toNdjson(objects: readonly SavedObject[]): string {
  return objects.map((object) => `${JSON.stringify(object)}\n`).join('');
}
