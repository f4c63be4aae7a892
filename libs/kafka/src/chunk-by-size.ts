/**
 * Splits `items` into consecutive runs whose summed `sizeOf` stays within `maxSize`, in order; an item larger than
 * `maxSize` is a run of its own (never dropped, never split). Used to keep produce requests under the broker's
 * `message.max.bytes` (services/collector/src/publish/log-batches.ts, services/correlator/src/record-sink.ts).
 */
export function chunkBySize<T>(items: readonly T[], maxSize: number, sizeOf: (item: T) => number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    const n = sizeOf(item);
    if (current.length > 0 && size + n > maxSize) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += n;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
