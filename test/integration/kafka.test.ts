import { appLogSignalSchema, type AppLogSignal } from '@killtrace/schemas';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createConsumer, createProducer, ensureTopics, KafkaAdapterError, type IncomingMessage, type InvalidMessage, type KillConsumer } from '@killtrace/kafka';
import { createKafkaClient } from '../../libs/kafka/src/testing.js';
import { integrationConfig, uniqueSuffix, waitFor } from './helpers.js';

const config = integrationConfig();
const kafka = createKafkaClient(config.kafka, { clientId: 'killtrace-integration' });
const suffix = uniqueSuffix();
const topic = `kt-it-logs-${suffix}`;
const spec = { topic, partitions: 3, replicationFactor: 1 };
const signalsTopic = `kt-it-signals-${suffix}`;
const logsTopic = `kt-it-applogs-${suffix}`;
const producer = createProducer(kafka);
const consumers: KillConsumer<z.ZodType>[] = [];

function logLine(podUid: string, n: number): AppLogSignal {
  return {
    kind: 'app_log',
    at: 1_700_000_000_000 + n,
    pod: { namespace: 'onecloud', name: `host-${podUid}`, uid: podUid },
    container: 'host',
    restartCount: 2,
    stream: 'stdout',
    text: `step ${n}`,
  };
}

afterAll(async () => {
  for (const consumer of consumers) await consumer.disconnect();
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic, signalsTopic, logsTopic] }).catch(() => undefined);
  await admin.disconnect();
});

