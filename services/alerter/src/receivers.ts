import { createHmac } from 'node:crypto';
import {
  alertLinks,
  alertmanagerAlert,
  slackMessage,
  webhookBody,
  type LinkSettings,
  type Notification,
  type Receiver,
} from '@killtrace/alerting';
import { AlerterError } from './errors.js';

/** How one delivery ended: retried later, or dropped for good with the reason. */
export type DeliveryOutcome = { ok: true; status: number } | { ok: false; retriable: boolean; reason: string; retryAfterMs?: number };

/** The thin I/O side of a receiver: one HTTP POST per notification. */
export interface ReceiverClient {
  readonly name: string;
  readonly type: Receiver['type'];
  deliver(notification: Notification): Promise<DeliveryOutcome>;
}

export const SIGNATURE_HEADER = 'x-killtrace-signature';
export const TIMESTAMP_HEADER = 'x-killtrace-timestamp';

/** HMAC-SHA256 over `<timestamp>.<body>`, as `sha256=<hex>` (the timestamp lets receivers refuse replays). */
export function signBody(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** 408 and 429 and 5xx are worth retrying; other 4xx would fail the same way forever. */
export function classify(status: number, text: string, retryAfter: string | null = null): DeliveryOutcome {
  if (status >= 200 && status < 300) return { ok: true, status };
  const reason = `HTTP ${status}${text === '' ? '' : `: ${text.slice(0, 300)}`}`;
  // Slack and most gateways say when to come back (seconds) on 429/503.
  const seconds = retryAfter === null ? Number.NaN : Number(retryAfter);
  return {
    ok: false,
    retriable: status >= 500 || status === 408 || status === 429,
    reason,
    ...(Number.isFinite(seconds) && seconds >= 0 ? { retryAfterMs: Math.min(seconds, 3600) * 1000 } : {}),
  };
}

async function post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<DeliveryOutcome> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'killtrace-alerter', ...headers },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text().catch(() => '');
    return classify(response.status, text, response.headers.get('retry-after'));
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { ok: false, retriable: true, reason: cause?.code ?? cause?.message ?? (error as Error).message };
  }
}

export interface ReceiverSettings {
  links: LinkSettings;
  timeoutMs: number;
  env: Readonly<Record<string, string | undefined>>;
}

function secretFrom(env: ReceiverSettings['env'], name: string, receiver: string): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new AlerterError('KT_ERR_ALERTER_SECRET_MISSING', `receiver "${receiver}" reads its secret from ${name}, which is not set`);
  }
  return value;
}

/** Builds the client of one configured receiver; secrets named by environment variable must be set. */
export function createReceiverClient(receiver: Receiver, settings: ReceiverSettings): ReceiverClient {
  const { links, timeoutMs } = settings;
  switch (receiver.type) {
    case 'alertmanager': {
      const url = `${receiver.url.replace(/\/+$/, '')}/api/v2/alerts`;
      return {
        name: receiver.name,
        type: receiver.type,
        deliver: (n) => post(url, JSON.stringify([alertmanagerAlert(n.alert, alertLinks(n.alert, links))]), {}, timeoutMs),
      };
    }
    case 'webhook': {
      const secret = receiver.secretEnv === undefined ? undefined : secretFrom(settings.env, receiver.secretEnv, receiver.name);
      return {
        name: receiver.name,
        type: receiver.type,
        deliver: (n) => {
          const body = JSON.stringify(webhookBody(n, alertLinks(n.alert, links)));
          const timestamp = String(Math.floor(Date.now() / 1000));
          const headers: Record<string, string> = { ...receiver.headers, 'x-killtrace-delivery': n.id, 'idempotency-key': n.id };
          if (secret !== undefined) {
            headers[TIMESTAMP_HEADER] = timestamp;
            headers[SIGNATURE_HEADER] = signBody(secret, timestamp, body);
          }
          return post(receiver.url, body, headers, timeoutMs);
        },
      };
    }
    case 'slack': {
      const url = receiver.url ?? secretFrom(settings.env, receiver.urlEnv ?? '', receiver.name);
      return {
        name: receiver.name,
        type: receiver.type,
        deliver: (n) => post(url, JSON.stringify(slackMessage(n, alertLinks(n.alert, links))), {}, timeoutMs),
      };
    }
  }
}
