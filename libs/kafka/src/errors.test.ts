import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { classifyKafkaError, decodeMessage, encodeMessage, KafkaAdapterError } from './index.js';

const { KafkaJSConnectionError, KafkaJSProtocolError, KafkaJSNumberOfRetriesExceeded, KafkaJSRequestTimeoutError, KafkaJSSASLAuthenticationError } =
  kafkajs;

// kafkajs' type declarations give this constructor no parameters; at runtime it needs the message.
const SaslError = KafkaJSSASLAuthenticationError as unknown as new (message: string) => Error;

function protocolError(type: string, retriable: boolean): Error {
  const error = new KafkaJSProtocolError(`broker says ${type}`);
  return Object.assign(error, { type, retriable });
}

describe('classifyKafkaError', () => {
  it('treats unreachable or busy clusters as retriable', () => {
    expect(classifyKafkaError(new KafkaJSConnectionError('Connection refused')).kind).toBe('retriable');
    expect(classifyKafkaError(new KafkaJSRequestTimeoutError('timeout')).kind).toBe('retriable');
    expect(classifyKafkaError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).kind).toBe('retriable');
    expect(classifyKafkaError(protocolError('NOT_LEADER_OR_FOLLOWER', true))).toEqual({
      kind: 'retriable',
      reason: 'broker error NOT_LEADER_OR_FOLLOWER',
    });
  });

  it('treats credentials, permissions and rejected data as fatal', () => {
    expect(classifyKafkaError(new SaslError('bad password')).kind).toBe('fatal');
    expect(classifyKafkaError(protocolError('TOPIC_AUTHORIZATION_FAILED', false)).kind).toBe('fatal');
    // kafkajs marks some of these retriable; retrying a too-large message never helps.
    expect(classifyKafkaError(protocolError('MESSAGE_TOO_LARGE', true)).kind).toBe('fatal');
    expect(classifyKafkaError(new KafkaAdapterError('KT_ERR_KAFKA_INVALID_MESSAGE', 'bad', { topic: 't' })).kind).toBe('fatal');
    // A topic's partition count not readable yet (producer-group.ts): the cluster's state, so it is retried.
    expect(classifyKafkaError(new KafkaAdapterError('KT_ERR_KAFKA_METADATA_UNAVAILABLE', 'no count', { topic: 't' })).kind).toBe('retriable');
  });

  it('tells a rebalance under a member (its generation is over) from a retriable failure', () => {
    // kafkajs marks these retriable; a commit of the old generation can never succeed, the next assignment redoes it.
    for (const type of ['REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'NOT_COORDINATOR', 'FENCED_INSTANCE_ID']) {
      expect(classifyKafkaError(protocolError(type, true))).toEqual({ kind: 'generation-over', reason: `group generation ended: ${type}` });
    }
    expect(classifyKafkaError(new KafkaJSNumberOfRetriesExceeded(protocolError('REBALANCE_IN_PROGRESS', true), { retryCount: 5, retryTime: 1000 })).kind).toBe('generation-over');
  });

  it('looks through exhausted retries at the last cause', () => {
    const exhausted = new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('down'), { retryCount: 5, retryTime: 1000 });
    const classified = classifyKafkaError(exhausted);
    expect(classified.kind).toBe('retriable');
    expect(classified.reason).toMatch(/^retries exhausted/);
  });

  it('treats unknown errors and thrown non-errors as fatal', () => {
    expect(classifyKafkaError(new TypeError('x is undefined')).kind).toBe('fatal');
    expect(classifyKafkaError('boom').kind).toBe('fatal');
  });
});

describe('message codec', () => {
  const schema = z.object({ uid: z.string(), count: z.number().int().default(0) });

  it('encodes what the schema outputs and decodes it back', () => {
    const encoded = encodeMessage(schema, { uid: 'u1' });
    expect(encoded.ok).toBe(true);
    if (!encoded.ok) return;
    expect(JSON.parse(encoded.bytes.toString())).toEqual({ uid: 'u1', count: 0 });
    expect(decodeMessage(schema, encoded.bytes)).toEqual({ ok: true, value: { uid: 'u1', count: 0 } });
  });

  it('explains invalid JSON, schema mismatches and tombstones', () => {
    expect(decodeMessage(schema, Buffer.from('{nope'))).toMatchObject({ ok: false, reason: expect.stringMatching(/^value is not JSON/) });
    expect(decodeMessage(schema, Buffer.from('{"uid":1}'))).toMatchObject({ ok: false, issues: ['uid: Invalid input: expected string, received number'] });
    expect(decodeMessage(schema, null)).toMatchObject({ ok: false, reason: expect.stringMatching(/tombstone/) });
  });
});
