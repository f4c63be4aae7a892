export { Backoff, backoffDelay, sleep } from './backoff.js';
