import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { importSavedObjects, importUrl, killtraceSavedObjects, toNdjson } from '@killtrace/kibana';
import { startFakeKibana, type FakeKibana } from './kibana-import-server.js';

let fake: FakeKibana | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const objects = killtraceSavedObjects();
const ndjson = toNdjson(objects);
const total = objects.length;

/** A raw POST, to send what the import client never would. */
function post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: { message?: string } }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { message?: string } }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const multipart = (fileName: string, content: string): { headers: Record<string, string>; body: string } => ({
  headers: { 'content-type': 'multipart/form-data; boundary=b0undary' },
  body: `--b0undary\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: application/ndjson\r\n\r\n${content}\r\n--b0undary--\r\n`,
});

describe('importUrl', () => {
  it('puts a non-default space under /s/<space> and always asks for overwrite', () => {
    expect(importUrl('http://kibana:5601/', undefined)).toBe('http://kibana:5601/api/saved_objects/_import?overwrite=true');
    expect(importUrl('http://kibana:5601', 'default')).toBe('http://kibana:5601/api/saved_objects/_import?overwrite=true');
    expect(importUrl('https://k.example/kibana', 'ops')).toBe('https://k.example/kibana/s/ops/api/saved_objects/_import?overwrite=true');
  });
});

describe('the Kibana import client against the fake import API', () => {
  it('imports every object as a multipart .ndjson file with kbn-xsrf and overwrite=true, then overwrites them', async () => {
    fake = await startFakeKibana({ credentials: { username: 'elastic', password: 's3cret' } });
    const connection = { url: fake.url, space: 'ops', username: 'elastic', password: 's3cret' };
    const first = await importSavedObjects(connection, ndjson);
    expect(first.success).toBe(true);
    expect(first.url).toBe(`${fake.url}/s/ops/api/saved_objects/_import?overwrite=true`);
    expect(first.objects.map((o) => o.outcome)).toEqual(Array(total).fill('created'));
    expect(first.objects[0]).toEqual({ type: 'index-pattern', id: 'killtrace-restarts-data-view', title: 'killtrace-restarts', outcome: 'created' });
    const [received] = fake.requests;
    expect(received).toMatchObject({ method: 'POST', path: '/s/ops/api/saved_objects/_import', space: 'ops', query: { overwrite: 'true' }, fileName: 'killtrace.ndjson', status: 200 });
    expect(received?.headers['kbn-xsrf']).toBeDefined();
    expect(received?.objects.length).toBe(total);

    const second = await importSavedObjects(connection, ndjson);
    expect(second.objects.map((o) => o.outcome)).toEqual(Array(total).fill('overwritten'));
    expect(fake.stored.get('ops')?.size).toBe(total);
    expect(fake.stored.get('default')).toBeUndefined();
  });

  it('reports each object Kibana refuses, with the reason, and succeeds for the rest', async () => {
    fake = await startFakeKibana({ types: ['index-pattern', 'search', 'dashboard'] });
    const report = await importSavedObjects({ url: fake.url }, ndjson);
    expect(report.success).toBe(false);
    const failed = report.objects.filter((o) => o.outcome === 'failed');
    expect(failed.filter((o) => o.type === 'lens').map((o) => o.error)).toEqual(Array(5).fill('unsupported_type'));
    const dashboard = failed.find((o) => o.type === 'dashboard');
    expect(dashboard?.error).toMatch(/^missing_references: lens\/killtrace-lens-restarts-over-time-by-cause, /);
    expect(report.objects.filter((o) => o.outcome === 'created').length).toBe(objects.filter((o) => o.type === 'index-pattern' || o.type === 'search').length);
  });

  it('fails as a whole with the HTTP status when Kibana refuses the request (wrong credentials)', async () => {
    fake = await startFakeKibana({ credentials: { username: 'elastic', password: 's3cret' } });
    await expect(importSavedObjects({ url: fake.url, username: 'elastic', password: 'wrong' }, ndjson)).rejects.toThrow(
      /^KT_ERR_KIBANA_HTTP: POST http:\/\/127\.0\.0\.1:\d+\/api\/saved_objects\/_import\?overwrite=true answered HTTP 401: .*unable to authenticate/,
    );
  });

  it('sends credentials given in the URL as basic auth and never repeats them', async () => {
    fake = await startFakeKibana({ credentials: { username: 'elastic', password: 's3cret' } });
    const withCredentials = fake.url.replace('http://', 'http://elastic:s3cret@');
    const report = await importSavedObjects({ url: withCredentials }, ndjson);
    expect(report.success).toBe(true);
    expect(report.url).toBe(`${fake.url}/api/saved_objects/_import?overwrite=true`);
    await expect(importSavedObjects({ url: withCredentials.replace('s3cret', 'wrong') }, ndjson)).rejects.toThrow(/^(?!.*wrong).*HTTP 401/);
  });

  it('names the URL when Kibana cannot be reached', async () => {
    fake = await startFakeKibana();
    const url = fake.url;
    await fake.close();
    fake = undefined;
    await expect(importSavedObjects({ url }, ndjson)).rejects.toThrow(`KT_ERR_KIBANA_UNREACHABLE: cannot reach Kibana at ${url}/api/saved_objects/_import?overwrite=true`);
  });
});

describe('the fake import API checks requests as Kibana does', () => {
  it('refuses a request without kbn-xsrf, a body that is not multipart, a file that is not .ndjson, overwrite with createNewCopies', async () => {
    fake = await startFakeKibana();
    const endpoint = `${fake.url}/api/saved_objects/_import?overwrite=true`;
    const good = multipart('objects.ndjson', ndjson);
    expect(await post(endpoint, good.headers, good.body)).toEqual({ status: 400, body: expect.objectContaining({ message: 'Request must contain a kbn-xsrf header.' }) });
    expect((await post(endpoint, { 'kbn-xsrf': 'x', 'content-type': 'application/json' }, '{}')).status).toBe(415);
    const txt = multipart('objects.txt', ndjson);
    expect(await post(endpoint, { ...txt.headers, 'kbn-xsrf': 'x' }, txt.body)).toEqual({ status: 400, body: expect.objectContaining({ message: 'Invalid file extension .txt' }) });
    expect((await post(`${endpoint}&createNewCopies=true`, { ...good.headers, 'kbn-xsrf': 'x' }, good.body)).status).toBe(400);
    expect((await post(endpoint, { ...good.headers, 'kbn-xsrf': 'x' }, good.body)).status).toBe(200);
  });

  it('answers conflict for an existing object imported without overwrite', async () => {
    fake = await startFakeKibana();
    const good = multipart('objects.ndjson', ndjson);
    const headers = { ...good.headers, 'kbn-xsrf': 'x' };
    await post(`${fake.url}/api/saved_objects/_import`, headers, good.body);
    const again = (await post(`${fake.url}/api/saved_objects/_import`, headers, good.body)) as { status: number; body: { errors?: { error: { type: string } }[] } };
    expect(again.body.errors?.map((e) => e.error.type)).toEqual(Array(total).fill('conflict'));
  });
});
