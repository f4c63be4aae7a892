import { get } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { makeEvent, makePod, matchesSelector, parseLabelSelector, startFakeKubeApiServer, type FakeKubeApiServer } from './kube-api-server.js';

interface WatchLine {
  type: string;
  object: { kind?: string; code?: number; reason?: string; metadata?: { name?: string; resourceVersion?: string } };
}

let fake: FakeKubeApiServer;

beforeEach(async () => {
  fake = await startFakeKubeApiServer();
});
afterEach(async () => {
  await fake.close();
});

function getJson(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    get(`${fake.url}${path}`, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    }).on('error', reject);
  });
}

/** Opens a watch and collects its lines until `until` says stop or the stream ends. */
function watch(path: string, until: (lines: WatchLine[]) => boolean = () => false): { lines: WatchLine[]; done: Promise<WatchLine[]> } {
  const lines: WatchLine[] = [];
  const done = new Promise<WatchLine[]>((resolve, reject) => {
    const request = get(`${fake.url}${path}`, (response) => {
      expect(response.headers['transfer-encoding']).toBe('chunked');
      let buffer = '';
      response.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          lines.push(JSON.parse(buffer.slice(0, newline)) as WatchLine);
          buffer = buffer.slice(newline + 1);
        }
        if (until(lines)) request.destroy();
      });
      response.on('end', () => resolve(lines));
      response.on('close', () => resolve(lines));
    });
    request.on('error', (error) => (request.destroyed ? resolve(lines) : reject(error)));
  });
  return { lines, done };
}

const names = (lines: WatchLine[]): string[] => lines.map((l) => `${l.type} ${l.object.metadata?.name ?? l.object.kind ?? ''}`);

