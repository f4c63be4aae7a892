import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP forwarder on a reserved loopback port, for cutting one client off a shared server without touching the
 * server (test/integration/start-before-dependencies.test.ts, cluster-watcher-kafka-outage.test.ts): connections are
 * refused until `open`, piped to the target while open, and reset and refused again after `close` (reopenable).
 */
export interface Forwarder {
  port: number;
  /** Starts accepting on the reserved port and piping to `target`. */
  open(): Promise<void>;
  /** Resets every piped connection and stops accepting; `open` again to reconnect. */
  close(): Promise<void>;
}

/** Reserves a free port (bound once, released), so that connecting to it is refused until `open`. */
export async function forwarder(target: { host: string; port: number }): Promise<Forwarder> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  return {
    port,
    async open() {
      server = createServer((client) => {
        const upstream = connect(target.port, target.host);
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const end = (): void => {
          client.destroy();
          upstream.destroy();
        };
        client.on('error', end).on('close', end);
        upstream.on('error', end).on('close', end);
      });
      await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));
    },
    async close() {
      for (const s of sockets) s.destroy();
      if (server) await new Promise<void>((resolve) => server?.close(() => resolve()));
    },
  };
}

/** `host:port` or a URL as the forwarder's target. */
export const hostPort = (value: string): { host: string; port: number } => {
  const url = new URL(value.includes('://') ? value : `tcp://${value}`);
  return { host: url.hostname, port: Number(url.port) };
};
