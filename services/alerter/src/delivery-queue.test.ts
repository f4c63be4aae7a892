import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { compileRules, ingestRecord, initialState, type Notification } from '@killtrace/alerting';
import { createLogger } from '@killtrace/logging';
import { killRecord } from '../../../test/fixtures/alerting/records.js';
import { DeliveryQueue } from './delivery-queue.js';
import { classify, createReceiverClient } from './receivers.js';
import { StateStore } from './state-store.js';
import { createTelemetry } from './telemetry.js';

const dir = mkdtempSync(join(tmpdir(), 'killtrace-alerter-queue-'));
const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) await new Promise((resolve) => s.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** A local HTTP receiver that answers 503 until `open()` is called, recording the bodies it accepted. */
async function gate(): Promise<{ url: string; accepted: string[]; attempts: () => number; open: () => void }> {
  const accepted: string[] = [];
  let attempts = 0;
  let isOpen = false;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      attempts += 1;
      if (!isOpen) return void res.writeHead(503).end('down');
      accepted.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, accepted, attempts: () => attempts, open: () => (isOpen = true) };
}

async function until(what: string, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('delivery queue', () => {
  it('Alertmanager gets the newest state of a group once it is back, not the backlog of updates', async () => {
    const am = await gate();
    const rules = compileRules({ receivers: [{ name: 'am', type: 'alertmanager', url: am.url }], builtinRules: false, rules: [{ name: 'r', severity: 'critical', match: { probeInduced: true } }] }, 'test');
    const registry = new Registry();
    const telemetry = createTelemetry(registry, createLogger({ name: 'unit', level: 'silent', format: 'json' }));
    const receiver = rules.receivers[0];
    if (receiver === undefined) throw new Error('no receiver');
    const clients = new Map([['am', createReceiverClient(receiver, { links: {}, timeoutMs: 2_000, env: {} })]]);
    const queue = new DeliveryQueue({ clients, telemetry, retryInitialMs: 10, retryMaxMs: 20, persist: async () => undefined, onPersistError: () => undefined }, []);
    queue.start();
    let state = initialState();
    const now = Date.now();
    for (let n = 1; n <= 4; n++) {
      const r = killRecord({ restart: n, killedAt: now + n });
      const step = ingestRecord(state, rules, r.id, r.record, now + n);
      state = step.state;
      queue.enqueue(step.notifications, now + n);
    }
    await until('refused attempts while it is down', () => am.attempts() >= 2);
    am.open();
    await until('an empty queue', () => queue.size() === 0);
    await queue.stop();
    // All four states queued before the worker ran (the loop above never yields): only the newest is worth sending.
    const counts = am.accepted.map((body) => (JSON.parse(body) as Array<{ annotations: { kill_count: string } }>)[0]?.annotations.kill_count);
    expect(counts).toEqual(['4']);
    const text = await registry.metrics();
    expect(text).toMatch(/killtrace_alerter_notifications_total\{receiver="am",kind="firing",outcome="superseded"\} 1/);
    expect(text).toMatch(/killtrace_alerter_notifications_total\{receiver="am",kind="update",outcome="superseded"\} 2/);
    expect(text).toMatch(/killtrace_alerter_notifications_total\{receiver="am",kind="update",outcome="delivered"\} 1/);
  });

  it('a 429 or 503 with Retry-After waits at least that long; 4xx other than 408/429 are refused for good', () => {
    expect(classify(429, 'slow down', '7')).toEqual({ ok: false, retriable: true, reason: 'HTTP 429: slow down', retryAfterMs: 7_000 });
    expect(classify(503, '', null)).toEqual({ ok: false, retriable: true, reason: 'HTTP 503' });
    expect(classify(404, 'no such hook')).toMatchObject({ ok: false, retriable: false });
    expect(classify(408, '')).toMatchObject({ retriable: true });
    expect(classify(204, '')).toEqual({ ok: true, status: 204 });
  });
});

describe('state store', () => {
  it('saves atomically and reads back what it saved', async () => {
    const stateDir = join(dir, 'ok');
    const r = killRecord();
    const rules = compileRules({ receivers: [{ name: 'am', type: 'alertmanager', url: 'http://127.0.0.1:1' }] }, 'test');
    const step = ingestRecord(initialState(), rules, r.id, r.record, Date.now());
    const queued = step.notifications.map((notification: Notification) => ({ notification, enqueuedAt: 1, attempts: 0 }));
    const store = new StateStore(stateDir, () => ({ v: 1, engine: step.state, queue: queued }));
    expect(await store.load()).toBeNull();
    store.touch();
    await store.flush();
    const again = await new StateStore(stateDir, () => ({ v: 1, engine: initialState(), queue: [] })).load();
    expect(again?.engine).toEqual(step.state);
    expect(again?.queue).toEqual(queued);
  });

  it('refuses a state file it cannot trust, naming it', async () => {
    const stateDir = join(dir, 'bad');
    const store = new StateStore(stateDir, () => ({ v: 1, engine: initialState(), queue: [] }));
    await store.load();
    writeFileSync(join(stateDir, 'state.json'), '{"v":1,"engine":{"v":1,"groups":{"x":{}},"seen":{}},"queue":[]}');
    await expect(store.load()).rejects.toMatchObject({ code: 'KT_ERR_ALERTER_STATE_UNREADABLE', message: expect.stringContaining(`${join(stateDir, 'state.json')} is not an alerter state file: engine.groups.x.key`) });
    writeFileSync(join(stateDir, 'state.json'), '{"v":1,');
    await expect(store.load()).rejects.toMatchObject({ code: 'KT_ERR_ALERTER_STATE_UNREADABLE', message: expect.stringMatching(/is not JSON/) });
  });
});
