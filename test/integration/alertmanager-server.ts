import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * A real Prometheus Alertmanager for the tests (Debian package `prometheus-alertmanager`, installed by .ci/run),
 * started on 127.0.0.1 with a configuration the test writes, its data under ~/.cache/killtrace/alertmanager.
 * Missing binary: the test fails with how to install it, never skips.
 */

/** Alertmanager's own view of an alert (`GET /api/v2/alerts`). */
export interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint: string;
  status: { state: string };
}

export interface AlertmanagerServer {
  url: string;
  alerts(filter?: Record<string, string>): Promise<GettableAlert[]>;
  stop(): Promise<void>;
}

const CANDIDATES = ['prometheus-alertmanager', 'alertmanager'];

/** The Alertmanager executable: `$ALERTMANAGER_BIN`, else the Debian package's, else `alertmanager` on PATH. */
export function alertmanagerBinary(): string {
  const fromEnv = process.env.ALERTMANAGER_BIN;
  if (fromEnv) return fromEnv;
  for (const name of CANDIDATES) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (found.status === 0 && found.stdout.trim() !== '') return found.stdout.trim();
  }
  throw new Error(
    'Alertmanager is not installed: the alerting tests need a real one. Install the Debian package ' +
      '(`apt-get update && apt-get install -y prometheus-alertmanager`, which .ci/run does) or set ALERTMANAGER_BIN.',
  );
}

/** Starts Alertmanager on 127.0.0.1:`port` (gossip off) and waits until `/-/ready` answers. */
export async function startAlertmanager(port: number): Promise<AlertmanagerServer> {
  const binary = alertmanagerBinary();
  const base = join(homedir(), '.cache', 'killtrace', 'alertmanager');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'run-'));
  const config = join(dir, 'alertmanager.yml');
  // One catch-all route to a receiver with no integrations: the tests read alerts back through the API.
  writeFileSync(config, ['route:', '  receiver: blackhole', '  group_wait: 1s', 'receivers:', '  - name: blackhole', ''].join('\n'));
  const child: ChildProcess = spawn(
    binary,
    [`--config.file=${config}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const log: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString('utf8')));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Alertmanager (${binary}) exited with ${child.exitCode}: ${log.join('').slice(-2000)}`);
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Alertmanager on ${url} not ready after 30 s: ${log.join('').slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    async alerts(filter = {}) {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(filter)) params.append('filter', `${name}="${value}"`);
      const response = await fetch(`${url}/api/v2/alerts?${params.toString()}`);
      if (!response.ok) throw new Error(`GET /api/v2/alerts: HTTP ${response.status}`);
      return (await response.json()) as GettableAlert[];
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Deletes a test's topics that exist (deleting a missing one makes kafkajs retry for seconds) and its groups. */
export async function dropTopicsAndGroups(
  kafka: { admin: () => { connect(): Promise<void>; listTopics(): Promise<string[]>; deleteTopics(o: { topics: string[] }): Promise<void>; deleteGroups(g: string[]): Promise<unknown>; disconnect(): Promise<void> } },
  topics: readonly string[],
  groups: readonly string[],
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const present = new Set(await admin.listTopics());
    const existing = topics.filter((t) => present.has(t));
    if (existing.length > 0) await admin.deleteTopics({ topics: existing }).catch(() => undefined);
    await admin.deleteGroups([...groups]).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}
