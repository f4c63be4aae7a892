import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { fileURLToPath } from 'node:url';
import { KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { inject } from 'vitest';

/**
 * The real kube-apiserver of the stack (scripts/stack-kube.sh) for integration tests: where it is, a raw JSON client
 * (objects stay exactly as the API sends them), `applyManifests` for whole manifests, and the controls the watcher's
 * tests need (restart the API server, compact etcd). Tests get the connection from global setup through
 * `inject('kubeApiServer')`, which fails the run when the API server is missing.
 */

export interface KubeApiServer {
  url: string;
  /** The stack CA's PEM (the serving certificate's issuer). */
  ca: string;
  /** The admin's bearer token (system:masters). */
  token: string;
  /** The admin kubeconfig file the stack wrote. */
  kubeconfig: string;
  etcdUrl: string;
}

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Reads where the stack's control plane is (`bash scripts/stack.sh kube-env`, in `processEnv`); no network. */
export function stackKubeEnv(processEnv: NodeJS.ProcessEnv = process.env): KubeApiServer {
  const result = spawnSync('bash', ['scripts/stack.sh', 'kube-env'], { cwd: root, encoding: 'utf8', env: processEnv });
  if (result.status !== 0) throw new Error(`bash scripts/stack.sh kube-env failed: ${result.stderr}`);
  const env = Object.fromEntries(
    result.stdout
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  ) as Record<string, string | undefined>;
  const need = (key: string): string => {
    const value = env[key];
    if (value === undefined || value === '') throw new Error(`bash scripts/stack.sh kube-env printed no ${key}`);
    return value;
  };
  const read = (key: string): string => {
    try {
      return readFileSync(need(key), 'utf8');
    } catch (error) {
      throw new Error(`${key} ${need(key)} cannot be read (${(error as Error).message}); start the API server with: bash scripts/stack.sh kube-up`);
    }
  };
  return { url: need('KUBE_APISERVER_URL'), ca: read('KUBE_CA_FILE'), token: read('KUBE_TOKEN_FILE').trim(), kubeconfig: need('KUBE_KUBECONFIG'), etcdUrl: need('ETCD_URL') };
}

/** The API server global setup verified. */
export function kubeApiServer(): KubeApiServer {
  return inject('kubeApiServer');
}

/** An error answer of the API server, with its HTTP status and `Status` body. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    message: string,
  ) {
    super(message);
  }
}

export interface KubeRequest {
  method?: string;
  body?: unknown;
  contentType?: string;
  /** Another bearer token than the admin's (a ServiceAccount's). */
  token?: string;
  timeoutMs?: number;
}

/** One request to the API server as raw JSON; rejects with `KubeApiError` on a non-2xx answer. */
export function kubeRequest<T = unknown>(server: KubeApiServer, path: string, options: KubeRequest = {}): Promise<T> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise<T>((resolve, reject) => {
    const req = request(
      new URL(path, server.url),
      {
        method: options.method ?? 'GET',
        ca: server.ca,
        timeout: options.timeoutMs ?? 30_000,
        headers: {
          Accept: 'application/json',
          Authorization: `Bearer ${options.token ?? server.token}`,
          ...(body === undefined ? {} : { 'Content-Type': options.contentType ?? 'application/json' }),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            // /readyz and friends answer plain text.
          }
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(parsed as T);
          else reject(new KubeApiError(status, parsed, `${options.method ?? 'GET'} ${path} answered ${status}: ${text.slice(0, 400)}`));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${options.method ?? 'GET'} ${path}: no answer within ${options.timeoutMs ?? 30_000} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** A client-node KubeConfig for the API server as the admin, or as the holder of `token`. */
export function kubeConfigFor(server: KubeApiServer, token: string = server.token): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'killtrace-stack', server: server.url, caData: Buffer.from(server.ca).toString('base64'), skipTLSVerify: false }],
    users: [{ name: 'user', token }],
    contexts: [{ name: 'killtrace-stack', cluster: 'killtrace-stack', user: 'user' }],
    currentContext: 'killtrace-stack',
  });
  return kc;
}

export interface ApplyOptions {
  /** Server-side dry run: the API server validates and admits the objects but persists nothing. */
  dryRun?: boolean;
  /** The field manager of the apply (default `killtrace-tests`). */
  fieldManager?: string;
}

