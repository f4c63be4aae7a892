/**
 * libs/kafka's batch consumer port (libs/kafka/src/batch-consumer.ts) on `@platformatic/kafka` 1.35.0, for the
 * pipeline benchmark only: the correlator's own Pipeline (decode, validation, event-time bound, PartitionState,
 * flushes, commits) runs unchanged on it, so the pipeline's figure can be measured with either client
 * (docs/decisions/0013-kafka-client.md). The product keeps kafkajs.
 *
 * What differs from the kafkajs implementation, on purpose or because 1.35.0 offers nothing closer:
 *  - batches are the messages the stream delivered between two turns of the event loop, per topic-partition (the
 *    stream hands out single messages); the high watermark is the batch's last offset + 1 (lag reads 0);
 *  - commits carry no metadata (its `commit` always sends `committedMetadata: null`), so a restarted member would
 *    replay from the earliest retained offset instead of (watermark - state window);
 *  - `seek` is not supported (a fresh group never seeks; a restart with committed offsets would);
 *  - pausing some partitions holds their delivered messages here (the stream pauses only as a whole);
 *  - the co-partitioned assignment is computed by an assigner below, not under kafkajs' protocol name, so kafkajs
 *    and platformatic members cannot share a group;
 *  - replay planning reads offsets through the kafkajs admin (`offsetReader`), as the product does.
 * Imported by package name (not by source path): in the correlator process it must share libs/kafka's module
 * instance, whose connection registry `createBatchConsumer` reads (libs/kafka/src/client.ts).
 */
import { Consumer, MessagesStreamFallbackModes, MessagesStreamModes, type GroupPartitionsAssigner, type Message, type MessagesStream } from '@platformatic/kafka';
import {
  classifyKafkaError,
  createBatchConsumer,
  type BatchConsumer,
  type BatchConsumerOptions,
  type BatchMessage,
  type KafkaConnection,
  type TopicPartitions,
} from '@killtrace/kafka';

/** Partition N of every subscribed topic to the same member (as libs/kafka/src/assigner.ts), members by id. */
export const coPartitionedAssigner: GroupPartitionsAssigner = (_current, members, topics, metadata) => {
  const ids = [...members.keys()].sort();
  const assignments = ids.map((memberId) => ({ memberId, assignments: new Map<string, { topic: string; partitions: number[] }>() }));
  for (const topic of topics) {
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    for (let partition = 0; partition < count; partition += 1) {
      const member = assignments[partition % assignments.length];
      if (member === undefined) continue;
      const entry = member.assignments.get(topic) ?? { topic, partitions: [] };
      entry.partitions.push(partition);
      member.assignments.set(topic, entry);
    }
  }
  return assignments;
};

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

interface Pending {
  topic: string;
  partition: number;
  messages: BatchMessage[];
}

