import { describe, expect, it } from 'vitest';
import { LineSplitter } from './line-splitter.js';

describe('LineSplitter', () => {
  it('emits complete lines with byte offsets and carries the rest across chunks', () => {
    const s = new LineSplitter();
    expect(s.push(Buffer.from('ab\ncd'), 0)).toEqual([{ text: 'ab', start: 0, end: 3 }]);
    expect(s.pendingStart).toBe(3);
    expect(s.push(Buffer.from('e\n\nf'), 5)).toEqual([
      { text: 'cde', start: 3, end: 7 },
      { text: '', start: 7, end: 8 },
    ]);
    expect(s.pendingStart).toBe(8);
    expect(s.push(Buffer.from('\n'), 9)).toEqual([{ text: 'f', start: 8, end: 10 }]);
    expect(s.pendingStart).toBeUndefined();
  });

  it('counts offsets in bytes, not characters', () => {
    const s = new LineSplitter();
    const chunk = Buffer.from('é€\nx\n');
    expect(s.push(chunk, 100)).toEqual([
      { text: 'é€', start: 100, end: 106 },
      { text: 'x', start: 106, end: 108 },
    ]);
  });

  it('keeps a multi-byte character split across chunks intact', () => {
    const s = new LineSplitter();
    const bytes = Buffer.from('€\n');
    expect(s.push(bytes.subarray(0, 1), 0)).toEqual([]);
    expect(s.push(bytes.subarray(1), 1)).toEqual([{ text: '€', start: 0, end: 4 }]);
  });

  it('cuts a line longer than the cap instead of growing without bound', () => {
    const s = new LineSplitter(4);
    expect(s.push(Buffer.from('abcdefg'), 0)).toEqual([{ text: 'abcd', start: 0, end: 7 }]);
    expect(s.push(Buffer.from('h\n'), 7)).toEqual([{ text: 'h', start: 7, end: 9 }]);
  });
});
