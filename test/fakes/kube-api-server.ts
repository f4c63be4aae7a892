import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * A fake Kubernetes API server for the collector's tests: plain node:http on 127.0.0.1 and a random port, speaking
 * the real list/watch protocol for core/v1 pods and events, cluster-wide and per namespace.
 *
 * - LIST answers `{ kind: PodList|EventList, apiVersion: v1, metadata: { resourceVersion }, items }`; items carry no
 *   `kind`/`apiVersion`, as the API server's lists do.
 * - WATCH (`?watch=true&resourceVersion=N`) streams chunked, newline-delimited `{ type, object }` events: the history
 *   after N, then live changes. Without a resourceVersion (or `0`) it starts with a synthetic ADDED per object.
 *   A resourceVersion older than the compacted history gets one ERROR event carrying a `Status` with code 410
 *   (reason `Expired`) and the stream ends, as the API server does. `allowWatchBookmarks=true` enables BOOKMARK
 *   events (sent by `bookmark()`), `timeoutSeconds` ends the stream, `labelSelector` filters pods (equality, set and
 *   existence requirements), and an object moving in or out of a selector is ADDED or DELETED for that watch.
 * - One resourceVersion counter for every kind, like etcd's revision: it only grows.
 *
 * Test controls: `add` / `modify` / `remove` objects, `compact` (watches from before now get 410),
 * `dropWatches` (server-side disconnects), `suspendWatches` / `resumeWatches` (hold new watch requests, to change
 * the world while clients are disconnected), `bookmark`, `failNext` (answer the next requests with an HTTP error),
 * and the log of every request served.
 */

export type Resource = 'pods' | 'events' | 'nodes';
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
type KubeObject = Record<string, unknown> & { metadata: Record<string, unknown> };

const KINDS: Record<Resource, { kind: string; list: string }> = {
  pods: { kind: 'Pod', list: 'PodList' },
  events: { kind: 'Event', list: 'EventList' },
  // Cluster-scoped: the cluster watcher lists and watches them for node classes (decision 0017).
  nodes: { kind: 'Node', list: 'NodeList' },
};

interface HistoryEntry {
  rv: number;
  resource: Resource;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
  /** The object before this change (MODIFIED only): decides ADDED/DELETED for a selector watch. */
  previous?: KubeObject;
}

interface Watcher {
  resource: Resource;
  namespace: string | undefined;
  selector: LabelSelector;
  bookmarks: boolean;
  response: ServerResponse;
  timer?: NodeJS.Timeout;
}

/** One request the fake served, for assertions (e.g. the resourceVersion a watch resumed from). */
export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  watch: boolean;
}

export interface FakeKubeApiServer {
  readonly url: string;
  readonly port: number;
  readonly requests: readonly RequestRecord[];
  /** The current resourceVersion (the last one handed out). */
  resourceVersion(): number;
  /** Open watch connections, by resource. */
  watchCount(resource?: Resource): number;
  /** Adds an object (uid, resourceVersion, creationTimestamp filled in unless `raw`); returns the stored copy. */
  add(resource: Resource, object: Record<string, unknown>, options?: { raw?: boolean }): KubeObject;
  /** Replaces an object (found by namespace/name) through `change`, which may mutate or return a new object. */
  modify(resource: Resource, namespace: string, name: string, change: (object: KubeObject) => KubeObject | void): KubeObject;
  /** Deletes an object; the DELETED event carries it with a new resourceVersion. */
  remove(resource: Resource, namespace: string, name: string): KubeObject;
  get(resource: Resource, namespace: string, name: string): KubeObject | undefined;
  /** Forgets the watch history: watches from a resourceVersion below the current one get 410 Gone. */
  compact(): void;
  /** Ends every open watch stream from the server side (abruptly when `abort`, else a clean end of stream). */
  dropWatches(options?: { abort?: boolean }): void;
  /** Drops open watches and holds new watch requests (unanswered) until `resumeWatches`. */
  suspendWatches(): void;
  resumeWatches(): void;
  /** Sends a BOOKMARK with the current resourceVersion to every watch that allowed bookmarks. */
  bookmark(): void;
  /** Answers the next `count` requests (list or watch) of `resource` with this HTTP status and a Status body. */
  failNext(resource: Resource, status: number, count?: number): void;
  /** A kubeconfig (YAML) pointing at this server without authentication. */
  kubeconfig(): string;
  /** Writes `kubeconfig()` to `dir/kubeconfig` and returns the path. */
  writeKubeconfig(dir: string): string;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// Label selectors (the subset of the API server's grammar that matters for pods)

type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };
export type LabelSelector = Requirement[];

