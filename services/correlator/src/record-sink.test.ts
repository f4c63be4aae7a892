import { describe, expect, it } from 'vitest';
import type { RecordUpdate } from '@killtrace/correlation';
import type { RestartRecord } from '@killtrace/schemas';
import { byEncodedSize } from './record-sink.js';

const update = (id: string, size: number): RecordUpdate => ({ id, record: { message: 'x'.repeat(size) } as unknown as RestartRecord });

describe('record sink helpers', () => {
  it('splits a flush into produce requests under the byte bound, keeping order', () => {
    const updates = ['a', 'b', 'c', 'd', 'e'].map((id) => update(id, 300));
    const chunks = byEncodedSize(updates, 1_000);
    expect(chunks.map((c) => c.map((u) => u.id))).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(byEncodedSize([update('big', 5_000)], 1_000)).toHaveLength(1);
    expect(byEncodedSize([], 1_000)).toEqual([]);
  });
});
