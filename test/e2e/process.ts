import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The correlator as a child process, for the e2e tests and the pipeline benchmark (no test-runner imports). */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The correlator as a child process (`node services/correlator/bin/killtrace-correlator.js`); with `script` and
 * `args`, any other service entry of the repository (e.g. the collector and its mode).
 */
export class CorrelatorProcess {
  readonly output: string[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  port = 0;

  constructor(
    private readonly env: Record<string, string>,
    private readonly script = 'services/correlator/bin/killtrace-correlator.js',
    private readonly args: readonly string[] = [],
    /** The node binary (the benchmark runs the node agent on a second Node version too). */
    private readonly node: string = process.execPath,
  ) {}

  async start(): Promise<void> {
    this.port = await freePort();
    const child = spawn(this.node, [this.script, ...this.args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', KAFKAJS_NO_PARTITIONER_WARNING: '1', ...this.env, KILLTRACE_HTTP_PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (chunk: Buffer): void => {
      this.output.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      if (this.output.length > 5_000) this.output.splice(0, this.output.length - 5_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async http(path: string): Promise<{ status: number; body: string }> {
    const response = await fetch(`http://127.0.0.1:${this.port}${path}`);
    return { status: response.status, body: await response.text() };
  }

  /** Waits for `/readyz` to answer 200. */
  async ready(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.script} exited before it was ready:\n${this.tail()}`);
      try {
        const r = await this.http('/readyz');
        if (r.status === 200) return;
        last = r.body;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`${this.script} not ready after ${timeoutMs} ms (last /readyz: ${last}):\n${this.tail()}`);
  }

  /** A Prometheus sample's value (summed over label sets matching `labels`). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const { body } = await this.http('/metrics');
    let sum = 0;
    for (const line of body.split('\n')) {
      if (!line.startsWith(name)) continue;
      const match = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
      if (!match || match[1] !== name) continue;
      if (Object.entries(labels).every(([k, v]) => (match[2] ?? '').includes(`${k}="${v}"`))) sum += Number(match[3]);
    }
    return sum;
  }

  kill9(): Promise<number | null> {
    this.child?.kill('SIGKILL');
    return this.exited;
  }

  /** SIGTERM and wait for the exit code. */
  async stop(timeoutMs = 40_000): Promise<number | null> {
    if (!this.running) return this.exited;
    this.child?.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  waitExit(): Promise<number | null> {
    return this.exited;
  }

  tail(lines = 40): string {
    return this.output.slice(-lines).join('\n');
  }
}

