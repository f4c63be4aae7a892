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

  it('gives every line exactly as decoding it alone would, whatever the bytes (ASCII, multi-byte, invalid) and chunking', () => {
    const pieces = [Buffer.from('2026-01-05T10:00:00.000Z stdout F ok'), Buffer.from('\n'), Buffer.from('é€😀'), Buffer.from([0xff]), Buffer.from([0xc3]), Buffer.from([0xe2, 0x82]), Buffer.from('x y')];
    let seed = 5;
    const next = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let round = 0; round < 300; round++) {
      const bytes = Buffer.concat(Array.from({ length: 1 + next(40) }, () => pieces[next(pieces.length)] as Buffer));
      const expected: { text: string; start: number; end: number }[] = [];
      for (let a = 0, nl = bytes.indexOf(10); nl >= 0; a = nl + 1, nl = bytes.indexOf(10, a)) expected.push({ text: bytes.subarray(a, nl).toString('utf8'), start: a, end: nl + 1 });
      const s = new LineSplitter();
      const got: { text: string; start: number; end: number }[] = [];
      for (let at = 0; at < bytes.length; ) {
        const size = 1 + next(round % 2 === 0 ? 8 : 200);
        got.push(...s.push(bytes.subarray(at, at + size), at));
        at += size;
      }
      expect(got).toEqual(expected);
    }
  });
});
