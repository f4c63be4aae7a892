import type { Logger } from '@killtrace/logging';
import type { Notification } from '@killtrace/alerting';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The alerter's named internal events. Each owns its metric and its log fields, so `/metrics` and the logs
 * never drift apart (STYLE.md).
 */
export interface AlerterTelemetry {
  recordConsumed(outcome: 'ingested' | 'stale' | 'invalid'): void;
  notificationsQueued(notifications: readonly Notification[]): void;
  delivered(n: Notification, attempts: number, ms: number, latencyMs: number): void;
  deliveryRetry(n: Notification, reason: string, attempt: number, delayMs: number): void;
  deliveryRefused(n: Notification, reason: string): void;
  /** Queued Alertmanager notifications replaced by a newer one of the same group before they were sent. */
  superseded(n: Notification): void;
  backPressure(waiting: boolean, queued: number): void;
  /** Registers callbacks read at scrape time. */
  gauges(read: { queued: () => Record<string, number>; firing: () => Record<string, number> }): void;
}

export function createTelemetry(registry: Registry, logger: Logger): AlerterTelemetry {
  const records = new Counter({
    name: 'killtrace_alerter_records_total',
    help: 'Restart records read from the records topic, by outcome (ingested, stale: kill older than alerter.maxKillAgeMs, invalid).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const notifications = new Counter({
    name: 'killtrace_alerter_notifications_total',
    help: 'Notifications by receiver, kind (firing, update, repeat, resolved) and outcome (queued, delivered, refused, superseded: replaced in the Alertmanager queue by a newer state of the same alert).',
    labelNames: ['receiver', 'kind', 'outcome'],
    registers: [registry],
  });
  const retries = new Counter({
    name: 'killtrace_alerter_delivery_retries_total',
    help: 'Failed deliveries that will be retried, by receiver.',
    labelNames: ['receiver'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'killtrace_alerter_notification_latency_seconds',
    help: 'From the notification being queued to its delivery (retries included), by receiver.',
    labelNames: ['receiver'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 60, 300],
    registers: [registry],
  });
  let read = { queued: (): Record<string, number> => ({}), firing: (): Record<string, number> => ({}) };
  new Gauge({
    name: 'killtrace_alerter_queue_depth',
    help: 'Notifications waiting for delivery, by receiver.',
    labelNames: ['receiver'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [receiver, n] of Object.entries(read.queued())) this.set({ receiver }, n);
    },
  });
  new Gauge({
    name: 'killtrace_alerter_alerts_firing',
    help: 'Alert groups currently firing, by rule.',
    labelNames: ['rule'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [rule, n] of Object.entries(read.firing())) this.set({ rule }, n);
    },
  });
  const waiting = new Gauge({
    name: 'killtrace_alerter_backpressure',
    help: '1 while the consumer waits because alerter.maxQueued notifications are undelivered.',
    registers: [registry],
  });
  return {
    recordConsumed(outcome) {
      records.inc({ outcome });
    },
    notificationsQueued(list) {
      for (const n of list) {
        notifications.inc({ receiver: n.receiver, kind: n.kind, outcome: 'queued' });
        logger.info({ event: 'NotificationQueued', receiver: n.receiver, kind: n.kind, alertname: n.alert.alertname, groupKey: n.alert.groupKey, count: n.alert.count }, 'notification queued');
      }
    },
    delivered(n, attempts, ms, latencyMs) {
      notifications.inc({ receiver: n.receiver, kind: n.kind, outcome: 'delivered' });
      latency.observe({ receiver: n.receiver }, latencyMs / 1000);
      logger.info({ event: 'NotificationDelivered', receiver: n.receiver, kind: n.kind, id: n.id, attempts, ms }, 'notification delivered');
    },
    deliveryRetry(n, reason, attempt, delayMs) {
      retries.inc({ receiver: n.receiver });
      const log = attempt <= 1 || attempt % 10 === 0 ? logger.warn.bind(logger) : logger.debug.bind(logger);
      log({ event: 'DeliveryRetry', code: 'KT_ERR_ALERTER_DELIVERY_RETRIABLE', receiver: n.receiver, id: n.id, reason, attempt, delayMs }, `delivery to ${n.receiver} failed, retrying`);
    },
    deliveryRefused(n, reason) {
      notifications.inc({ receiver: n.receiver, kind: n.kind, outcome: 'refused' });
      logger.error({ event: 'DeliveryRefused', code: 'KT_ERR_ALERTER_DELIVERY_REFUSED', receiver: n.receiver, id: n.id, reason }, `${n.receiver} refused a notification; dropped`);
    },
    superseded(n) {
      notifications.inc({ receiver: n.receiver, kind: n.kind, outcome: 'superseded' });
    },
    backPressure(isWaiting, queued) {
      waiting.set(isWaiting ? 1 : 0);
      logger.warn({ event: 'BackPressure', waiting: isWaiting, queued }, isWaiting ? 'consumer waits for deliveries' : 'consumer resumed');
    },
    gauges(r) {
      read = r;
    },
  };
}