/** Parses `a=b,c!=d,e in (f,g),h notin (i),j,!k`; throws on anything else (the API server answers 400). */
export function parseLabelSelector(text: string | undefined): LabelSelector {
  if (text === undefined || text.trim() === '') return [];
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((raw) => {
    const part = raw.trim();
    let m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (m) return { op: m[2] as 'in' | 'notin', key: m[1] as string, values: (m[3] as string).split(',').map((v) => v.trim()) };
    m = /^([\w./-]+)\s*(!=|==|=)\s*([\w.-]*)$/.exec(part);
    if (m) return { op: m[2] === '!=' ? 'neq' : 'eq', key: m[1] as string, value: m[3] as string };
    m = /^(!?)([\w./-]+)$/.exec(part);
    if (m) return { op: m[1] === '!' ? 'notexists' : 'exists', key: m[2] as string };
    throw new Error(`unable to parse requirement: ${part}`);
  });
}

export function matchesSelector(selector: LabelSelector, object: KubeObject): boolean {
  const labels = (object.metadata.labels ?? {}) as Record<string, string>;
  return selector.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    const value = labels[r.key];
    switch (r.op) {
      case 'eq':
        return value === r.value;
      case 'neq':
        return value !== r.value;
      case 'in':
        return has && r.values.includes(value as string);
      case 'notin':
        return !has || !r.values.includes(value as string);
      case 'exists':
        return has;
      case 'notexists':
        return !has;
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------

function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

const REASONS: Record<number, string> = { 400: 'BadRequest', 403: 'Forbidden', 404: 'NotFound', 410: 'Expired', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable' };

function clone<T>(value: T): T {
  return structuredClone(value);
}

function route(pathname: string): { resource: Resource; namespace: string | undefined } | undefined {
  const m = /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?(pods|events|nodes)$/.exec(pathname);
  if (m?.[2] === 'nodes' && m[1] !== undefined) return undefined;
  if (!m) return undefined;
  return { resource: m[2] as Resource, namespace: m[1] === undefined ? undefined : decodeURIComponent(m[1]) };
}

/** Starts the fake on 127.0.0.1 and a free port. */
export async function startFakeKubeApiServer(): Promise<FakeKubeApiServer> {
  let rv = 1000;
  /** Watches from a resourceVersion below this one get 410. */
  let compactedRv = 0;
  const store: Record<Resource, Map<string, KubeObject>> = { pods: new Map(), events: new Map(), nodes: new Map() };
  const history: HistoryEntry[] = [];
  const watchers = new Set<Watcher>();
  const requests: RequestRecord[] = [];
  const failures: Record<Resource, { status: number; count: number }[]> = { pods: [], events: [], nodes: [] };
  let suspended = false;
  const held: (() => void)[] = [];

  const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;
  const withKind = (resource: Resource, object: KubeObject): KubeObject => ({ kind: KINDS[resource].kind, apiVersion: 'v1', ...object });

  function send(watcher: Watcher, type: WatchEventType, object: unknown): void {
    if (watcher.response.writableEnded || watcher.response.destroyed) return;
    watcher.response.write(`${JSON.stringify({ type, object })}\n`);
  }

  function endWatch(watcher: Watcher, abort = false): void {
    watchers.delete(watcher);
    if (watcher.timer) clearTimeout(watcher.timer);
    if (abort) watcher.response.socket?.destroy();
    else if (!watcher.response.writableEnded) watcher.response.end();
  }

  /** What a watch sees of a change: selectors turn MODIFIED into ADDED/DELETED at their edge. */
  function deliver(watcher: Watcher, entry: HistoryEntry): void {
    if (entry.resource !== watcher.resource) return;
    const namespace = entry.object.metadata.namespace as string | undefined;
    if (watcher.namespace !== undefined && namespace !== watcher.namespace) return;
    const now = matchesSelector(watcher.selector, entry.object);
    if (entry.type === 'MODIFIED' && entry.previous !== undefined) {
      const before = matchesSelector(watcher.selector, entry.previous);
      if (before && now) send(watcher, 'MODIFIED', withKind(entry.resource, entry.object));
      else if (!before && now) send(watcher, 'ADDED', withKind(entry.resource, entry.object));
      else if (before && !now) send(watcher, 'DELETED', withKind(entry.resource, entry.object));
      return;
    }
    if (now) send(watcher, entry.type, withKind(entry.resource, entry.object));
  }

  function record(entry: HistoryEntry): void {
    history.push(entry);
    for (const watcher of watchers) deliver(watcher, entry);
  }

  function nextRv(): string {
    rv += 1;
    return String(rv);
  }

  function visible(resource: Resource, namespace: string | undefined, selector: LabelSelector): KubeObject[] {
    return [...store[resource].values()].filter(
      (o) => (namespace === undefined || o.metadata.namespace === namespace) && matchesSelector(selector, o),
    );
  }

  function reply(response: ServerResponse, code: number, body: unknown): void {
    response.writeHead(code, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify(body));
  }

  function startWatch(request: IncomingMessage, response: ServerResponse, resource: Resource, namespace: string | undefined, query: URLSearchParams, selector: LabelSelector): void {
    response.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    response.flushHeaders();
    const watcher: Watcher = { resource, namespace, selector, bookmarks: query.get('allowWatchBookmarks') === 'true', response };
    const from = query.get('resourceVersion') ?? '';
    if (from === '' || from === '0') {
      // "Get state and start at most recent": a synthetic ADDED per object, then live changes.
      for (const object of visible(resource, namespace, selector)) send(watcher, 'ADDED', withKind(resource, object));
    } else {
      const since = Number(from);
      if (!Number.isInteger(since) || since < 0) {
        send(watcher, 'ERROR', status(400, 'BadRequest', `invalid resource version: ${from}`));
        response.end();
        return;
      }
      if (since < compactedRv) {
        send(watcher, 'ERROR', status(410, 'Expired', `too old resource version: ${since} (${compactedRv})`));
        response.end();
        return;
      }
      for (const entry of history) if (entry.rv > since) deliver(watcher, entry);
    }
    watchers.add(watcher);
    const timeoutSeconds = Number(query.get('timeoutSeconds') ?? '0');
    if (timeoutSeconds > 0) watcher.timer = setTimeout(() => endWatch(watcher), timeoutSeconds * 1000);
    const forget = (): void => {
      watchers.delete(watcher);
      if (watcher.timer) clearTimeout(watcher.timer);
    };
    request.on('close', forget);
    response.on('close', forget);
  }

  function handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const query = url.searchParams;
    const isWatch = query.get('watch') === 'true' || query.get('watch') === '1';
    requests.push({ method: request.method ?? 'GET', path: url.pathname, query: Object.fromEntries(query), watch: isWatch });
    const target = route(url.pathname);
    if (request.method !== 'GET' || target === undefined) {
      reply(response, target === undefined ? 404 : 405, status(target === undefined ? 404 : 405, target === undefined ? 'NotFound' : 'MethodNotAllowed', `the server could not find the requested resource`));
      return;
    }
    const failure = failures[target.resource][0];
    if (failure !== undefined) {
      failure.count -= 1;
      if (failure.count <= 0) failures[target.resource].shift();
      reply(response, failure.status, status(failure.status, REASONS[failure.status] ?? 'Unknown', `injected failure ${failure.status}`));
      return;
    }
    let selector: LabelSelector;
    try {
      selector = target.resource === 'pods' ? parseLabelSelector(query.get('labelSelector') ?? undefined) : [];
    } catch (error) {
      reply(response, 400, status(400, 'BadRequest', (error as Error).message));
      return;
    }
    if (isWatch) {
      const begin = (): void => {
        if (!response.destroyed) startWatch(request, response, target.resource, target.namespace, query, selector);
      };
      if (suspended) held.push(begin);
      else begin();
      return;
    }
    reply(response, 200, {
      kind: KINDS[target.resource].list,
      apiVersion: 'v1',
      metadata: { resourceVersion: String(rv) },
      items: visible(target.resource, target.namespace, selector).map(clone),
    });
  }

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  const fake: FakeKubeApiServer = {
    url,
    port,
    requests,
    resourceVersion: () => rv,
    watchCount: (resource) => [...watchers].filter((w) => resource === undefined || w.resource === resource).length,
    add(resource, object, options = {}) {
      const stored = clone(object) as KubeObject;
      stored.metadata = { ...(stored.metadata ?? {}) };
      delete stored.kind;
      delete stored.apiVersion;
      if (options.raw !== true) {
        stored.metadata.namespace ??= 'default';
        stored.metadata.uid ??= randomUUID();
        stored.metadata.creationTimestamp ??= new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      }
      const key = keyOf(String(stored.metadata.namespace ?? ''), String(stored.metadata.name ?? ''));
      if (store[resource].has(key)) throw new Error(`fake kube-api: ${resource} ${key} already exists`);
      stored.metadata.resourceVersion = nextRv();
      store[resource].set(key, stored);
      record({ rv, resource, type: 'ADDED', object: clone(stored) });
      return clone(stored);
    },
    modify(resource, namespace, name, change) {
      const key = keyOf(namespace, name);
      const previous = store[resource].get(key);
      if (previous === undefined) throw new Error(`fake kube-api: no ${resource} ${key}`);
      const draft = clone(previous);
      const next = (change(draft) ?? draft) as KubeObject;
      next.metadata = { ...next.metadata, namespace: previous.metadata.namespace, name: previous.metadata.name, uid: previous.metadata.uid, resourceVersion: nextRv() };
      store[resource].set(key, next);
      record({ rv, resource, type: 'MODIFIED', object: clone(next), previous: clone(previous) });
      return clone(next);
    },
    remove(resource, namespace, name) {
      const key = keyOf(namespace, name);
      const previous = store[resource].get(key);
      if (previous === undefined) throw new Error(`fake kube-api: no ${resource} ${key}`);
      store[resource].delete(key);
      const gone = clone(previous);
      gone.metadata.resourceVersion = nextRv();
      record({ rv, resource, type: 'DELETED', object: gone });
      return clone(gone);
    },
    get(resource, namespace, name) {
      const found = store[resource].get(keyOf(namespace, name));
      return found === undefined ? undefined : clone(found);
    },
    compact() {
      compactedRv = rv;
      history.length = 0;
    },
    dropWatches(options = {}) {
      for (const watcher of [...watchers]) endWatch(watcher, options.abort === true);
    },
    suspendWatches() {
      suspended = true;
      fake.dropWatches();
    },
    resumeWatches() {
      suspended = false;
      for (const begin of held.splice(0)) begin();
    },
    bookmark() {
      for (const watcher of watchers) {
        if (watcher.bookmarks) send(watcher, 'BOOKMARK', { kind: KINDS[watcher.resource].kind, apiVersion: 'v1', metadata: { resourceVersion: String(rv) } });
      }
    },
    failNext(resource, code, count = 1) {
      failures[resource].push({ status: code, count });
    },
    kubeconfig() {
      return [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '  - name: fake',
        '    cluster:',
        `      server: ${url}`,
        // client-node refuses plain http unless TLS verification is (trivially) skipped.
        '      insecure-skip-tls-verify: true',
        'users:',
        '  - name: anonymous',
        '    user: {}',
        'contexts:',
        '  - name: fake',
        '    context:',
        '      cluster: fake',
        '      user: anonymous',
        'current-context: fake',
        '',
      ].join('\n');
    },
    writeKubeconfig(dir) {
      const path = join(dir, 'kubeconfig');
      writeFileSync(path, fake.kubeconfig());
      return path;
    },
    async close() {
      suspended = false;
      held.length = 0;
      fake.dropWatches({ abort: true });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}

// ---------------------------------------------------------------------------------------------------------------
// Object builders, shaped as the API server returns them

export interface PodOptions {
  namespace?: string;
  name: string;
  uid?: string;
  labels?: Record<string, string>;
  nodeName?: string;
  owner?: { kind: string; name: string };
  containers?: { name: string; image?: string; liveness?: Record<string, unknown>; startup?: Record<string, unknown> }[];
  restartCount?: number;
  phase?: string;
}

const RFC3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/** A running pod with one status per container. */
export function makePod(options: PodOptions): Record<string, unknown> {
  const containers = options.containers ?? [{ name: 'app', image: 'ghcr.io/acme/app:1.0.0' }];
  const started = RFC3339(Date.UTC(2026, 9, 2, 6, 30, 0));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: options.name,
      namespace: options.namespace ?? 'default',
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      labels: options.labels ?? { app: options.name },
      ...(options.owner === undefined
        ? {}
        : { ownerReferences: [{ apiVersion: 'apps/v1', kind: options.owner.kind, name: options.owner.name, uid: randomUUID(), controller: true, blockOwnerDeletion: true }] }),
    },
    spec: {
      nodeName: options.nodeName ?? 'worker-1',
      containers: containers.map((c) => ({
        name: c.name,
        image: c.image ?? 'ghcr.io/acme/app:1.0.0',
        ...(c.liveness === undefined ? {} : { livenessProbe: c.liveness }),
        ...(c.startup === undefined ? {} : { startupProbe: c.startup }),
        resources: {},
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        imagePullPolicy: 'IfNotPresent',
      })),
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
    },
    status: {
      phase: options.phase ?? 'Running',
      hostIP: '10.20.0.11',
      podIP: '10.244.1.7',
      podIPs: [{ ip: '10.244.1.7' }],
      startTime: started,
      qosClass: 'BestEffort',
      conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: started }],
      containerStatuses: containers.map((c) => ({
        name: c.name,
        image: c.image ?? 'ghcr.io/acme/app:1.0.0',
        imageID: `${c.image ?? 'ghcr.io/acme/app:1.0.0'}@sha256:${'0'.repeat(64)}`,
        containerID: `containerd://${randomUUID().replace(/-/g, '')}`,
        restartCount: options.restartCount ?? 0,
        ready: true,
        started: true,
        state: { running: { startedAt: started } },
        lastState: {},
      })),
    },
  };
}

