import { loadConfig } from '@killtrace/config';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createKafkaClient, createProducer, KafkaAdapterError } from './index.js';

// Nothing here connects: encode is pure, and a batch encoded for another topic is refused before any request.
const kafka = createKafkaClient(loadConfig({ env: { KILLTRACE_CLUSTER_NAME: 'c', KAFKA_BROKERS: '127.0.0.1:1' } }).kafka, { clientId: 'unit' });
const schema = z.strictObject({ n: z.int(), tag: z.string().default('none') });

describe('TypedTopicProducer.encode / sendEncoded', () => {
  it('serializes what the schema outputs (defaults applied), with key, timestamp and byte count', () => {
    const topic = createProducer(kafka).topic('t', schema);
    const batch = topic.encode([{ key: 'a', value: { n: 1 }, timestamp: 1_700_000_000_000.4 }, { key: 'b', value: { n: 2, tag: 'x' } }]);
    expect(batch.messages.map((m) => ({ key: m.key, value: m.value.toString('utf8'), timestamp: m.timestamp }))).toEqual([
      { key: 'a', value: '{"n":1,"tag":"none"}', timestamp: '1700000000000' },
      { key: 'b', value: '{"n":2,"tag":"x"}', timestamp: undefined },
    ]);
    expect(batch).toMatchObject({ topic: 't', count: 2, bytes: 37 });
  });

  it('refuses the whole batch naming each invalid message, like send', async () => {
    const topic = createProducer(kafka).topic('t', schema);
    const values: unknown[] = [{ n: 1 }, { n: 'two' }];
    const messages = values.map((value, i) => ({ key: `k${i}`, value: value as z.input<typeof schema> }));
    expect(() => topic.encode(messages)).toThrow(/refusing to produce to topic t: message 1 \(key k1\): n: /);
    await expect(topic.send(messages)).rejects.toMatchObject({ code: 'KT_ERR_KAFKA_INVALID_MESSAGE' });
  });

  it('sends a batch only to the topic it was encoded for', async () => {
    const producer = createProducer(kafka);
    const batch = producer.topic('t', schema).encode([{ key: 'a', value: { n: 1 } }]);
    const error = await producer.topic('other', schema).sendEncoded(batch).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaAdapterError);
    expect((error as KafkaAdapterError).code).toBe('KT_ERR_KAFKA_INVALID_MESSAGE');
  });
});
