import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { KubeConfig, Watch, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { CollectorError } from '../errors.js';

/**
 * The only file that talks to the Kubernetes API: credentials, raw LIST, and the watch (client-node's, with
 * bookmarks asked for). Objects stay raw JSON exactly as the API sends them, both from LIST and from WATCH, so the
 * parsers see one shape (client-node's typed list calls would turn timestamps into Date objects).
 */

/** Loads a kubeconfig file when given, else `$KUBECONFIG`, `~/.kube/config`, or the in-cluster service account. */
export function loadKubeConfig(file: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (file !== undefined) kc.loadFromFile(file);
    else if (process.env.KUBECONFIG === undefined && process.env.KUBERNETES_SERVICE_HOST !== undefined) kc.loadFromCluster();
    else kc.loadFromDefault();
  } catch (cause) {
    throw new CollectorError('KT_ERR_COLLECTOR_KUBECONFIG', `cannot load ${file ?? 'the default kubeconfig'}: ${(cause as Error).message}`, { file }, { cause });
  }
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new CollectorError('KT_ERR_COLLECTOR_KUBECONFIG', `${file ?? 'the default kubeconfig'} has no current cluster`, { file });
  return kc;
}

/**
 * A watch that asks for BOOKMARK events, reports every raw event (for metrics) before the informer sees it, and
 * reports when a watch request was answered 200 (`opened`: the watch is established again).
 */
export class BookmarkWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly observe: (type: string, object: unknown) => void,
    private readonly opened: () => void = () => undefined,
  ) {
    super(config);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    let ended = false;
    const controller = await super.watch(
      path,
      { ...queryParams, allowWatchBookmarks: true },
      (phase, apiObj, watchObj) => {
        this.observe(phase, apiObj);
        callback(phase, apiObj, watchObj);
      },
      (err) => {
        ended = true;
        done(err);
      },
    );
    // client-node ends the watch before resolving when the request failed; otherwise the stream is open.
    if (!ended) this.opened();
    return controller;
  }
}

const PAGE_SIZE = 500;

/** LIST with pagination (`limit`/`continue`); the result's resourceVersion is the first page's, as the API requires. */
export async function listObjects<T extends KubernetesObject>(kc: KubeConfig, path: string, labelSelector: string | undefined): Promise<KubernetesListObject<T>> {
  const items: T[] = [];
  let resourceVersion: string | undefined;
  let token: string | undefined;
  let first: KubernetesListObject<T> | undefined;
  do {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (labelSelector !== undefined) query.set('labelSelector', labelSelector);
    if (token !== undefined) query.set('continue', token);
    const page = (await getJson(kc, `${path}?${query.toString()}`)) as KubernetesListObject<T>;
    first ??= page;
    resourceVersion ??= page.metadata?.resourceVersion;
    items.push(...(page.items ?? []));
    token = page.metadata?._continue ?? (page.metadata as { continue?: string } | undefined)?.continue;
    if (token === '') token = undefined;
  } while (token !== undefined);
  return { ...first, metadata: { ...(resourceVersion === undefined ? {} : { resourceVersion }) }, items };
}

/**
 * The API server's own readiness (`GET /readyz`, which every authenticated user may read through the bootstrap
 * ClusterRole system:public-info-viewer): `undefined` when it cannot be asked. Right after a start, before its RBAC
 * caches are filled, even `/readyz` is denied (403, seen with the stack's v1.35.4): that too counts as not ready.
 */
export async function apiServerReady(kc: KubeConfig): Promise<boolean | undefined> {
  try {
    await getJson(kc, '/readyz', 'text/plain');
    return true;
  } catch (error) {
    return typeof (error as { statusCode?: unknown }).statusCode === 'number' ? false : undefined;
  }
}

function getJson(kc: KubeConfig, pathAndQuery: string, accept = 'application/json'): Promise<unknown> {
  return requestJson(kc, 'GET', pathAndQuery, undefined, accept, 'KT_ERR_COLLECTOR_LIST');
}

/** One JSON request (the Lease's GET/POST/PUT); rejects with a CollectorError carrying `statusCode` when not 2xx. */
export function sendJson(kc: KubeConfig, method: 'GET' | 'POST' | 'PUT', pathAndQuery: string, body?: unknown): Promise<unknown> {
  return requestJson(kc, method, pathAndQuery, body, 'application/json', 'KT_ERR_COLLECTOR_LEASE');
}

async function requestJson(kc: KubeConfig, method: string, pathAndQuery: string, body: unknown, accept: string, code: 'KT_ERR_COLLECTOR_LIST' | 'KT_ERR_COLLECTOR_LEASE'): Promise<unknown> {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new CollectorError('KT_ERR_COLLECTOR_KUBECONFIG', 'no current cluster');
  const url = new URL(cluster.server.replace(/\/$/, '') + pathAndQuery);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const options: RequestOptions = { method, headers: { Accept: accept, ...(payload === undefined ? {} : { 'Content-Type': 'application/json' }) } };
  await kc.applyToHTTPSOptions(options);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const path = url.pathname;
  return new Promise((resolve, reject) => {
    const req = request(url, { ...options, timeout: 60_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', (cause) => reject(new CollectorError(code, `reading ${path}: ${cause.message}`, { path }, { cause })));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = response.statusCode ?? 0;
        if (status < 200 || status > 299) {
          const error = new CollectorError(code, `${method} ${path} answered ${status}: ${text.slice(0, 300)}`, { path, status });
          // ListWatch relists on a statusCode 410 instead of reporting an error.
          Object.assign(error, { statusCode: status });
          reject(error);
          return;
        }
        if (accept !== 'application/json') return resolve(text);
        try {
          resolve(JSON.parse(text));
        } catch (cause) {
          reject(new CollectorError(code, `${method} ${path} answered invalid JSON`, { path }, { cause }));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out after 60 s')));
    req.on('error', (cause) => reject(new CollectorError(code, `${method} ${path}: ${cause.message}`, { path }, { cause })));
    req.end(payload);
  });
}
