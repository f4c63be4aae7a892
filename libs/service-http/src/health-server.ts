import { performance } from 'node:perf_hooks';
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry, collectDefaultMetrics } from 'prom-client';

/** One readiness check: `ok` false makes `/readyz` answer 503 with the reason. */
export interface ReadinessCheck {
  name: string;
  check: () => { ok: boolean; detail?: string } | Promise<{ ok: boolean; detail?: string }>;
}

export interface HealthServerOptions {
  /** Port to listen on (`0` picks a free one). */
  port: number;
  host?: string;
  /** Registry whose metrics `/metrics` serves; default metrics (process, heap, event loop) are added to it. */
  registry: Registry;
  readiness: ReadinessCheck[];
  /**
   * `/healthz` answers 503 when the last heartbeat of the event loop came this much later than due (default 5 s):
   * the process is stuck in synchronous work. A loop blocked for good cannot answer at all, and the probe times out.
   */
  stallThresholdMs?: number;
  /** How often the heartbeat is due (default 500 ms). */
  heartbeatMs?: number;
}

export interface HealthServer {
  /** The port actually bound. */
  port: number;
  close(): Promise<void>;
}

/** Creates a metrics registry with Node's default process metrics, prefixed `killtrace_`. */
export function createRegistry(component: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ component });
  collectDefaultMetrics({ register: registry, prefix: 'killtrace_' });
  return registry;
}

/**
 * Measures how late a repeating timer fires: the event loop's delay at the last heartbeat. A liveness probe built on
 * it fails only when the process is stuck, never because a dependency is down (that is readiness).
 */
function startHeartbeat(intervalMs: number): { lagMs: () => number; stop: () => void } {
  let due = performance.now() + intervalMs;
  let lastLagMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    lastLagMs = Math.max(0, now - due);
    due = now + intervalMs;
  }, intervalMs);
  // The heartbeat must never keep a process alive that is otherwise done.
  timer.unref();
  return { lagMs: () => lastLagMs, stop: () => clearInterval(timer) };
}

/**
 * Serves `/healthz` (the event loop is not stalled), `/readyz` (every readiness check passes) and `/metrics`
 * (Prometheus text).
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const app: FastifyInstance = Fastify({ logger: false });
  const stallThresholdMs = options.stallThresholdMs ?? 5_000;
  const heartbeat = startHeartbeat(options.heartbeatMs ?? 500);
  app.addHook('onClose', async () => heartbeat.stop());
  app.get('/healthz', async (_request, reply) => {
    const eventLoopLagMs = Math.round(heartbeat.lagMs());
    const stalled = eventLoopLagMs > stallThresholdMs;
    return reply.code(stalled ? 503 : 200).send({ status: stalled ? 'stalled' : 'ok', eventLoopLagMs, stallThresholdMs });
  });
  app.get('/readyz', async (_request, reply) => {
    const results = await Promise.all(
      options.readiness.map(async (r) => {
        try {
          return { name: r.name, ...(await r.check()) };
        } catch (error) {
          return { name: r.name, ok: false, detail: (error as Error).message };
        }
      }),
    );
    const ready = results.every((r) => r.ok);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: results });
  });
  app.get('/metrics', async (_request, reply) => {
    return reply.header('content-type', options.registry.contentType).send(await options.registry.metrics());
  });
  await app.listen({ port: options.port, host: options.host ?? '0.0.0.0' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { port, close: () => app.close() };
}
