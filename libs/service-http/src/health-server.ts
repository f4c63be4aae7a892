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

/** Serves `/healthz` (process alive), `/readyz` (every readiness check passes) and `/metrics` (Prometheus text). */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const app: FastifyInstance = Fastify({ logger: false });
  app.get('/healthz', async () => ({ status: 'ok' }));
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
