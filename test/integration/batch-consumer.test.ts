import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createBatchConsumer, createProducer, ensureTopics, type BatchConsumer, type MessageBatch } from '@killtrace/kafka';
import { createKafkaClient } from '../../libs/kafka/src/testing.js';
import { integrationConfig, uniqueSuffix, waitFor } from './helpers.js';

/**
 * The batch consumer port of libs/kafka (libs/kafka/src/batch-consumer.ts) against the real broker: assignment
 * events, batches of undecoded messages with their broker data, seeks, pause/resume, manual commits with metadata,
 * and the offsets a replay is planned from. The correlator's pipeline is built on it (services/correlator/src/pipeline.ts).
 */

const config = integrationConfig();
const kafka = createKafkaClient(config.kafka, { clientId: 'killtrace-it-batch-consumer' });
const suffix = uniqueSuffix();
const topics = [`kt-it-bc-a-${suffix}`, `kt-it-bc-b-${suffix}`];
const groupId = `kt-it-bc-${suffix}`;
const producer = createProducer(kafka);
const consumers: BatchConsumer[] = [];
const valueSchema = z.object({ n: z.number() });

afterAll(async () => {
  for (const consumer of consumers) await consumer.disconnect();
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
});

interface Seen {
  topic: string;
  partition: number;
  offset: number;
  n: number;
  timestamp: number;
}

describe('batch consumer port against a real broker', () => {
  it('assigns co-partitioned topics, hands over batches, seeks, pauses, resumes and commits offsets with metadata', async () => {
    await ensureTopics(kafka, topics.map((topic) => ({ topic, partitions: 2, replicationFactor: 1 })));
    await producer.connect();
    const at = Date.UTC(2026, 0, 1);
    for (const topic of topics) {
      // Keys chosen by the caller: key "k0" and "k1" land on some partition each; 10 messages per topic.
      await producer.topic(topic, valueSchema).send(Array.from({ length: 10 }, (_, n) => ({ key: `k${n % 2}`, value: { n }, timestamp: at + n * 1_000 })));
    }
    const assignments: Array<Readonly<Record<string, readonly number[]>>> = [];
    const seen: Seen[] = [];
    const batches: MessageBatch[] = [];
    const consumer = createBatchConsumer(kafka, {
      groupId,
      topics,
      fromBeginning: true,
      onAssign: (assignment) => assignments.push(assignment),
      onBatch: async ({ batch, resolveOffset, heartbeat }) => {
        batches.push(batch);
        for (const message of batch.messages) {
          const value = valueSchema.parse(JSON.parse(String(message.value)));
          seen.push({ topic: batch.topic, partition: batch.partition, offset: Number(message.offset), n: value.n, timestamp: Number(message.timestamp) });
          resolveOffset(message.offset);
        }
        await heartbeat();
      },
    });
    consumers.push(consumer);
    await consumer.start();
    await waitFor('all 20 messages', () => seen.length >= 20);

    // One member, so it has every partition of both topics; partition N of each topic together.
    expect(assignments[0]).toEqual(Object.fromEntries(topics.map((t) => [t, [0, 1]])));
    expect(new Set(seen.map((s) => s.n))).toEqual(new Set(Array.from({ length: 10 }, (_, n) => n)));
    expect(seen.find((s) => s.n === 3)?.timestamp).toBe(at + 3_000);
    const first = batches[0];
    expect(Number(first?.highWatermark)).toBeGreaterThan(0);

    // Nothing is committed by itself: the group has no offsets yet.
    const reader = consumer.offsetReader();
    await reader.connect();
    try {
      const before = await reader.committed();
      expect(before.flatMap((t) => t.partitions).every((p) => Number(p.offset) < 0)).toBe(true);

      // Manual commit with metadata (the pipeline stores its watermark there).
      const target = seen.find((s) => s.topic === topics[0] && s.n === 4);
      if (target === undefined) throw new Error('message n=4 of the first topic not seen');
      const outcome = await consumer.commit([{ topic: target.topic, partition: target.partition, offset: String(target.offset + 1), metadata: 'wm=1767225604000' }]);
      expect(outcome).toEqual({ committed: true });
      const after = await reader.committed();
      const committed = after.find((t) => t.topic === target.topic)?.partitions.find((p) => p.partition === target.partition);
      expect(committed).toEqual({ partition: target.partition, offset: String(target.offset + 1), metadata: 'wm=1767225604000' });

      // Retained range and the time index the replay plan reads.
      const retained = await reader.retained(target.topic);
      expect(retained.map((r) => r.partition).sort()).toEqual([0, 1]);
      const byTime = await reader.offsetsAt(target.topic, at + 4_000);
      expect(byTime.find((o) => o.partition === target.partition)?.offset).toBe(String(target.offset));
    } finally {
      await reader.disconnect();
    }

    // Pause one partition, seek it back to its start: nothing comes while paused, everything again after resume.
    const partition = seen.find((s) => s.topic === topics[1])?.partition ?? 0;
    consumer.pause([{ topic: topics[1] ?? '', partitions: [partition] }]);
    consumer.seek({ topic: topics[1] ?? '', partition, offset: '0' });
    const mark = seen.length;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(seen.slice(mark).filter((s) => s.topic === topics[1] && s.partition === partition)).toEqual([]);
    consumer.resume([{ topic: topics[1] ?? '', partitions: [partition] }]);
    const expected = seen.slice(0, mark).filter((s) => s.topic === topics[1] && s.partition === partition).map((s) => s.offset);
    await waitFor('the seek replayed after resume', () => seen.slice(mark).filter((s) => s.topic === topics[1] && s.partition === partition).length >= expected.length);
    expect(seen.slice(mark).filter((s) => s.topic === topics[1] && s.partition === partition).map((s) => s.offset)).toEqual(expected);
  });
});