describe('fake Kubernetes API server', () => {
  it('lists pods cluster-wide and per namespace as PodList, items without kind, with a resourceVersion', async () => {
    fake.add('pods', makePod({ namespace: 'shop', name: 'a' }));
    fake.add('pods', makePod({ namespace: 'ops', name: 'b' }));
    const all = await getJson('/api/v1/pods');
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(fake.resourceVersion()) } });
    const items = all.body.items as { kind?: string; metadata: { name: string; uid: string; resourceVersion: string } }[];
    expect(items.map((i) => i.metadata.name)).toEqual(['a', 'b']);
    expect(items[0]?.kind).toBeUndefined();
    expect(items[0]?.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(items[1]?.metadata.resourceVersion)).toBeGreaterThan(Number(items[0]?.metadata.resourceVersion));
    const shop = await getJson('/api/v1/namespaces/shop/pods');
    expect((shop.body.items as unknown[]).length).toBe(1);
    const events = await getJson('/api/v1/events');
    expect(events.body).toMatchObject({ kind: 'EventList', items: [] });
    // Nodes are cluster-scoped (the watcher lists them for node classes); there is no namespaced path, nor other kinds.
    expect((await getJson('/api/v1/nodes')).body).toMatchObject({ kind: 'NodeList', items: [] });
    expect((await getJson('/api/v1/namespaces/shop/nodes')).status).toBe(404);
    expect((await getJson('/api/v1/services')).status).toBe(404);
  });

  it('filters pods by label selector in lists and watches, turning selector edges into ADDED/DELETED', async () => {
    fake.add('pods', makePod({ name: 'web', labels: { app: 'web', tier: 'front' } }));
    fake.add('pods', makePod({ name: 'db', labels: { app: 'db' } }));
    const listed = await getJson('/api/v1/pods?labelSelector=tier%3Dfront');
    expect((listed.body.items as { metadata: { name: string } }[]).map((i) => i.metadata.name)).toEqual(['web']);
    const rv = fake.resourceVersion();
    const w = watch(`/api/v1/pods?watch=true&resourceVersion=${rv}&labelSelector=tier%3Dfront`, (l) => l.length >= 3);
    await waitUntil(() => fake.watchCount('pods') === 1);
    fake.modify('pods', 'default', 'db', (p) => void ((p.metadata.labels as Record<string, string>).tier = 'front'));
    fake.modify('pods', 'default', 'db', (p) => void ((p.metadata.labels as Record<string, string>).app = 'db2'));
    fake.modify('pods', 'default', 'web', (p) => void delete (p.metadata.labels as Record<string, string>).tier);
    expect(names(await w.done)).toEqual(['ADDED db', 'MODIFIED db', 'DELETED web']);
    expect(matchesSelector(parseLabelSelector('app in (web, db),!gone,tier'), { metadata: { labels: { app: 'db', tier: 'x' } } })).toBe(true);
    expect(matchesSelector(parseLabelSelector('app notin (db)'), { metadata: { labels: { app: 'db' } } })).toBe(false);
    expect((await getJson('/api/v1/pods?labelSelector=%28%28')).status).toBe(400);
  });

  it('replays the history after a resourceVersion, streams live changes with monotonic versions, and bookmarks', async () => {
    fake.add('events', makeEvent({ pod: { name: 'a' }, reason: 'Started', message: 'Started container app', name: 'e1' }));
    const from = fake.resourceVersion();
    fake.modify('events', 'default', 'e1', (e) => void (e.count = 2));
    const w = watch(`/api/v1/events?watch=true&resourceVersion=${from}&allowWatchBookmarks=true`, (l) => l.length >= 4);
    await waitUntil(() => fake.watchCount('events') === 1);
    fake.add('events', makeEvent({ pod: { name: 'a' }, reason: 'Killing', message: 'Stopping container app', name: 'e2' }));
    fake.bookmark();
    fake.remove('events', 'default', 'e1');
    const lines = await w.done;
    expect(names(lines)).toEqual(['MODIFIED e1', 'ADDED e2', 'BOOKMARK Event', 'DELETED e1']);
    const versions = lines.map((l) => Number(l.object.metadata?.resourceVersion));
    expect(versions[2]).toBe(versions[1]);
    expect(versions[3]).toBeGreaterThan(versions[1] as number);
    expect(lines[0]?.object.kind).toBe('Event');
  });

  it('starts a watch without a resourceVersion with synthetic ADDED events', async () => {
    fake.add('pods', makePod({ name: 'a' }));
    const w = watch('/api/v1/pods?watch=true', (l) => l.length >= 1);
    expect(names(await w.done)).toEqual(['ADDED a']);
  });

  it('answers a compacted resourceVersion with an ERROR event carrying a 410 Expired Status, then ends the stream', async () => {
    fake.add('pods', makePod({ name: 'a' }));
    const old = fake.resourceVersion();
    fake.modify('pods', 'default', 'a', (p) => void ((p.metadata.labels as Record<string, string>).v = '2'));
    fake.compact();
    const lines = await watch(`/api/v1/pods?watch=true&resourceVersion=${old}`).done;
    expect(lines).toEqual([
      { type: 'ERROR', object: expect.objectContaining({ kind: 'Status', status: 'Failure', code: 410, reason: 'Expired' }) as unknown },
    ]);
    // The current version is still fine.
    const live = watch(`/api/v1/pods?watch=true&resourceVersion=${fake.resourceVersion()}`);
    await waitUntil(() => fake.watchCount('pods') === 1);
    fake.dropWatches();
    expect(await live.done).toEqual([]);
  });

  it('holds watches while suspended and fails requests on demand', async () => {
    fake.failNext('pods', 500);
    expect((await getJson('/api/v1/pods')).status).toBe(500);
    expect((await getJson('/api/v1/pods')).status).toBe(200);
    fake.suspendWatches();
    const from = fake.resourceVersion();
    const w = watch(`/api/v1/pods?watch=true&resourceVersion=${from}`, (l) => l.length >= 1);
    fake.add('pods', makePod({ name: 'late' }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(w.lines).toEqual([]);
    fake.resumeWatches();
    expect(names(await w.done)).toEqual(['ADDED late']);
    expect(fake.requests.filter((r) => r.watch).map((r) => r.query.resourceVersion)).toEqual([String(from)]);
  });

  it('works with @kubernetes/client-node through a generated kubeconfig', async () => {
    fake.add('pods', makePod({ name: 'a' }));
    const kc = new KubeConfig();
    kc.loadFromString(fake.kubeconfig());
    const seen: string[] = [];
    let ended: unknown = 'open';
    await new Watch(kc).watch(
      '/api/v1/pods',
      { resourceVersion: '0' },
      (type, object: { metadata: { name: string } }) => seen.push(`${type} ${object.metadata.name}`),
      (error) => (ended = error),
    );
    await waitUntil(() => seen.length === 1);
    fake.dropWatches();
    await waitUntil(() => ended !== 'open');
    expect(seen).toEqual(['ADDED a']);
    expect(ended).toBeNull();
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
