import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createProducer } from '@killtrace/kafka';
import { createLogger } from '@killtrace/logging';
import { recordMessageSchema } from '@killtrace/schemas';
import { startAlerter, type RunningAlerter } from '../../services/alerter/src/main.js';
import { elasticFor, kafkaFor, pipelineSetup, type PipelineSetup } from '../e2e/harness.js';
import { killRecord } from '../fixtures/alerting/records.js';
import { dropTopicsAndGroups } from './alertmanager-server.js';

/**
 * Webhook and Slack receivers against local HTTP servers (ports 19094-19096 of this issue's range): payload shape,
 * HMAC signature, retries on 500 and on a receiver that is down, and no duplicate across an alerter restart.
 */

const HOOK_PORT = 19094;
const DOWN_PORT = 19096;
const SECRET = 'test-hmac-key';
const logger = createLogger({ name: 'alerter-webhooks-it', level: 'warn', format: 'json' });
const stops: Array<() => Promise<void>> = [];
const setups: PipelineSetup[] = [];
const dirs: string[] = [];

// Each test's alerters, producers and servers stop before the next test binds the same ports.
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
});

afterAll(async () => {
  for (const setup of setups) {
    const t = setup.topics;
    const id = setup.config.kafka.clientId;
    await dropTopicsAndGroups(kafkaFor(setup), [t.signals, t.logs, t.records, t.deadLetter], [`${id}.alerter`, `${id}.correlator`, `${setup.suffix}-second`]);
    const es = elasticFor(setup);
    await es.indices.delete({ index: `${setup.alias}-*` }).catch(() => undefined);
    await es.close();
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Captured {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A receiver that records every request and answers 500 to the first `failures` of them. */
async function captureServer(port: number, failures = 0): Promise<{ requests: Captured[]; close: () => Promise<void> }> {
  const requests: Captured[] = [];
  let toFail = failures;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (toFail > 0) {
        toFail -= 1;
        res.writeHead(500).end('receiver overloaded');
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const close = (): Promise<void> => new Promise((resolve) => server.close(() => resolve()));
  stops.push(close);
  return { requests, close };
}

function setupFor(name: string, slackPort: number, extra: Record<string, string> = {}): PipelineSetup {
  const dir = mkdtempSync(join(tmpdir(), 'killtrace-alerter-hooks-'));
  dirs.push(dir);
  const rulesFile = join(dir, 'rules.yaml');
  writeFileSync(
    rulesFile,
    [
      'receivers:',
      `  - { name: hook, type: webhook, url: "http://127.0.0.1:${HOOK_PORT}/hook", secretEnv: KT_TEST_HOOK_SECRET }`,
      `  - { name: chat, type: slack, url: "http://127.0.0.1:${slackPort}/slack" }`,
      'builtinRules: false',
      'rules:',
      '  - { name: probe-kill-during-init, severity: critical, match: { probeInduced: true, duringInit: true } }',
    ].join('\n'),
  );
  const setup = pipelineSetup(name, 1, {
    KILLTRACE_HTTP_PORT: '0',
    KILLTRACE_ALERTER_RULES_FILE: rulesFile,
    KILLTRACE_ALERTER_STATE_DIR: join(dir, 'state'),
    KILLTRACE_ALERTER_RETRY_INITIAL_MS: '100',
    KILLTRACE_ALERTER_RETRY_MAX_MS: '500',
    KILLTRACE_ALERTER_TIMELINE_URL: 'https://killtrace.example.com/api/v1/timeline?id={id}',
    ...extra,
  });
  setups.push(setup);
  return setup;
}

async function alerter(setup: PipelineSetup): Promise<RunningAlerter> {
  const running = await startAlerter(setup.config, logger, { env: { KT_TEST_HOOK_SECRET: SECRET } });
  stops.push(() => running.close());
  await running.alerter.joinedGroup();
  return running;
}

async function sender(setup: PipelineSetup): Promise<(r: ReturnType<typeof killRecord>) => Promise<void>> {
  const producer = createProducer(kafkaFor(setup));
  await producer.connect();
  stops.push(() => producer.disconnect());
  const topic = producer.topic(setup.topics.records, recordMessageSchema);
  return async (r) => {
    await topic.send([{ key: r.id, value: { v: 1, id: r.id, record: r.record } }]);
  };
}

async function metrics(running: RunningAlerter): Promise<string> {
  return fetch(`http://127.0.0.1:${running.httpPort}/metrics`).then((r) => r.text());
}

/** The value of one series of the alerter's metrics, 0 when absent. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until the alerter ingested `records` records and has nothing left to deliver. */
async function settled(running: RunningAlerter, records: number): Promise<void> {
  await until(`${records} records ingested and the queue empty`, async () => {
    const text = await metrics(running);
    return metric(text, 'killtrace_alerter_records_total', { outcome: 'ingested' }) >= records && metric(text, 'killtrace_alerter_queue_depth') === 0;
  });
}

type HookBody = { kind: string; dedupKey: string; count: number; summary: string; labels: Record<string, string>; latest: { recordId: string; startupProbeYaml: string | null }; links: { timeline: string | null } };
type SlackBody = { text: string; blocks: Array<{ type: string; text?: { text: string }; fields?: Array<{ text: string }> }> };

describe('alerter webhook and Slack receivers', () => {
  it('signs the webhook, shapes both payloads, and sends one message per alert, not one per kill', async () => {
    const server = await captureServer(HOOK_PORT);
    const slackPort = 19095;
    const slack = await captureServer(slackPort);
    const setup = setupFor('hooks-shape', slackPort);
    const running = await alerter(setup);
    const base = `http://127.0.0.1:${running.httpPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await fetch(`${base}/readyz`).then(async (r) => [r.status, await r.text()])).toEqual([200, expect.stringContaining('alerter')]);
    const send = await sender(setup);
    const now = Date.now();
    const first = killRecord({ restart: 1, killedAt: now - 2_000 });
    await send(first);
    await until('the webhook and the Slack message', () => server.requests.length === 1 && slack.requests.length === 1);

    const hook = server.requests[0] as Captured;
    const timestamp = String(hook.headers['x-killtrace-timestamp']);
    const expected = `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${hook.body}`).digest('hex')}`;
    expect(hook.headers['x-killtrace-signature']).toBe(expected);
    expect(hook.headers['content-type']).toBe('application/json');
    const body = JSON.parse(hook.body) as HookBody;
    expect(body).toMatchObject({
      kind: 'firing',
      count: 1,
      labels: { namespace: 'onecloud', workload: 'default-host', container: 'host', cause: 'liveness_probe', step: 'gpu-vfio-bind' },
      summary: 'liveness probe killed onecloud/default-host container host during init step gpu-vfio-bind (once)',
      latest: { recordId: first.id },
      links: { timeline: `https://killtrace.example.com/api/v1/timeline?id=${encodeURIComponent(first.id)}` },
    });
    expect(body.latest.startupProbeYaml).toContain('failureThreshold: 60');
    expect(hook.headers['x-killtrace-delivery']).toBe(`hook|${body.dedupKey}#1`);

    const message = JSON.parse((slack.requests[0] as Captured).body) as SlackBody;
    expect(message.text).toMatch(/^CRITICAL: KilltraceProbeKillDuringInit onecloud\/default-host/);
    expect(message.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'section', 'actions', 'context']);
    expect(message.blocks[2]?.fields?.map((f) => f.text)).toContain('*Elapsed vs probe budget*\n37.8 s / 15 s');
    expect(message.blocks[3]?.text?.text).toContain('```\nstartupProbe:\n  # same handler as the livenessProbe\n  periodSeconds: 5\n  failureThreshold: 60\n```');

    // A second kill of the same workload and a repeat of the first record: the alert counts 2, no new messages.
    await send(killRecord({ restart: 2, killedAt: now - 1_000 }));
    await send(first);
    await settled(running, 3);
    expect(server.requests).toHaveLength(1);
    expect(slack.requests).toHaveLength(1);
    expect(Object.values(await stateGroups(running))).toEqual([2]);
  });

  it('retries a receiver that answers 500 with back-off, the same delivery id each time', async () => {
    const server = await captureServer(HOOK_PORT, 2);
    const slack = await captureServer(19095);
    const setup = setupFor('hooks-500', 19095);
    const running = await alerter(setup);
    const send = await sender(setup);
    await send(killRecord({ restart: 1, killedAt: Date.now() }));
    await until('the third attempt accepted', () => server.requests.length === 3);
    await settled(running, 1);
    const ids = server.requests.map((r) => r.headers['x-killtrace-delivery']);
    expect(new Set(ids).size).toBe(1);
    expect(metric(await metrics(running), 'killtrace_alerter_delivery_retries_total', { receiver: 'hook' })).toBe(2);
    expect(slack.requests).toHaveLength(1);
    expect(server.requests).toHaveLength(3);
  });

  it('keeps what a down receiver could not take across an alerter restart, and repeats nothing delivered', async () => {
    const server = await captureServer(HOOK_PORT);
    const setup = setupFor('hooks-restart', DOWN_PORT);
    const first = await alerter(setup);
    const send = await sender(setup);
    await send(killRecord({ restart: 1, killedAt: Date.now() }));
    await until('the webhook delivery', () => server.requests.length === 1);
    await until('retries of the down Slack receiver', async () => metric(await metrics(first), 'killtrace_alerter_delivery_retries_total', { receiver: 'chat' }) >= 2);
    expect(first.alerter.readiness().detail).toMatch(/retrying receivers chat: ECONNREFUSED/);
    await first.close();

    // Same state directory, and a new consumer group that re-reads the whole records topic (as if no offset had been committed).
    const again = await alerter({ ...setup, config: { ...setup.config, alerter: { ...setup.config.alerter, groupId: `${setup.suffix}-second` } } });
    const slack = await captureServer(DOWN_PORT);
    await until('the queued Slack message delivered after the restart', () => slack.requests.length === 1);
    await settled(again, 1);
    expect(server.requests).toHaveLength(1);
    expect(slack.requests).toHaveLength(1);
    expect((JSON.parse((slack.requests[0] as Captured).body) as SlackBody).text).toMatch(/^CRITICAL/);
  });
});

/** Kill counts of the alerter's open groups, from its state file. */
async function stateGroups(running: RunningAlerter): Promise<Record<string, number>> {
  const { readFile } = await import('node:fs/promises');
  const state = JSON.parse(await readFile(join(running.stateDir, 'state.json'), 'utf8')) as { engine: { groups: Record<string, { count: number }> } };
  return Object.fromEntries(Object.entries(state.engine.groups).map(([k, g]) => [k, g.count]));
}
