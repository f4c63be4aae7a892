import { describe, expect, it } from 'vitest';
import { Counter } from 'prom-client';
import { createRegistry, startHealthServer } from './health-server.js';

describe('health server', () => {
  it('serves liveness, readiness from its checks, and metrics', async () => {
    const registry = createRegistry('test');
    const counter = new Counter({ name: 'killtrace_test_total', help: 'test counter', registers: [registry] });
    counter.inc(3);
    let ready = false;
    const server = await startHealthServer({ port: 0, host: '127.0.0.1', registry, readiness: [{ name: 'kafka', check: () => ({ ok: ready, detail: ready ? undefined : 'not connected' }) }] });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const notReady = await fetch(`${base}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toMatchObject({ status: 'not ready', checks: [{ name: 'kafka', ok: false, detail: 'not connected' }] });
      ready = true;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain('killtrace_test_total{component="test"} 3');
      expect(metrics).toContain('killtrace_process_cpu_user_seconds_total');
    } finally {
      await server.close();
    }
  });

  it('fails liveness while the event loop stalls, and recovers once it runs again', async () => {
    const registry = createRegistry('test');
    const server = await startHealthServer({ port: 0, host: '127.0.0.1', registry, readiness: [], stallThresholdMs: 100, heartbeatMs: 10 });
    try {
      const url = `http://127.0.0.1:${server.port}/healthz`;
      // On a loaded machine a 10 ms heartbeat can itself run late at first: wait until the server calls itself ok.
      let healthy = await fetch(url);
      for (const deadline = Date.now() + 15_000; Date.now() < deadline && healthy.status !== 200; ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        healthy = await fetch(url);
      }
      expect(healthy.status).toBe(200);
      expect(await healthy.json()).toMatchObject({ status: 'ok', stallThresholdMs: 100 });
      // The probe's request is under way while synchronous work holds the loop: the heartbeat fires late.
      const during = fetch(url);
      const until = Date.now() + 400;
      while (Date.now() < until) {
        // busy: what a stuck parser or an endless loop does to a service
      }
      const stalled = await during;
      expect(stalled.status).toBe(503);
      const body = (await stalled.json()) as { status: string; eventLoopLagMs: number };
      expect(body.status).toBe('stalled');
      expect(body.eventLoopLagMs).toBeGreaterThan(100);
      let status = 503;
      // Recovery is polled until a generous deadline: on a loaded machine the heartbeat may need a while to catch up.
      for (const deadline = Date.now() + 15_000; Date.now() < deadline && status !== 200; ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        status = (await fetch(url)).status;
      }
      expect(status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