/** The batch consumer port on a platformatic consumer (same options and contract as libs/kafka's). */
export function createPlatformaticBatchConsumer(kafka: KafkaConnection, options: BatchConsumerOptions): BatchConsumer {
  const consumer = new Consumer({
    clientId: `${kafka.clientId}-platformatic`,
    groupId: options.groupId,
    bootstrapBrokers: [...kafka.brokers],
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: options.heartbeatIntervalMs ?? 3_000,
    maxWaitTime: options.maxWaitTimeMs ?? 100,
    ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
    ...(options.maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition: options.maxBytesPerPartition }),
    partitionAssigner: coPartitionedAssigner,
  });
  // Offsets for replay planning: kafkajs' admin, exactly as the product reads them (not on the hot path).
  const offsets = createBatchConsumer(kafka, options);
  let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  let generation = 0;
  let pending = new Map<string, Pending>();
  const held = new Map<string, Pending>();
  const paused = new Set<string>();
  let assigned: string[] = [];
  let draining = false;
  let scheduled = false;
  let stopped = false;

  const allPaused = (): boolean => assigned.length > 0 && assigned.every((tp) => paused.has(tp));
  const add = (into: Map<string, Pending>, topic: string, partition: number, messages: readonly BatchMessage[]): void => {
    const tp = key(topic, partition);
    const entry = into.get(tp) ?? { topic, partition, messages: [] };
    entry.messages.push(...messages);
    into.set(tp, entry);
  };

  const drain = async (): Promise<void> => {
    scheduled = false;
    if (draining || stopped || stream === undefined) return;
    draining = true;
    const active = stream;
    active.pause();
    try {
      while (pending.size > 0 && !stopped) {
        const batches = [...pending.values()];
        pending = new Map();
        const at = generation;
        for (const batch of batches) {
          const tp = key(batch.topic, batch.partition);
          if (at !== generation) break;
          if (paused.has(tp)) {
            add(held, batch.topic, batch.partition, batch.messages);
            continue;
          }
          let resolved = -1n;
          const last = batch.messages[batch.messages.length - 1];
          await options.onBatch({
            batch: { topic: batch.topic, partition: batch.partition, highWatermark: last === undefined ? '0' : String(BigInt(last.offset) + 1n), messages: batch.messages },
            resolveOffset: (offset) => {
              resolved = BigInt(offset);
            },
            heartbeat: async () => undefined,
            isStale: () => at !== generation || stopped,
          });
          // What the handler did not resolve (it paused the partition mid-batch) is handed again after `resume`.
          if (at === generation && paused.has(tp)) {
            add(held, batch.topic, batch.partition, batch.messages.filter((m) => BigInt(m.offset) > resolved));
          }
        }
      }
    } catch (cause) {
      const error = cause instanceof Error ? cause : new Error(String(cause));
      options.onCrash?.(error, classifyKafkaError(error), false);
      stopped = true;
    } finally {
      draining = false;
      if (!stopped && !allPaused()) active.resume();
    }
  };
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => void drain());
  };

  consumer.on('consumer:group:join', (payload) => {
    generation += 1;
    pending = new Map();
    held.clear();
    const assignment: Record<string, number[]> = {};
    for (const a of payload.assignments ?? []) assignment[a.topic] = [...a.partitions];
    assigned = Object.entries(assignment).flatMap(([topic, partitions]) => partitions.map((p) => key(topic, p)));
    options.onAssign(assignment);
  });

  return {
    async start() {
      stream = await consumer.consume({
        topics: [...options.topics],
        autocommit: false,
        mode: MessagesStreamModes.COMMITTED,
        fallbackMode: options.fromBeginning === false ? MessagesStreamFallbackModes.LATEST : MessagesStreamFallbackModes.EARLIEST,
      });
      stream.on('data', (m: Message<Buffer, Buffer, Buffer, Buffer>) => {
        const tp = key(m.topic, m.partition);
        const message: BatchMessage = { offset: String(m.offset), key: m.key ?? null, value: m.value ?? null, timestamp: String(m.timestamp) };
        const entry = pending.get(tp);
        if (entry === undefined) pending.set(tp, { topic: m.topic, partition: m.partition, messages: [message] });
        else entry.messages.push(message);
        schedule();
      });
      stream.on('error', (error: Error) => {
        options.onCrash?.(error, classifyKafkaError(error), false);
      });
    },
    seek({ topic, partition, offset }) {
      throw new Error(`the platformatic bench consumer cannot seek (${topic}[${partition}] to ${offset}); start from a fresh group`);
    },
    pause(targets: readonly TopicPartitions[]) {
      for (const tp of expand(targets, assigned)) paused.add(tp);
      if (allPaused() && !draining) stream?.pause();
    },
    resume(targets: readonly TopicPartitions[]) {
      for (const tp of expand(targets, assigned)) {
        paused.delete(tp);
        const back = held.get(tp);
        held.delete(tp);
        if (back !== undefined) {
          // Held messages go before anything delivered since.
          const later = pending.get(tp);
          pending.set(tp, { ...back, messages: [...back.messages, ...(later?.messages ?? [])] });
        }
      }
      if (!draining) stream?.resume();
      schedule();
    },
    async commit(commits) {
      try {
        await consumer.commit({ offsets: commits.map((c) => ({ topic: c.topic, partition: c.partition, offset: BigInt(c.offset), leaderEpoch: -1 })) });
        return { committed: true };
      } catch (cause) {
        const error = cause instanceof Error ? cause : new Error(String(cause));
        const classified = classifyKafkaError(cause);
        return { committed: false, kind: classified.kind, reason: classified.reason, error };
      }
    },
    offsetReader: () => offsets.offsetReader(),
    async disconnect() {
      stopped = true;
      await stream?.close();
      await consumer.close();
    },
  };
}

function expand(targets: readonly TopicPartitions[], assigned: readonly string[]): string[] {
  return targets.flatMap((t) =>
    t.partitions === undefined ? assigned.filter((tp) => tp.startsWith(`${t.topic}\u0000`)) : t.partitions.map((p) => key(t.topic, p)),
  );
}