export interface EventOptions {
  namespace?: string;
  name?: string;
  pod: { name: string; uid?: string; namespace?: string };
  container?: string;
  reason: string;
  message: string;
  type?: 'Normal' | 'Warning';
  count?: number;
  firstAt?: number;
  lastAt?: number;
  host?: string;
}

/** A core/v1 Event about a pod (container field path when `container` is given), kubelet as its source. */
export function makeEvent(options: EventOptions): Record<string, unknown> {
  const namespace = options.namespace ?? options.pod.namespace ?? 'default';
  const first = options.firstAt ?? Date.UTC(2026, 9, 2, 6, 31, 0);
  const last = options.lastAt ?? first;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: options.name ?? `${options.pod.name}.${(first * 1000).toString(16)}`, namespace },
    involvedObject: {
      apiVersion: 'v1',
      kind: 'Pod',
      name: options.pod.name,
      namespace: options.pod.namespace ?? namespace,
      ...(options.pod.uid === undefined ? {} : { uid: options.pod.uid }),
      ...(options.container === undefined ? {} : { fieldPath: `spec.containers{${options.container}}` }),
    },
    reason: options.reason,
    message: options.message,
    source: { component: 'kubelet', host: options.host ?? 'worker-1' },
    firstTimestamp: RFC3339(first),
    lastTimestamp: RFC3339(last),
    count: options.count ?? 1,
    type: options.type ?? 'Normal',
    eventTime: null,
    reportingComponent: 'kubelet',
    reportingInstance: options.host ?? 'worker-1',
  };
}
