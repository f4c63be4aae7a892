import { describe, expect, it } from 'vitest';
import { JsonStreamSplitter } from './json-stream-splitter.js';

function feed(text: string, chunkSize: number, options = {}): { values: unknown[]; lines: number[]; offsets: number[]; codes: string[] } {
  const s = new JsonStreamSplitter(options);
  const values: unknown[] = [];
  const lines: number[] = [];
  const offsets: number[] = [];
  const codes: string[] = [];
  for (let i = 0; i < text.length; i += chunkSize) {
    const out = s.push(text.slice(i, i + chunkSize));
    out.values.forEach((v) => (values.push(v.value), lines.push(v.line), offsets.push(v.offset)));
    codes.push(...out.diagnostics.map((d) => d.code));
  }
  const end = s.end();
  codes.push(...end.diagnostics.map((d) => d.code));
  return { values, lines, offsets, codes };
}

describe('JsonStreamSplitter', () => {
  const a = { type: 'ADDED', object: { message: 'braces } { and "quotes" and \\ backslashes \\"', n: [1, { x: '}' }] } };
  const b = { kind: 'Pod', metadata: { name: 'p' } };
  const pretty = `${JSON.stringify(a, null, 4)}\n${JSON.stringify(b, null, 2)}\n`;
  const compact = `${JSON.stringify(a)}\n${JSON.stringify(b)}\n`;

  it('splits pretty-printed and compact streams at any chunk size', () => {
    for (const text of [pretty, compact, JSON.stringify(a) + JSON.stringify(b)]) {
      for (const size of [1, 2, 3, 7, 64, 100_000]) {
        const r = feed(text, size);
        expect(r.values, `chunk ${size}`).toEqual([a, b]);
        expect(r.codes).toEqual([]);
      }
    }
  });

  it('reports the line and offset of each value', () => {
    const r = feed(pretty, 5);
    expect(r.lines[0]).toBe(1);
    expect(r.offsets[1]).toBe(pretty.indexOf('{\n  "kind"'));
    expect(r.lines[1]).toBe(pretty.slice(0, r.offsets[1]).split('\n').length);
  });

  it('resynchronises after garbage and after a truncated value', () => {
    const text = `garbage here\n${JSON.stringify(a)}\n{"truncated": {"deep": [1, 2\n${JSON.stringify(b)}\n`;
    const r = feed(text, 10);
    expect(r.values).toEqual([a, b]);
    expect(r.codes).toEqual(['KT_INPUT_BAD_JSON', 'KT_INPUT_TRUNCATED_JSON']);
  });

  it('treats a line break inside a string as damage', () => {
    const r = feed(`{"a": "unterminated\n{"b": 1}\n`, 4);
    expect(r.values).toEqual([{ b: 1 }]);
    expect(r.codes).toEqual(['KT_INPUT_BAD_JSON']);
  });

  it('reports values that are balanced but invalid JSON', () => {
    const r = feed(`{"a": 1,}\n{"b": tru}\n[1]\n`, 3);
    expect(r.values).toEqual([[1]]);
    expect(r.codes).toEqual(['KT_INPUT_BAD_JSON', 'KT_INPUT_BAD_JSON']);
  });

  it('reports a truncated trailing value at end()', () => {
    const r = feed(pretty.slice(0, pretty.length - 10), 16);
    expect(r.values).toEqual([a]);
    expect(r.codes).toEqual(['KT_INPUT_TRUNCATED_JSON']);
  });

  it('handles a huge value in many chunks in linear time', () => {
    const big = { kind: 'List', items: Array.from({ length: 20_000 }, (_, i) => ({ kind: 'Event', i, text: 'x{'.repeat(20) })) };
    const text = JSON.stringify(big, null, 2);
    const started = performance.now();
    const r = feed(text, 4096);
    expect(performance.now() - started).toBeLessThan(5000);
    expect((r.values[0] as typeof big).items).toHaveLength(20_000);
  });

  it('skips values over the size cap and recovers', () => {
    const r = feed(`{"a": "${'x'.repeat(5000)}"}\n{"b": 2}\n`, 1000, { maxValueChars: 2000 });
    expect(r.values).toEqual([{ b: 2 }]);
    expect(r.codes).toEqual(['KT_INPUT_VALUE_TOO_LARGE']);
  });

  it('ignores a byte order mark and blank input', () => {
    expect(feed('\ufeff{"a":1}', 3).values).toEqual([{ a: 1 }]);
    expect(feed('  \n\n', 3)).toMatchObject({ values: [], codes: [] });
  });
});
