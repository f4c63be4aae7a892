import { describe, expect, it } from 'vitest';
import { createLogger } from '@killtrace/logging';
import type { EventSignal, PodSignal, Signal } from '@killtrace/schemas';
import type { DeadLetterEntry, PublishResult, SignalPublisher } from '../publish/types.js';
import { PublishQueue, type PublishQueueOptions } from './publish-queue.js';

const logger = createLogger({ name: 'publish-queue-test', level: 'silent', format: 'json' });

const pod = (uid: string, restartCount: number): PodSignal => ({
  kind: 'pod',
  observedAt: restartCount,
  resourceVersion: String(restartCount),
  pod: {
    namespace: 'shop',
    name: uid,
    uid,
    labels: {},
    owners: [],
    containers: [],
    statuses: [{ name: 'app', restartCount, ready: true, state: { kind: 'running' } }],
    initStatuses: [],
  },
});

const event = (uid: string, count: number): EventSignal => ({
  kind: 'event',
  uid,
  involved: { kind: 'Pod', name: 'p', uid: 'uid-p' },
  reason: 'BackOff',
  message: '',
  type: 'Warning',
  count,
  lastAt: count,
});

const describeSignal = (s: Signal): string => (s.kind === 'pod' ? `${s.pod.uid}@${s.pod.statuses[0]?.restartCount}` : s.kind === 'event' ? `${s.uid}#${s.count}` : s.kind);

/** A publisher that fails while `down` is true and records every batch it accepted. */
class FlakyPublisher implements SignalPublisher {
  down = false;
  attempts = 0;
  readonly accepted: string[][] = [];
  readonly deadLettered: DeadLetterEntry[] = [];
  /** Called at the start of every attempt (lets a test enqueue while a batch is in flight). */
  onAttempt: (() => void) | undefined;

  async publish(signals: readonly Signal[]): Promise<PublishResult> {
    this.attempts += 1;
    this.onAttempt?.();
    await new Promise((resolve) => setTimeout(resolve, 1));
    if (this.down) throw new Error('KT_ERR_COLLECTOR_PUBLISH: broker unavailable');
    this.accepted.push(signals.map(describeSignal));
    return { published: signals.length, deadLettered: 0 };
  }

  async deadLetter(entry: DeadLetterEntry): Promise<void> {
    if (this.down) throw new Error('KT_ERR_COLLECTOR_PUBLISH: broker unavailable');
    this.deadLettered.push(entry);
  }

  connected(): boolean {
    return true;
  }
}

function counters() {
  const m = { backlog: [] as number[], retries: 0, coalesced: 0 };
  return {
    m,
    metrics: { backlog: { set: (v: number) => void m.backlog.push(v) }, retries: { inc: () => void (m.retries += 1) }, coalesced: { inc: () => void (m.coalesced += 1) } },
  };
}

