import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { EventSignal } from '@killtrace/schemas';
import { describe, expect, it } from 'vitest';
import { containerFromFieldPath, parseEvent } from './event-parser.js';
import { JsonStreamSplitter } from './json-stream-splitter.js';
import { classifyKubernetesValue, parseKubernetesDocument } from './kubernetes-document.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/inputs/events/', import.meta.url));

function parseFile(name: string): { signals: EventSignal[]; codes: string[]; lines: number[] } {
  const splitter = new JsonStreamSplitter({ file: name });
  const text = readFileSync(FIXTURES + name, 'utf8');
  const out = splitter.push(text);
  const end = splitter.end();
  const signals: EventSignal[] = [];
  const codes = [...out.diagnostics, ...end.diagnostics].map((d) => d.code);
  const lines: number[] = [];
  for (const v of out.values) {
    const doc = parseKubernetesDocument(v.value, { file: name, line: v.line, offset: v.offset });
    signals.push(...(doc.signals as EventSignal[]));
    codes.push(...doc.diagnostics.map((d) => d.code));
    lines.push(v.line);
  }
  return { signals, codes, lines };
}

describe('core/v1 Event List', () => {
  const { signals, codes } = parseFile('core-v1-list.json');
  it('keeps aggregated counts and first/last times', () => {
    const unhealthy = signals.find((s) => s.reason === 'Unhealthy');
    expect(unhealthy).toMatchObject({
      kind: 'event',
      uid: 'ev-1',
      count: 14,
      type: 'Warning',
      container: 'api',
      firstAt: Date.UTC(2026, 4, 20, 14, 0, 0),
      lastAt: Date.UTC(2026, 4, 20, 14, 6, 30),
      host: 'node-b',
      reportingComponent: 'kubelet',
      involved: { kind: 'Pod', namespace: 'store', name: 'checkout-api-84f7b9d6c5-m3n4p', uid: '9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4', fieldPath: 'spec.containers{api}' },
    });
    expect(unhealthy?.message).toBe('Liveness probe failed: HTTP probe failed with statuscode: 503');
  });
  it('uses series.count and series.lastObservedTime when present', () => {
    const backoff = signals.find((s) => s.reason === 'BackOff');
    expect(backoff?.count).toBe(7);
    expect(backoff?.lastAt).toBeCloseTo(Date.UTC(2026, 4, 20, 14, 9, 41) + 654.321, 3);
    expect(backoff?.firstAt).toBeCloseTo(Date.UTC(2026, 4, 20, 14, 7, 0) + 123.456, 3);
  });
  it('falls back to creationTimestamp and reads init container field paths', () => {
    const pulled = signals.find((s) => s.reason === 'Pulled');
    expect(pulled).toMatchObject({ lastAt: Date.UTC(2026, 4, 20, 14), container: 'wait-db', count: 1 });
  });
  it('keeps pod-level events without a container', () => {
    const evicted = signals.find((s) => s.reason === 'Evicted');
    expect(evicted?.container).toBeUndefined();
    expect(evicted?.involved.fieldPath).toBeUndefined();
  });
  it('reports the bad item and the foreign kind, parses the rest', () => {
    expect(signals).toHaveLength(5);
    expect(codes).toEqual(['KT_INPUT_BAD_ITEM', 'KT_INPUT_UNKNOWN_KIND']);
  });
});

describe('events.k8s.io/v1', () => {
  const { signals, codes } = parseFile('events-k8s-io-v1-eventlist.json');
  it('reads regarding, note, series, eventTime and deprecated fields (items without kind)', () => {
    expect(codes).toEqual([]);
    expect(signals.map((s) => [s.reason, s.count])).toEqual([
      ['Unhealthy', 5],
      ['Killing', 1],
      ['Started', 2],
    ]);
    expect(signals[0]).toMatchObject({ message: 'Startup probe failed: dial tcp 10.1.2.3:8080: connect: connection refused', container: 'api', reportingComponent: 'kubelet', host: 'node-b' });
    expect(signals[0]?.lastAt).toBeCloseTo(Date.UTC(2026, 4, 20, 14, 1, 40) + 250, 3);
    expect(signals[1]?.lastAt).toBeCloseTo(Date.UTC(2026, 4, 20, 14, 1, 40) + 300, 3);
    expect(signals[2]).toMatchObject({ firstAt: Date.UTC(2026, 4, 20, 13, 59), lastAt: Date.UTC(2026, 4, 20, 14, 2) });
  });
});

