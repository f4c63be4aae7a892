import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { correctRequestQueueTimer } from './request-queue-timer.js';

const require = createRequire(import.meta.url);

interface Queue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: unknown;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
  destroy(): void;
}
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (options: object) => Queue;
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const queue = (): Queue => new RequestQueue({ maxInFlightRequests: null, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 't', broker: 'b:9092', logger: silent });

// kafkajs's RequestQueue.scheduleCheckPendingRequests (node_modules/kafkajs/src/network/requestQueue/index.js).
describe('the kafkajs request queue timer', () => {
  it('arms no timer after a response when nothing is pending or throttled (no negative delay, no 1 ms loop)', () => {
    expect(correctRequestQueueTimer()).toBe(true);
    expect(correctRequestQueueTimer()).toBe(true);
    const warnings: Error[] = [];
    const onWarning = (w: Error): number => warnings.push(w);
    process.on('warning', onWarning);
    const q = queue();
    // What fulfillRequest does after every answer from the broker.
    q.checkPendingRequests();
    expect(q.throttleCheckTimeoutId).toBeNull();
    process.off('warning', onWarning);
    expect(warnings.filter((w) => w.name === 'TimeoutNegativeWarning')).toEqual([]);
  });

  it('still schedules the check of a pending request, and of a throttle that ends later', () => {
    correctRequestQueueTimer();
    const pending = queue();
    pending.pending.push({});
    pending.scheduleCheckPendingRequests();
    expect(pending.throttleCheckTimeoutId).not.toBeNull();
    pending.destroy();
    const throttled = queue();
    throttled.throttledUntil = Date.now() + 60_000;
    throttled.scheduleCheckPendingRequests();
    expect(throttled.throttleCheckTimeoutId).not.toBeNull();
    throttled.destroy();
  });
});
