import { createRequire } from 'node:module';

/**
 * kafkajs 2.2.4's RequestQueue re-arms a timer of `throttledUntil - Date.now()` ms after every request even when
 * nothing is pending and nothing is throttled (`throttledUntil` starts at -1): a negative delay, which Node turns
 * into 1 ms (a busy loop per broker connection) and, from Node 24, reports as `TimeoutNegativeWarning`
 * (node_modules/kafkajs/src/network/requestQueue/index.js `scheduleCheckPendingRequests`; kafkajs issues #1751 and
 * #1704, unreleased upstream). With nothing pending there is nothing to check later: `push()` schedules a check
 * itself when it queues a request, and a throttle in the future still gets its timer. Only the wasted timer goes.
 */

/** The kafkajs release whose RequestQueue this corrects; another one is left alone (re-check it, then update). */
export const KAFKAJS_VERSION_CORRECTED = '2.2.4';

interface RequestQueueState {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: unknown;
}

interface RequestQueuePrototype {
  scheduleCheckPendingRequests(this: RequestQueueState): void;
  [CORRECTED]?: true;
}

const CORRECTED = Symbol.for('killtrace.kafkajs.requestQueueTimer');
const require = createRequire(import.meta.url);

/** Corrects the timer once per process (idempotent); returns whether the running kafkajs is the one corrected. */
export function correctRequestQueueTimer(): boolean {
  const { version } = require('kafkajs/package.json') as { version: string };
  if (version !== KAFKAJS_VERSION_CORRECTED) return false;
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueuePrototype };
  const proto = RequestQueue.prototype;
  if (proto[CORRECTED] === true) return true;
  const original = proto.scheduleCheckPendingRequests;
  proto.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueueState): void {
    if (this.throttleCheckTimeoutId == null && this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
    original.call(this);
  };
  proto[CORRECTED] = true;
  return true;
}
