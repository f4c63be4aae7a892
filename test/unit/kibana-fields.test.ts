import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { restartRecordMappings } from '@killtrace/elastic';
import { WORKLOAD_FIELD, WORKLOAD_SOURCE_FIELDS, type SavedObject } from '@killtrace/kibana';

// Every field a saved object names must exist in the index template (libs/elastic/src/restart-record-template.ts)
// with a type that can do what the object asks of it: Elasticsearch answers a terms aggregation on a text field
// with an error, and a query on a nested field with nothing.

const objects = readFileSync(fileURLToPath(new URL('../../deploy/kibana/killtrace.ndjson', import.meta.url)), 'utf8')
  .split('\n')
  .filter((line) => line.length > 0)
  .map((line) => JSON.parse(line) as SavedObject);
const dataView = objects.find((object) => object.type === 'index-pattern') as SavedObject;
// Kibana data views may add runtime fields; Killtrace's has none (the workload field is indexed, see below).
const runtimeFields = JSON.parse(String(dataView.attributes.runtimeFieldMap ?? '{}')) as Record<string, { type: string }>;

type MappingProperty = NonNullable<typeof restartRecordMappings.properties>[string];

interface Resolved {
  type: string;
  nested: boolean;
}

/** The mapping of a dotted field path, through object and nested properties (and multi-fields such as `.keyword`). */
function resolve(path: string): Resolved | undefined {
  const runtime = runtimeFields[path];
  if (runtime !== undefined) return { type: runtime.type, nested: false };
  let properties: Record<string, MappingProperty> | undefined = restartRecordMappings.properties;
  let nested = false;
  const parts = path.split('.');
  for (let i = 0; i < parts.length; i += 1) {
    const property: MappingProperty | undefined = properties?.[parts[i] as string];
    if (property === undefined) return undefined;
    const type = property.type ?? 'object';
    if (i === parts.length - 1) return { type, nested };
    if (type === 'nested') nested = true;
    if ('properties' in property && property.properties !== undefined) {
      properties = property.properties;
    } else if ('fields' in property && property.fields !== undefined && i === parts.length - 2) {
      const sub = property.fields[parts[i + 1] as string];
      return sub === undefined ? undefined : { type: sub.type ?? 'object', nested };
    } else {
      return undefined;
    }
  }
  return undefined;
}

const AGGREGATABLE = new Set(['keyword', 'long', 'double', 'date', 'boolean']);
const SEARCHABLE = new Set(['keyword', 'long', 'double', 'date', 'boolean', 'text']);
const SHOWABLE = new Set([...SEARCHABLE]);
const META_FIELDS = new Set(['_id']);

type Use = 'aggregated' | 'searched' | 'shown';
const uses: { field: string; use: Use; where: string }[] = [];

/** Field names in a Lucene query: `field:value`, `field:(a OR b)`, `field:*`. */
function queryFields(query: string): string[] {
  return [...query.matchAll(/([A-Za-z_@][\w.@]*):/g)].map((match) => match[1] as string);
}

for (const [field] of Object.entries(JSON.parse(String(dataView.attributes.fieldFormatMap)) as Record<string, unknown>)) uses.push({ field, use: 'shown', where: 'data view field format' });
for (const [field] of Object.entries(JSON.parse(String(dataView.attributes.fieldAttrs)) as Record<string, unknown>)) uses.push({ field, use: 'shown', where: 'data view label' });
uses.push({ field: String(dataView.attributes.timeFieldName), use: 'aggregated', where: 'data view time field' });

for (const object of objects) {
  if (object.type === 'search') {
    const attributes = object.attributes as { columns: string[]; sort: [string, string][]; kibanaSavedObjectMeta: { searchSourceJSON: string } };
    for (const field of attributes.columns) uses.push({ field, use: 'shown', where: object.id });
    for (const [field] of attributes.sort) uses.push({ field, use: 'aggregated', where: `${object.id} sort` });
    const source = JSON.parse(attributes.kibanaSavedObjectMeta.searchSourceJSON) as { query: { query: string } };
    for (const field of queryFields(source.query.query)) uses.push({ field, use: 'searched', where: `${object.id} query` });
  }
  if (object.type === 'lens') {
    const state = object.attributes.state as {
      query: { query: string };
      datasourceStates: { formBased: { layers: Record<string, { columns: Record<string, { sourceField: string; operationType: string; filter?: { query: string } }> }> } };
    };
    for (const field of queryFields(state.query.query)) uses.push({ field, use: 'searched', where: `${object.id} query` });
    for (const layer of Object.values(state.datasourceStates.formBased.layers)) {
      for (const column of Object.values(layer.columns)) {
        if (column.sourceField !== '___records___') uses.push({ field: column.sourceField, use: 'aggregated', where: `${object.id} ${column.operationType}` });
        for (const field of queryFields(column.filter?.query ?? '')) uses.push({ field, use: 'searched', where: `${object.id} column filter` });
      }
    }
  }
  if (object.type === 'dashboard') {
    const controls = JSON.parse((object.attributes.controlGroupInput as { panelsJSON: string }).panelsJSON) as Record<string, { explicitInput: { fieldName: string } }>;
    for (const control of Object.values(controls)) uses.push({ field: control.explicitInput.fieldName, use: 'aggregated', where: `${object.id} control` });
  }
}