describe('watch streams', () => {
  it('pretty-printed: replays and MODIFIED count updates come through in order; BOOKMARK silent, ERROR reported', () => {
    const { signals, codes, lines } = parseFile('watch-pretty.json');
    expect(signals.map((s) => [s.uid, s.count, s.resourceVersion])).toEqual([
      ['wev-1', 1, '501'],
      ['wev-1', 1, '501'],
      ['wev-1', 2, '502'],
      ['wev-1', 3, '503'],
      ['wev-2', 1, '504'],
      ['wev-2', 1, '504'],
    ]);
    expect(signals[0]?.message).toBe('Readiness probe failed: body {"ok":false} and a }{ brace \\ backslash');
    expect(codes).toEqual(['KT_INPUT_WATCH_ERROR']);
    expect(lines[0]).toBe(1);
    expect(lines[1]).toBeGreaterThan(30);
  });
  it('compact with damage: a truncated value and a garbage line are reported, the rest parsed', () => {
    const { signals, codes } = parseFile('watch-compact-damaged.json');
    expect(signals.map((s) => s.count)).toEqual([1, 1, 2, 3, 1, 1]);
    expect(codes.filter((c) => c !== 'KT_INPUT_WATCH_ERROR')).toHaveLength(2);
    expect(codes).toContain('KT_INPUT_BAD_JSON');
  });
  it('truncated at the end: earlier values kept, the tail reported', () => {
    const { signals, codes } = parseFile('watch-truncated-end.json');
    expect(signals).toHaveLength(2);
    expect(codes).toEqual(['KT_INPUT_TRUNCATED_JSON']);
  });
});

describe('single objects and odd values', () => {
  it('classifies values', () => {
    expect(classifyKubernetesValue({ kind: 'List', items: [] })).toBe('list');
    expect(classifyKubernetesValue({ type: 'ADDED', object: {} })).toBe('watch');
    expect(classifyKubernetesValue({ kind: 'Pod' })).toBe('pod');
    expect(classifyKubernetesValue({ kind: 'Event' })).toBe('event');
    expect(classifyKubernetesValue({ kind: 'Deployment' })).toBe('unknown');
    expect(classifyKubernetesValue([1])).toBe('unknown');
  });
  it('warns on unknown kinds and never throws', () => {
    for (const v of [null, 1, 'x', [1, 2], [{ kind: 'Node' }], { kind: 'Node' }, { kind: 'List', items: [1, null, { kind: 'Event' }] }, { type: 'ADDED', object: { kind: 'Secret' } }]) {
      const r = parseKubernetesDocument(v, { file: 'f' });
      expect(r.signals).toEqual([]);
      expect(r.diagnostics.length).toBeGreaterThan(0);
    }
  });
  it('reads a bare array of Events or Pods (kubectl ... -o json | jq .items); an empty array is an empty list', () => {
    const event = { kind: 'Event', involvedObject: { kind: 'Pod', namespace: 'shop', name: 'p', uid: 'u' }, reason: 'Killing', message: 'Stopping container c', lastTimestamp: '2026-12-01T08:00:00Z' };
    expect(classifyKubernetesValue([event])).toBe('array');
    expect(parseKubernetesDocument([event, 7], { file: 'f' })).toMatchObject({ signals: [{ kind: 'event', reason: 'Killing' }], diagnostics: [{ code: 'KT_INPUT_BAD_ITEM' }] });
    expect(parseKubernetesDocument([], { file: 'f' })).toEqual({ signals: [], diagnostics: [] });
  });
  it('skips events without a usable time', () => {
    const r = parseEvent({ kind: 'Event', involvedObject: { kind: 'Pod', name: 'p' }, reason: 'X', lastTimestamp: 'yesterday' });
    expect(r.signal).toBeUndefined();
    expect(r.diagnostics[0]?.code).toBe('KT_INPUT_BAD_ITEM');
  });
  it('prefers the microsecond eventTime when it is the same second as lastTimestamp', () => {
    const r = parseEvent({ kind: 'Event', involvedObject: { kind: 'Pod', name: 'p', namespace: 'n' }, reason: 'Killing', lastTimestamp: '2026-01-01T00:00:05Z', eventTime: '2026-01-01T00:00:05.250000Z' });
    expect(r.signal?.lastAt).toBe(Date.UTC(2026, 0, 1, 0, 0, 5) + 250);
  });
  it('reads container names from field paths', () => {
    expect(containerFromFieldPath('spec.containers{app}')).toBe('app');
    expect(containerFromFieldPath('spec.initContainers{init-db}')).toBe('init-db');
    expect(containerFromFieldPath('metadata.name')).toBeUndefined();
    expect(containerFromFieldPath(undefined)).toBeUndefined();
  });
});
