import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stackKubeEnv, type KubeApiServer } from './kube-api.js';

/**
 * A control plane (etcd and kube-apiserver) of one test file's own, started by the stack's scripts
 * (scripts/stack-kube.sh) from the same cached binaries, on free loopback ports and in a temporary run directory.
 * For the tests that restart the API server or compact etcd: done on the shared one, that would break every other
 * Kubernetes-facing file running at the same time (integration files run in parallel, vitest.config.ts;
 * docs/decisions/0027-ci-wall-time.md).
 */
export interface PrivateKubeApiServer {
  server: KubeApiServer;
  /** `bash scripts/stack.sh <args>` against this control plane (kube-apiserver-stop [hard], kube-apiserver-start). */
  stack(...args: string[]): Promise<void>;
  /** Stops etcd and the API server and removes their run directory. */
  stop(): Promise<void>;
}

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A port the kernel has free right now on 127.0.0.1 (released at once, for the server about to bind it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function run(env: NodeJS.ProcessEnv, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('bash', ['scripts/stack.sh', ...args], { cwd: root, env, timeout: 300_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`bash scripts/stack.sh ${args.join(' ')} (private control plane in ${env.KILLTRACE_STACK_HOME}) failed (${error.message}):\n${stderr}`));
      else resolve();
    });
  });
}

/** Starts a private etcd and kube-apiserver; fails (never skips) when they do not come up. */
export async function startPrivateKubeApiServer(): Promise<PrivateKubeApiServer> {
  const home = mkdtempSync(join(tmpdir(), 'killtrace-kube-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KILLTRACE_STACK_HOME: home,
    KILLTRACE_STACK_ETCD_PORT: String(await freePort()),
    KILLTRACE_STACK_ETCD_PEER_PORT: String(await freePort()),
    KILLTRACE_STACK_KUBE_APISERVER_PORT: String(await freePort()),
  };
  const stop = async (): Promise<void> => {
    await run(env, ['kube-down']).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  };
  try {
    await run(env, ['kube-up']);
    return { server: stackKubeEnv(env), stack: (...args) => run(env, args), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
