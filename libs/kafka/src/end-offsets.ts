import type { Admin, Consumer as KafkajsConsumer } from 'kafkajs';

/**
 * "Read a topic to its end", shared by readPartitions (partition-reader.ts) and the table reader (table-reader.ts):
 * the high watermarks taken when reading starts are the ends, and a partition is caught up once the consumer's
 * position (the next offset it fetches) reaches its end. The position, not the last message's offset: offsets that
 * return no message (transaction markers, aborted transactions' records) still move the position, and a partition
 * may hold nothing readable at all below its high watermark (decision 0017).
 */

/** The high watermark of each partition of `topic` that holds anything (`partitions`: only these). */
export async function fetchEndOffsets(admin: Admin, topic: string, partitions?: readonly number[]): Promise<Map<number, number>> {
  const ends = new Map<number, number>();
  for (const o of await admin.fetchTopicOffsets(topic)) {
    if (partitions !== undefined && !partitions.includes(o.partition)) continue;
    if (Number(o.high) > Number(o.low)) ends.set(o.partition, Number(o.high));
  }
  return ends;
}

/** Tracks which partitions are still below the end they had when reading started. */
export interface EndOffsetTracker {
  /** The consumer will fetch `partition` from `position` next; true when this brought that partition to its end. */
  advance(partition: number, position: number): boolean;
  /** Whether `partition` still has offsets below its end (false for partitions without an end). */
  isReading(partition: number): boolean;
  /** Partitions still below their end, ascending. */
  remaining(): number[];
  isCaughtUp(): boolean;
  /** Resolves once every partition reached its end (at once when there is none). */
  caughtUp(): Promise<void>;
}

/** Creates a tracker for the ends from fetchEndOffsets (pure: fed positions by followPositions or a test). */
export function createEndOffsetTracker(ends: ReadonlyMap<number, number>): EndOffsetTracker {
  const open = new Map(ends);
  let markDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    markDone = resolve;
  });
  if (open.size === 0) markDone();
  return {
    advance(partition, position) {
      const end = open.get(partition);
      if (end === undefined || position < end) return false;
      open.delete(partition);
      if (open.size === 0) markDone();
      return true;
    },
    isReading: (partition) => open.has(partition),
    remaining: () => [...open.keys()].sort((a, b) => a - b),
    isCaughtUp: () => open.size === 0,
    caughtUp: () => done,
  };
}

/**
 * Feeds `tracker` the consumer's position after every batch kafkajs resolves, including those it does not hand to
 * eachBatch because every record in them was filtered out (control records, aborted transactions): kafkajs resolves
 * `batch.lastOffset()`, so the position is that plus one. The event follows eachBatch, so what a batch held was
 * handled before its partition counts as caught up. `onEnd` runs once per partition that reached its end.
 */
export function followPositions(consumer: KafkajsConsumer, topic: string, tracker: EndOffsetTracker, onEnd: (partition: number) => void = () => undefined): () => void {
  return consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic !== topic) return;
    if (tracker.advance(payload.partition, Number(payload.lastOffset) + 1)) onEnd(payload.partition);
  });
}