describe('fields of the Kibana saved objects', () => {
  it('are collected from every object (the checks below are not vacuous)', () => {
    expect(uses.filter((use) => use.use === 'aggregated').length).toBeGreaterThan(15);
    expect(uses.filter((use) => use.use === 'searched').length).toBeGreaterThan(8);
    expect(uses.filter((use) => use.use === 'shown').length).toBeGreaterThan(30);
  });

  it('exist in the index template (or are runtime fields of the data view, or _id)', () => {
    const missing = uses.filter((use) => !META_FIELDS.has(use.field) && resolve(use.field) === undefined);
    expect(missing).toEqual([]);
  });

  it('are aggregatable (keyword, numeric, date, boolean; never text or nested) where they are aggregated, sorted or filtered by a control', () => {
    const bad = uses
      .filter((use) => use.use === 'aggregated')
      .map((use) => ({ ...use, mapping: resolve(use.field) }))
      .filter((use) => use.mapping === undefined || !AGGREGATABLE.has(use.mapping.type) || use.mapping.nested);
    expect(bad).toEqual([]);
  });

  it('are indexed for search (text for full text, keyword or boolean for exact values; never nested) where they are queried', () => {
    const bad = uses
      .filter((use) => use.use === 'searched')
      .map((use) => ({ ...use, mapping: resolve(use.field) }))
      .filter((use) => use.mapping === undefined || !SEARCHABLE.has(use.mapping.type) || use.mapping.nested);
    expect(bad).toEqual([]);
    // Exact values (`killtrace.cause:oom_killed`) are matched on keyword or boolean fields; words and phrases
    // (`"deadline exceeded"`) on text fields, which are analysed. A phrase on a keyword field would match nothing.
    for (const use of uses.filter((u) => u.use === 'searched')) {
      const type = resolve(use.field)?.type;
      expect(['keyword', 'boolean', 'text'], `${use.field} in ${use.where}`).toContain(type);
    }
    const phraseFields = objects.flatMap((object) => {
      if (object.type !== 'search') return [];
      const source = JSON.parse((object.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string }).searchSourceJSON) as { query: { query: string } };
      return [...source.query.query.matchAll(/([\w.@]+):\(?"/g)].map((match) => match[1] as string);
    });
    expect(phraseFields.length).toBeGreaterThan(0);
    for (const field of phraseFields) expect(resolve(field)?.type, field).toBe('text');
  });

  it('are displayable where they are shown as columns, formats or labels', () => {
    const bad = uses
      .filter((use) => use.use === 'shown' && !META_FIELDS.has(use.field))
      .map((use) => ({ ...use, mapping: resolve(use.field) }))
      .filter((use) => use.mapping === undefined || !SHOWABLE.has(use.mapping.type));
    expect(bad).toEqual([]);
    // Duration formats only make sense on numbers in seconds.
    for (const field of Object.keys(JSON.parse(String(dataView.attributes.fieldFormatMap)) as object)) {
      if (field.endsWith('_seconds')) expect(resolve(field)?.type).toBe('double');
    }
  });

  it('fills killtrace.workload, which the controls and charts aggregate, from every owner kind by copy_to', () => {
    expect(runtimeFields).toEqual({});
    expect(resolve(WORKLOAD_FIELD)?.type).toBe('keyword');
    for (const field of WORKLOAD_SOURCE_FIELDS) {
      const [, kind] = field.split('.');
      const owner = (restartRecordMappings.properties?.kubernetes as { properties: Record<string, { properties: Record<string, { copy_to?: unknown }> }> }).properties[kind as string];
      expect(owner?.properties.name?.copy_to, field).toBe(WORKLOAD_FIELD);
    }
    expect(uses.some((use) => use.field === WORKLOAD_FIELD && use.use === 'aggregated')).toBe(true);
  });

  it('rejects what it should: a text field is not aggregatable, a nested one not directly searchable, an unknown one missing', () => {
    expect(resolve('message')?.type).toBe('text');
    expect(AGGREGATABLE.has(resolve('message')?.type ?? '')).toBe(false);
    expect(resolve('killtrace.timeline.text')?.nested).toBe(true);
    expect(resolve('killtrace.no_such_field')).toBeUndefined();
    expect(resolve('message.keyword')?.type).toBe('keyword');
  });
});