async function until(what: string, condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function queueFor(publisher: SignalPublisher, options: Partial<PublishQueueOptions> = {}) {
  const { m, metrics } = counters();
  const queue = new PublishQueue({ publisher, logger, maxEntries: 1_000, retryInitialMs: 5, retryMaxMs: 20, random: () => 0.5, metrics, ...options });
  return { queue, m };
}

describe('PublishQueue', () => {
  it('keeps a failed batch queued and retries it with back-off until the publisher accepts it', async () => {
    const publisher = new FlakyPublisher();
    publisher.down = true;
    const { queue, m } = queueFor(publisher);
    queue.push(pod('a', 0));
    queue.push(event('ev-1', 1));
    await until('three failed attempts', () => m.retries >= 3);
    expect(queue.state()).toMatchObject({ size: 2, failing: true, full: false });
    expect(queue.state().lastError).toContain('broker unavailable');
    expect(m.retries).toBeGreaterThanOrEqual(3);
    expect(m.backlog.at(-1)).toBe(2);

    publisher.down = false;
    await queue.drain();
    expect(publisher.accepted.flat()).toEqual(['a@0', 'ev-1#1']);
    expect(queue.state()).toMatchObject({ size: 0, failing: false, failures: 0 });
    expect(m.backlog.at(-1)).toBe(0);
  });

  it('publishes every version of an object, in order, while Kafka keeps up', async () => {
    const publisher = new FlakyPublisher();
    const { queue, m } = queueFor(publisher);
    queue.push(pod('a', 0));
    queue.push(event('ev-1', 1));
    queue.push(pod('a', 1));
    queue.push(event('ev-1', 2));
    queue.push(pod('a', 2));
    await queue.drain();
    expect(publisher.accepted.flat()).toEqual(['a@0', 'a@1', 'a@2', 'ev-1#1', 'ev-1#2']);
    expect(m.coalesced).toBe(0);
  });

  it('once a publish failed, coalesces waiting entries by object, keeping the newest version and its place in line', async () => {
    const publisher = new FlakyPublisher();
    publisher.down = true;
    // A long back-off, so the test's pushes land while the failed batch waits (not while it is in flight).
    const { queue, m } = queueFor(publisher, { retryInitialMs: 300, retryMaxMs: 300 });
    queue.push(pod('a', 0));
    queue.push(pod('b', 0));
    queue.push(event('ev-1', 1));
    await until('a failed attempt', () => publisher.attempts >= 1 && queue.state().failing);
    // While Kafka is down the same objects change again: each stays one entry, with its newest version.
    queue.push(pod('a', 1));
    queue.push(pod('a', 2));
    queue.push(event('ev-1', 4));
    queue.push(pod('c', 0));
    expect(queue.size()).toBe(4);
    expect(m.coalesced).toBe(3);
    publisher.down = false;
    await queue.drain();
    expect(publisher.accepted.flat()).toEqual(['a@2', 'b@0', 'ev-1#4', 'c@0']);
  });

  it('does not let a failed in-flight version overwrite a newer one that arrived meanwhile', async () => {
    const publisher = new FlakyPublisher();
    publisher.down = true;
    const { queue } = queueFor(publisher);
    let pushed = false;
    publisher.onAttempt = () => {
      if (pushed) return;
      pushed = true;
      queue.push(pod('a', 5)); // arrives while a@0 is in flight
    };
    queue.push(pod('a', 0));
    await until('a failed attempt', () => publisher.attempts >= 2);
    expect(queue.size()).toBe(1);
    publisher.down = false;
    await queue.drain();
    expect(publisher.accepted.flat()).toEqual(['a@5']);
  });

  it('publishes an object\'s versions in order when a newer one arrives during a successful publish', async () => {
    const publisher = new FlakyPublisher();
    const { queue } = queueFor(publisher);
    let pushed = false;
    publisher.onAttempt = () => {
      if (pushed) return;
      pushed = true;
      queue.push(pod('a', 1));
    };
    queue.push(pod('a', 0));
    await queue.drain();
    expect(publisher.accepted).toEqual([['a@0'], ['a@1']]);
  });

  it('retries dead letters too, and does not resend the ones already accepted', async () => {
    const publisher = new FlakyPublisher();
    const { queue } = queueFor(publisher);
    publisher.down = true;
    queue.deadLetter({ stage: 'collector.cluster-watcher.parse', reason: 'bad', original: { x: 1 }, key: 'k1' });
    queue.push(pod('a', 0));
    await until('a failed attempt', () => queue.state().failing);
    publisher.down = false;
    await queue.drain();
    expect(publisher.deadLettered.map((d) => d.key)).toEqual(['k1']);
    expect(publisher.accepted.flat()).toEqual(['a@0']);
  });

  it('asks for back-pressure at the bound instead of dropping, and releases it at half the bound', async () => {
    const publisher = new FlakyPublisher();
    publisher.down = true;
    const pressure: boolean[] = [];
    const { queue } = queueFor(publisher, { maxEntries: 4, onPressure: (full) => void pressure.push(full) });
    for (let i = 0; i < 6; i += 1) queue.push(pod(`p${i}`, 0));
    expect(pressure).toEqual([true]);
    expect(queue.state()).toMatchObject({ size: 6, full: true });
    await until('a failed attempt', () => queue.state().failing);
    publisher.down = false;
    await queue.drain();
    expect(pressure).toEqual([true, false]);
    expect(queue.state().full).toBe(false);
    expect(publisher.accepted.flat()).toHaveLength(6);
  });

  it('stops retrying when stopped, keeping what Kafka never accepted counted', async () => {
    const publisher = new FlakyPublisher();
    publisher.down = true;
    const { queue } = queueFor(publisher, { retryInitialMs: 10_000, retryMaxMs: 10_000 });
    queue.push(pod('a', 0));
    await until('a failed attempt', () => queue.state().failing);
    queue.stop();
    await queue.drain();
    expect(queue.size()).toBe(1);
    expect(publisher.attempts).toBe(1);
  });
});
