/** killtrace-alerter: restart records from Kafka -> alert rules -> Alertmanager, JSON webhooks, Slack. */
export { startAlerter, main, type RunningAlerter, type StartOptions } from './main.js';
export { AlerterError, alerterErrorCodes, type AlerterErrorCode } from './errors.js';
export { signBody, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './receivers.js';