describe('Kafka adapter against a real broker', () => {
  it('creates a topic idempotently and reports configuration mismatches', async () => {
    const first = await ensureTopics(kafka, [spec]);
    expect(first).toEqual({ created: [topic], existing: [], mismatches: [] });
    const second = await ensureTopics(kafka, [spec]);
    expect(second).toEqual({ created: [], existing: [topic], mismatches: [] });

    const wider = await ensureTopics(kafka, [{ ...spec, partitions: 6 }]);
    expect(wider.mismatches).toEqual([{ topic, setting: 'partitions', expected: 6, actual: 3 }]);
    await expect(ensureTopics(kafka, [{ ...spec, partitions: 6 }], { strict: true })).rejects.toMatchObject({
      code: 'KT_ERR_KAFKA_TOPIC_MISMATCH',
    });
  });

  it('refuses an invalid payload, naming the topic and the zod issues', async () => {
    await producer.connect();
    const logs = producer.topic(topic, appLogSignalSchema);
    const invalid = { ...logLine('uid-bad', 0), at: 'yesterday' } as unknown as AppLogSignal;
    const error = await logs.send([{ key: 'uid-bad', value: invalid }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaAdapterError);
    expect((error as KafkaAdapterError).code).toBe('KT_ERR_KAFKA_INVALID_MESSAGE');
    expect((error as KafkaAdapterError).message).toContain(`refusing to produce to topic ${topic}`);
    expect((error as KafkaAdapterError).message).toContain('message 0 (key uid-bad): at: Invalid input: expected number, received string');
  });

  it('produces keyed, validated messages and consumes them through a consumer group, dead-lettering invalid ones', async () => {
    await producer.connect();
    const logs = producer.topic(topic, appLogSignalSchema);
    const pods = ['uid-a', 'uid-b', 'uid-c'];
    const sent = pods.flatMap((uid) => [1, 2].map((n) => ({ key: uid, value: logLine(uid, n) })));
    const metadata = await logs.send(sent);
    expect(metadata.length).toBeGreaterThan(0);
    // A payload another (buggy) producer could write: valid JSON, wrong shape.
    await producer.topic(topic, z.unknown()).send([{ key: 'uid-x', value: { kind: 'app_log', text: 42 } }]);

    const received: IncomingMessage<AppLogSignal>[] = [];
    const invalid: InvalidMessage[] = [];
    const consumer = createConsumer(kafka, {
      groupId: `kt-it-group-${suffix}`,
      topics: [topic],
      schema: appLogSignalSchema,
      fromBeginning: true,
      onInvalid: (message) => {
        invalid.push(message);
      },
    });
    consumers.push(consumer as unknown as KillConsumer<z.ZodType>);
    await consumer.run(async (message) => {
      received.push(message);
    });
    await consumer.joined();
    await waitFor('6 valid and 1 invalid message', () => received.length >= sent.length && invalid.length >= 1);

    expect(received).toHaveLength(sent.length);
    for (const message of received) {
      expect(message.topic).toBe(topic);
      expect(message.value.pod.uid).toBe(message.key);
    }
    // Keyed by pod uid: one pod's messages share a partition and keep their order.
    for (const uid of pods) {
      const own = received.filter((m) => m.key === uid);
      expect(new Set(own.map((m) => m.partition)).size).toBe(1);
      expect(own.map((m) => m.value.text)).toEqual(['step 1', 'step 2']);
    }
    expect(invalid).toHaveLength(1);
    expect(invalid[0]?.key?.toString()).toBe('uid-x');
    expect(invalid[0]?.raw?.toString()).toBe('{"kind":"app_log","text":42}');
    expect(invalid[0]?.reason).toMatch(/^value does not match the schema/);
    expect(invalid[0]?.issues).toContain('text: Invalid input: expected string, received number');
  });

  it('gives partition N of co-partitioned topics to the same group member, so one pod stays on one consumer', async () => {
    await ensureTopics(kafka, [signalsTopic, logsTopic].map((t) => ({ topic: t, partitions: 4, replicationFactor: 1 })));
    const groupId = `kt-it-copart-${suffix}`;
    const seen: { member: number; key: string | null; topic: string }[] = [];
    const members = [0, 1].map((member) => {
      const consumer = createConsumer(kafka, {
        groupId,
        topics: [signalsTopic, logsTopic],
        schema: appLogSignalSchema,
        // Fresh topics: "earliest" cannot skip messages produced while offsets are still being resolved.
        fromBeginning: true,
        onInvalid: () => undefined,
      });
      consumers.push(consumer as unknown as KillConsumer<z.ZodType>);
      return { member, consumer };
    });
    for (const { member, consumer } of members) {
      await consumer.run(async (message) => {
        seen.push({ member, key: message.key, topic: message.topic });
      });
    }
    const stable = (): boolean => {
      const [a, b] = members.map(({ consumer }) => consumer.assignment());
      const count = (x: Readonly<Record<string, readonly number[]>> | undefined, t: string): number => x?.[t]?.length ?? 0;
      return [signalsTopic, logsTopic].every((t) => count(a, t) + count(b, t) === 4 && count(a, t) > 0 && count(b, t) > 0);
    };
    await waitFor('both members to share the partitions', stable, 45_000);
    for (const { consumer } of members) {
      const assignment = consumer.assignment();
      expect([...(assignment[signalsTopic] ?? [])].sort()).toEqual([...(assignment[logsTopic] ?? [])].sort());
    }

    await producer.connect();
    const pods = Array.from({ length: 12 }, (_, i) => `uid-${i}`);
    await producer.topic(signalsTopic, appLogSignalSchema).send(pods.map((uid) => ({ key: uid, value: logLine(uid, 1) })));
    await producer.topic(logsTopic, appLogSignalSchema).send(pods.map((uid) => ({ key: uid, value: logLine(uid, 2) })));
    await waitFor('24 messages', () => seen.length >= 24, 30_000).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; got ${JSON.stringify(seen)}`);
    });
    for (const uid of pods) {
      const owners = new Set(seen.filter((s) => s.key === uid).map((s) => s.member));
      expect(owners.size, uid).toBe(1);
    }
    expect(new Set(seen.map((s) => s.member)).size).toBe(2);
  });
});
