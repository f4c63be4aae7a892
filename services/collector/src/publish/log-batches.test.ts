import { describe, expect, it } from 'vitest';
import { logMessageSignals, logsTopicMessageSchema } from '@killtrace/schemas';
import { CHARS_PER_MESSAGE, CHARS_PER_SEND, LINES_PER_MESSAGE, sendSlices, toLogBatchMessages } from './log-batches.js';
import type { AppLogBatch } from './types.js';

const producer = { component: 'node-agent' as const, instance: 'worker-1' };
const pod = { namespace: 'shop', name: 'cart-1', uid: '5b9f3c1e-7a2d-4e8b-9c41-0d6e2f1a3b7c' };
const batch = (lines: AppLogBatch['lines']): AppLogBatch => ({ pod, container: 'app', restartCount: 3, source: { file: '/var/log/pods/x/app/3.log' }, lines });
const line = (at: number, text = `line ${at}`) => ({ at, stream: 'stdout' as const, text });

describe('toLogBatchMessages', () => {
  it('sends the lines of one incarnation as version-2 messages keyed by pod uid, stamped with the newest line, that decode back to the same AppLogSignals', () => {
    const { messages, rejected, lines } = toLogBatchMessages([batch([line(10), line(30), line(20)])], producer, 's');
    expect(rejected).toEqual([]);
    expect(lines).toBe(3);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ key: pod.uid, timestamp: 30, value: { v: 2, producer } });
    const decoded = logsTopicMessageSchema.parse(JSON.parse(JSON.stringify(messages[0]?.value)));
    expect(logMessageSignals(decoded)).toEqual([10, 30, 20].map((at) => ({ kind: 'app_log', at, pod, container: 'app', restartCount: 3, stream: 'stdout', text: `line ${at}`, source: { file: '/var/log/pods/x/app/3.log' } })));
  });

  it('cuts messages at LINES_PER_MESSAGE lines and CHARS_PER_MESSAGE characters, a longer line alone, in order', () => {
    const many = Array.from({ length: LINES_PER_MESSAGE * 2 + 5 }, (_, i) => line(i));
    const byCount = toLogBatchMessages([batch(many)], producer, 's').messages;
    expect(byCount.map((m) => m.value.batch.lines.length)).toEqual([LINES_PER_MESSAGE, LINES_PER_MESSAGE, 5]);
    expect(byCount.flatMap((m) => m.value.batch.lines.map((l) => l.at))).toEqual(many.map((l) => l.at));
    const big = 'x'.repeat(CHARS_PER_MESSAGE / 2 + 1);
    const huge = 'y'.repeat(CHARS_PER_MESSAGE + 10);
    const bySize = toLogBatchMessages([batch([line(1, big), line(2, big), line(3, huge), line(4)])], producer, 's').messages;
    expect(bySize.map((m) => m.value.batch.lines.map((l) => l.at))).toEqual([[1], [2], [3], [4]]);
  });

  it('dead-letters only the invalid lines and still sends the rest; an invalid identity dead-letters every line', () => {
    const out = toLogBatchMessages([batch([line(1), { at: Number.NaN, stream: 'stdout', text: 'bad time' }, line(3)])], producer, 'collector.node-agent.cri');
    expect(out.messages.flatMap((m) => m.value.batch.lines.map((l) => l.text))).toEqual(['line 1', 'line 3']);
    expect(out.rejected).toHaveLength(1);
    expect(out.rejected[0]).toMatchObject({ stage: 'collector.node-agent.cri', key: pod.uid });
    expect(out.rejected[0]?.reason).toMatch(/^invalid app log line: at: /);
    const badIdentity = toLogBatchMessages([{ ...batch([line(1), line(2)]), restartCount: -1 }], producer, 's');
    expect(badIdentity.messages).toEqual([]);
    expect(badIdentity.rejected).toHaveLength(2);
    expect(badIdentity.rejected[0]?.reason).toMatch(/restartCount/);
  });

  it('groups messages into produce calls of at most CHARS_PER_SEND characters', () => {
    const text = 'z'.repeat(CHARS_PER_SEND / 4);
    const { messages } = toLogBatchMessages([batch(Array.from({ length: 9 }, (_, i) => line(i, text)))], producer, 's');
    const slices = sendSlices(messages);
    expect(slices.map((s) => s.reduce((n, m) => n + m.value.batch.lines.length, 0))).toEqual([4, 4, 1]);
  });
});
