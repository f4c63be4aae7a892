/**
 * @killtrace/retry: the one back-off of the services (docs/decisions/0018-batch-consumer-port-and-one-backoff.md):
 * exponential growth from an initial delay to a cap, jitter in the upper half, abortable sleeps, and `retry` for
 * an operation with a retriable/fatal split and a bound.
 */
export { Backoff, backoffDelay, sleep } from './backoff.js';
export { retry, RetryStopped, type RetryPolicy, type RetryOptions } from './retry.js';
