import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  controlReferenceName,
  DASHBOARD_CONTROLS,
  KIBANA_TARGET,
  killtraceSavedObjects,
  LENS_LAYER_REF,
  panelReferenceName,
  SEARCH_INDEX_REF,
  toNdjson,
  type SavedObject,
} from './index.js';

const repo = (path: string): string => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
const committed = readFileSync(repo('deploy/kibana/killtrace.ndjson'), 'utf8');
const lines = committed.split('\n').filter((line) => line.length > 0);
const objects = lines.map((line) => JSON.parse(line) as SavedObject);
const byKey = new Map(objects.map((object) => [`${object.type}/${object.id}`, object]));
const attr = (object: SavedObject, key: string): unknown => object.attributes[key];
const parseJsonAttr = (object: SavedObject, key: string): unknown => JSON.parse(String(attr(object, key)));

describe('deploy/kibana/killtrace.ndjson', () => {
  it('is what `npm run kibana:objects` writes from libs/kibana/src (regenerate it after changing the source)', () => {
    expect(committed).toBe(toNdjson(killtraceSavedObjects()));
  });

  it('has one JSON saved object per line, each with id, type, attributes, references and migration versions', () => {
    expect(committed.endsWith('\n')).toBe(true);
    expect(lines.length).toBe(14);
    for (const object of objects) {
      expect(Object.keys(object).sort()).toEqual(['attributes', 'coreMigrationVersion', 'id', 'references', 'type', 'typeMigrationVersion']);
      expect(typeof attr(object, 'title')).toBe('string');
    }
  });

  it('keeps its ids: re-imports with overwrite replace the same objects, links keep working', () => {
    expect(objects.map((object) => `${object.type}/${object.id}`)).toEqual([
      'index-pattern/killtrace-restarts-data-view',
      'search/killtrace-search-probe-induced-kills',
      'search/killtrace-search-kills-during-init',
      'search/killtrace-search-workload-restarts',
      'search/killtrace-search-attributions-to-review',
      'search/killtrace-search-probe-timeouts',
      'search/killtrace-search-oom-kills',
      'search/killtrace-search-evictions',
      'lens/killtrace-lens-restarts-over-time-by-cause',
      'lens/killtrace-lens-top-workloads-probe-kills',
      'lens/killtrace-lens-init-step-at-kill',
      'lens/killtrace-lens-uptime-vs-probe-budget',
      'lens/killtrace-lens-nodes-most-kills',
      'dashboard/killtrace-restarts-dashboard',
    ]);
    expect(new Set(byKey.keys()).size).toBe(objects.length);
  });

  it('declares the migration versions of the Kibana it targets, which is the minor of the pinned Elasticsearch and of compose\'s Kibana', () => {
    const stack = readFileSync(repo('scripts/stack.sh'), 'utf8');
    const compose = readFileSync(repo('docker-compose.yml'), 'utf8');
    const esVersion = /KILLTRACE_ES_VERSION:-(\d+\.\d+)\.\d+/.exec(stack)?.[1];
    const kibanaImage = /kibana\/kibana:(\d+\.\d+)\.\d+/.exec(compose)?.[1];
    expect(esVersion).toBe(KIBANA_TARGET.kibanaVersion);
    expect(kibanaImage).toBe(KIBANA_TARGET.kibanaVersion);
    expect(KIBANA_TARGET.panelVersion.startsWith(`${KIBANA_TARGET.kibanaVersion}.`)).toBe(true);
    const expected: Record<string, string> = { 'index-pattern': '8.0.0', search: '8.0.0', lens: '8.9.0', dashboard: '8.9.0' };
    for (const object of objects) {
      expect(object.coreMigrationVersion, object.id).toBe('8.8.0');
      expect(object.typeMigrationVersion, object.id).toBe(expected[object.type]);
    }
    const dashboard = objects.find((object) => object.type === 'dashboard') as SavedObject;
    for (const panel of parseJsonAttr(dashboard, 'panelsJSON') as { version: string }[]) expect(panel.version).toBe(KIBANA_TARGET.panelVersion);
  });

  it('resolves every reference to an object in the file, and every reference is one the attributes name', () => {
    for (const object of objects) {
      for (const reference of object.references) {
        expect(byKey.has(`${reference.type}/${reference.id}`), `${object.id} -> ${reference.type}/${reference.id}`).toBe(true);
      }
      const names = object.references.map((reference) => reference.name);
      expect(new Set(names).size, object.id).toBe(names.length);
      switch (object.type) {
        case 'index-pattern':
          expect(object.references).toEqual([]);
          break;
        case 'search': {
          const source = JSON.parse((attr(object, 'kibanaSavedObjectMeta') as { searchSourceJSON: string }).searchSourceJSON) as { indexRefName: string };
          expect(source.indexRefName).toBe(SEARCH_INDEX_REF);
          expect(object.references).toEqual([{ name: SEARCH_INDEX_REF, type: 'index-pattern', id: 'killtrace-restarts-data-view' }]);
          break;
        }
        case 'lens': {
          const state = attr(object, 'state') as { datasourceStates: { formBased: { layers: Record<string, unknown> } } };
          const layerRefs = Object.keys(state.datasourceStates.formBased.layers).map((layer) => `indexpattern-datasource-layer-${layer}`);
          expect(layerRefs).toEqual([LENS_LAYER_REF]);
          expect(names).toEqual(layerRefs);
          break;
        }
        case 'dashboard': {
          const panels = parseJsonAttr(object, 'panelsJSON') as { panelIndex: string; panelRefName: string; type: string; gridData: { i: string } }[];
          const controls = JSON.parse((attr(object, 'controlGroupInput') as { panelsJSON: string }).panelsJSON) as Record<string, { explicitInput: { id: string } }>;
          const expectedNames = [
            ...panels.map((panel) => `${panel.panelIndex}:${panel.panelRefName}`),
            ...Object.values(controls).map((control) => `controlGroup_${control.explicitInput.id}:optionsListDataView`),
          ];
          expect(names.sort()).toEqual(expectedNames.sort());
          for (const panel of panels) {
            expect(panel.gridData.i).toBe(panel.panelIndex);
            expect(object.references.find((reference) => reference.name === panelReferenceName(panel.panelIndex))?.type).toBe(panel.type);
          }
          for (const control of DASHBOARD_CONTROLS) {
            expect(object.references.find((reference) => reference.name === controlReferenceName(control.id))?.type).toBe('index-pattern');
          }
          break;
        }
      }
    }
  });

  it('puts every Lens visualization and the workload saved search on the dashboard, on a 48-column grid without overlaps', () => {
    const dashboard = objects.find((object) => object.type === 'dashboard') as SavedObject;
    const referenced = new Set(dashboard.references.map((reference) => `${reference.type}/${reference.id}`));
    for (const object of objects.filter((o) => o.type === 'lens')) expect(referenced.has(`lens/${object.id}`), object.id).toBe(true);
    expect(referenced.has('search/killtrace-search-workload-restarts')).toBe(true);
    const cells = new Set<string>();
    for (const panel of parseJsonAttr(dashboard, 'panelsJSON') as { gridData: { x: number; y: number; w: number; h: number } }[]) {
      const { x, y, w, h } = panel.gridData;
      expect(x + w).toBeLessThanOrEqual(48);
      for (let i = x; i < x + w; i += 1) for (let j = y; j < y + h; j += 1) {
        expect(cells.has(`${i},${j}`)).toBe(false);
        cells.add(`${i},${j}`);
      }
    }
  });

  it('gives the dashboard only the attributes Kibana 8.17 accepts (its schema forbids unknown keys)', () => {
    const dashboard = objects.find((object) => object.type === 'dashboard') as SavedObject;
    // src/plugins/dashboard/server/dashboard_saved_object/schema/v1/v1.ts (unknowns: 'forbid').
    const allowed = ['title', 'description', 'kibanaSavedObjectMeta', 'timeRestore', 'timeFrom', 'timeTo', 'refreshInterval', 'controlGroupInput', 'panelsJSON', 'optionsJSON', 'hits', 'version'];
    for (const key of Object.keys(dashboard.attributes)) expect(allowed, key).toContain(key);
    expect(Object.keys(attr(dashboard, 'controlGroupInput') as object).sort()).toEqual(['chainingSystem', 'controlStyle', 'ignoreParentSettingsJSON', 'panelsJSON']);
  });

  it('gives saved searches only the attributes Kibana accepts (the search type\'s schema forbids unknown keys)', () => {
    // src/plugins/saved_search/server/saved_objects/search.ts, schemas['8.8.0'] (@kbn/config-schema objects forbid unknowns).
    const allowed = ['title', 'description', 'columns', 'sort', 'grid', 'rowHeight', 'rowsPerPage', 'hideChart', 'breakdownField', 'kibanaSavedObjectMeta', 'isTextBasedQuery', 'usesAdHocDataView', 'timeRestore', 'timeRange', 'refreshInterval', 'viewMode', 'hideAggregatedPreview', 'hits', 'version'];
    for (const search of objects.filter((object) => object.type === 'search')) {
      for (const key of Object.keys(search.attributes)) expect(allowed, `${search.id}: ${key}`).toContain(key);
      const sort = attr(search, 'sort') as string[][];
      for (const pair of sort) expect(pair.length).toBe(2);
    }
  });

  it('names the index only in the data view, so another alias needs no other change', () => {
    const alias = 'kt-alias-probe-7f3a';
    const generated = killtraceSavedObjects(alias);
    for (const object of generated) {
      const text = JSON.stringify(object);
      if (object.type === 'index-pattern') {
        expect(object.attributes.title).toBe(alias);
      } else {
        expect(text.includes(alias), object.id).toBe(false);
      }
    }
    expect(objects.find((object) => object.type === 'index-pattern')?.attributes.title).toBe('killtrace-restarts');
  });

  it('uses Lucene in every saved search and Lens query, so Elasticsearch runs them as query_string', () => {
    for (const object of objects) {
      if (object.type === 'search') {
        const source = JSON.parse((attr(object, 'kibanaSavedObjectMeta') as { searchSourceJSON: string }).searchSourceJSON) as { query: { language: string } };
        expect(source.query.language).toBe('lucene');
      }
      if (object.type === 'lens') expect((attr(object, 'state') as { query: { language: string } }).query.language).toBe('lucene');
    }
  });
});
