import { describe, expect, it } from 'vitest';
import { chunkBySize } from './chunk-by-size.js';

const size = (s: string): number => s.length;

describe('chunkBySize', () => {
  it('keeps order and cuts before the item that would exceed the bound', () => {
    expect(chunkBySize(['aaa', 'bb', 'c', 'dddd', 'e'], 6, size)).toEqual([['aaa', 'bb', 'c'], ['dddd', 'e']]);
  });

  it('fills a chunk exactly to the bound', () => {
    expect(chunkBySize(['aa', 'bb', 'cc', 'd'], 4, size)).toEqual([['aa', 'bb'], ['cc', 'd']]);
  });

  it('gives an item larger than the bound a chunk of its own and loses nothing', () => {
    const items = ['a', 'x'.repeat(10), 'b', 'c'];
    const chunks = chunkBySize(items, 3, size);
    expect(chunks).toEqual([['a'], ['x'.repeat(10)], ['b', 'c']]);
    expect(chunks.flat()).toEqual(items);
  });

  it('returns no chunk for no items', () => {
    expect(chunkBySize([], 10, size)).toEqual([]);
  });
});
