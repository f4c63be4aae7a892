import { describe, expect, it } from 'vitest';
import { toOutgoing } from './outgoing.js';

const producer = { component: 'cluster-watcher' as const, instance: 'test' };

describe('toOutgoing', () => {
  it('keys by pod uid, stamps the event time and routes app_log to the logs topic', () => {
    const event = toOutgoing({ kind: 'event', involved: { kind: 'Pod', name: 'p', uid: 'u1' }, reason: 'Killing', lastAt: 1_700_000_000_000 }, producer, 's');
    expect(event).toMatchObject({ ok: true, logs: false, message: { key: 'u1', timestamp: 1_700_000_000_000, value: { v: 1, producer, signal: { count: 1, type: 'Normal' } } } });
    const line = toOutgoing(
      { kind: 'app_log', at: 5, pod: { namespace: 'n', name: 'p', uid: 'u2' }, container: 'c', restartCount: 0, stream: 'stdout', text: 'hi' },
      producer,
      's',
    );
    expect(line).toMatchObject({ ok: true, logs: true, message: { key: 'u2', timestamp: 5 } });
    const unkeyed = toOutgoing({ kind: 'kubelet', at: 7, action: 'killing', pod: { namespace: 'n', name: 'p' }, text: 'x' }, producer, 's');
    expect(unkeyed).toMatchObject({ ok: true, message: { key: 'n/p' } });
  });

  it('turns an invalid signal into a dead-letter entry with the reason and the original', () => {
    const bad = { kind: 'pod', pod: { namespace: 'n', name: 'p', uid: 'u3', statuses: 'nope' } };
    const out = toOutgoing(bad, producer, 'collector.test');
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.deadLetter).toMatchObject({ stage: 'collector.test', key: 'u3', original: bad });
    expect(out.deadLetter.reason).toMatch(/^invalid signal: pod\.statuses/);
  });
});
