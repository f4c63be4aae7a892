import { afterAll, describe, expect, it } from 'vitest';
import { createConsumer, createProducer, ensureTopics } from '@killtrace/kafka';
import { createKafkaClient } from '../../libs/kafka/src/testing.js';
import { logBatchMessageSchema, type LogBatchMessage } from '@killtrace/schemas';
import { integrationConfig, uniqueSuffix, waitFor } from './helpers.js';

/** kafka.compression = gzip: what a producer compresses, the adapter's consumer reads back unchanged, in order. */

const config = integrationConfig();
const kafka = createKafkaClient(config.kafka, { clientId: 'killtrace-it-compression' });
const topic = `kt-it-gzip-${uniqueSuffix()}`;

afterAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

describe('gzip-compressed produce', () => {
  it('delivers version-2 log batches byte for byte to a consumer', async () => {
    await ensureTopics(kafka, [{ topic, partitions: 1, replicationFactor: 1 }]);
    const producer = createProducer(kafka, { compression: 'gzip' });
    await producer.connect();
    const uid = '5b9f3c1e-7a2d-4e8b-9c41-0d6e2f1a3b7c';
    const sent: LogBatchMessage[] = Array.from({ length: 3 }, (_, m) => ({
      v: 2,
      producer: { component: 'node-agent', instance: 'it' },
      batch: { pod: { namespace: 'shop', name: 'cart-1', uid }, container: 'app', restartCount: m, lines: Array.from({ length: 200 }, (_, i) => ({ at: 1_700_000_000_000 + i, stream: 'stdout' as const, text: `request ${i} served in ${i % 97} ms` })) },
    }));
    await producer.topic(topic, logBatchMessageSchema).send(sent.map((value) => ({ key: uid, value, timestamp: 1_700_000_000_199 })));
    await producer.disconnect();
    const received: LogBatchMessage[] = [];
    const consumer = createConsumer(kafka, { groupId: `${topic}-reader`, topic, schema: logBatchMessageSchema, fromBeginning: true, onInvalid: () => undefined });
    void consumer.run(async (m) => void received.push(m.value));
    try {
      await waitFor('3 batches', () => received.length >= 3);
      expect(received).toEqual(sent);
    } finally {
      await consumer.disconnect();
    }
  });
});
