import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTableReader, ensureTopics, readPartitions, type TableEntry } from '@killtrace/kafka';
import { createKafkaClient } from '../../libs/kafka/src/testing.js';
import { integrationConfig, uniqueSuffix } from './helpers.js';

/**
 * Both "read to the end" readers (libs/kafka/src/end-offsets.ts) against the real broker, on partitions whose high
 * watermark lies beyond their last readable message (decision 0017): transaction markers and aborted transactions'
 * records take offsets that return no message. Partition 0: a plain message, then an aborted transaction (its
 * record and its marker are the partition's last offsets). Partition 1: nothing but an aborted transaction. Before
 * the readers compared the consumer's position with the high watermark, the table reader stopped at partition 0's
 * plain message and readPartitions never heard of partition 1 (kafkajs hands no all-filtered batch to eachBatch).
 */

const config = integrationConfig();
const kafka = createKafkaClient(config.kafka, { clientId: 'killtrace-end-offsets-it' });
const suffix = uniqueSuffix();
const topic = `kt-it-end-offsets-${suffix}`;
const valueSchema = z.object({ n: z.string() });

afterAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

async function fill(): Promise<void> {
  await ensureTopics(kafka, [{ topic, partitions: 2, replicationFactor: 1, configEntries: { 'cleanup.policy': 'compact' } }]);
  const plain = kafka.producer({ allowAutoTopicCreation: false });
  await plain.connect();
  await plain.send({ topic, acks: -1, messages: [{ key: 'a', value: JSON.stringify({ n: 'a' }), partition: 0 }] });
  await plain.disconnect();
  const producer = kafka.producer({ transactionalId: `kt-it-end-offsets-${suffix}`, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  const transaction = await producer.transaction();
  await transaction.send({ topic, acks: -1, messages: [{ key: 'b', value: JSON.stringify({ n: 'b' }), partition: 0 }, { key: 'c', value: JSON.stringify({ n: 'c' }), partition: 1 }] });
  await transaction.abort();
  await producer.disconnect();
  // The broker writes the abort markers after answering the abort: the ends move past them a moment later. The
  // case itself: the ends count the aborted records and their markers.
  const admin = kafka.admin();
  await admin.connect();
  try {
    let ends: number[][] = [];
    for (let attempt = 0; attempt < 100; attempt++) {
      ends = (await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.low), Number(o.high)]).sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
      if (ends[0]?.[2] === 3 && ends[1]?.[2] === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(ends).toEqual([
      [0, 0, 3],
      [1, 0, 2],
    ]);
  } finally {
    await admin.disconnect();
  }
}

describe('reading a topic to its end (decision 0017)', () => {
  it('reports caught up when the high watermark lies beyond the last readable message', async () => {
    await fill();

    const messages = await readPartitions(kafka, { topic, partitions: [0, 1], groupId: `kt-it-end-offsets-read-${suffix}`, timeoutMs: 30_000 });
    expect(messages.map((m) => [m.partition, m.offset, m.key])).toEqual([[0, 0, 'a']]);

    const entries: Array<TableEntry<z.output<typeof valueSchema>>> = [];
    const invalid: unknown[] = [];
    const reader = createTableReader(kafka, { topic, schema: valueSchema, groupPrefix: `kt-it-end-offsets-${suffix}`, onEntry: (e) => entries.push(e), onInvalid: (e) => invalid.push(e) });
    try {
      await reader.start();
      await reader.caughtUp();
      expect(reader.isCaughtUp()).toBe(true);
      expect(entries.map((e) => [e.partition, e.key, e.value])).toEqual([[0, 'a', { n: 'a' }]]);
      expect(invalid).toEqual([]);
    } finally {
      await reader.stop();
    }
  }, 90_000);
});