/**
 * Server-side applies each object in order (so a Namespace listed first exists for what follows), as
 * `kubectl apply --server-side --force-conflicts` would; with `dryRun` nothing is persisted. Resolves with what the
 * API server answered for each object; rejects on the first refusal, naming the object.
 */
export async function applyManifests(objects: readonly KubernetesObject[], options: ApplyOptions = {}, server: KubeApiServer = kubeApiServer()): Promise<KubernetesObject[]> {
  const client = KubernetesObjectApi.makeApiClient(kubeConfigFor(server));
  const applied: KubernetesObject[] = [];
  for (const object of objects) {
    const name = `${object.kind ?? '?'} ${object.metadata?.namespace === undefined ? '' : `${object.metadata.namespace}/`}${object.metadata?.name ?? '?'}`;
    try {
      const spec = { ...object, metadata: { ...object.metadata, name: object.metadata?.name ?? '' } };
      applied.push(await client.patch(spec, undefined, options.dryRun === true ? 'All' : undefined, options.fieldManager ?? 'killtrace-tests', true, PatchStrategy.ServerSideApply));
    } catch (error) {
      throw new Error(`applying ${name} (${options.dryRun === true ? 'server-side dry run' : 'server-side apply'}) failed: ${apiErrorText(error)}`, { cause: error });
    }
  }
  return applied;
}

/** The API server's own words from a client-node ApiException (its `Status` body), else the error's message. */
function apiErrorText(error: unknown): string {
  const { code, body } = error as { code?: unknown; body?: unknown };
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { reason?: string; message?: string };
      if (status.message !== undefined) return `${String(code)} ${status.reason ?? ''}: ${status.message}`;
    } catch {
      // not a Status
    }
  }
  return (error as Error).message;
}

/** Creates a namespace with its `default` ServiceAccount (no controller manager runs to create it, and pods need it). */
export async function createNamespace(server: KubeApiServer, name: string): Promise<void> {
  await kubeRequest(server, '/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
  await kubeRequest(server, `/api/v1/namespaces/${name}/serviceaccounts`, { method: 'POST', body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } } });
}

/** Deletes a namespace; the API server has no namespace controller here, so its objects stay in etcd (harmless). */
export async function deleteNamespace(server: KubeApiServer, name: string): Promise<void> {
  await kubeRequest(server, `/api/v1/namespaces/${name}`, { method: 'DELETE' }).catch(() => undefined);
}

/** A bearer token for a ServiceAccount through the TokenRequest API, as the kubelet mounts one into a pod. */
export async function serviceAccountToken(server: KubeApiServer, namespace: string, name: string, expirationSeconds = 3600): Promise<string> {
  const answer = await kubeRequest<{ status: { token: string } }>(server, `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
    method: 'POST',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds } },
  });
  return answer.status.token;
}

/**
 * Runs a stack.sh command (the API server's stop/start) without blocking the event loop (the watcher under test
 * keeps retrying meanwhile); rejects with its output when it fails.
 */
export function stack(...args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('bash', ['scripts/stack.sh', ...args], { cwd: root, timeout: 300_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`bash scripts/stack.sh ${args.join(' ')} failed (${error.message}):\n${stderr}`));
      else resolve();
    });
  });
}

/**
 * Compacts etcd's history up to its current revision through etcd's own API (the gRPC gateway), as the API server's
 * compactor does every five minutes: watches from an older resourceVersion can then only be answered with 410 Gone.
 */
export async function compactEtcd(server: KubeApiServer): Promise<number> {
  const post = async (path: string, body: unknown): Promise<unknown> => {
    const response = await fetch(`${server.etcdUrl}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
    if (!response.ok) throw new Error(`etcd ${path} answered ${response.status}: ${await response.text()}`);
    return response.json();
  };
  // Any read returns the store's current revision in its header.
  const range = (await post('/v3/kv/range', { key: Buffer.from('/registry/').toString('base64'), limit: 1 })) as { header: { revision: string } };
  const revision = Number(range.header.revision);
  await post('/v3/kv/compaction', { revision, physical: true });
  return revision;
}
