import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for Kibana's saved objects import API (`POST [/s/<space>]/api/saved_objects/_import`), for tests:
 * Kibana itself cannot run on the test machine. It checks a request the way Kibana 8.x does: the `kbn-xsrf`
 * header, credentials, the `overwrite` / `createNewCopies` query, a multipart body whose `file` part is an
 * `.ndjson` file, and it answers per object as Kibana does (created or overwritten, conflict, missing references,
 * unsupported type), keeping the objects per space so a second import sees the first.
 */
export interface FakeKibanaOptions {
  /** Basic-auth credentials Kibana requires; none when unset. */
  credentials?: { username: string; password: string };
  /** Saved-object types this Kibana accepts (others answer `unsupported_type`). */
  types?: string[];
  /** Answer this many requests with 503, as Kibana does while it starts (migrating its own indices). */
  startingRequests?: number;
}

export interface ReceivedImport {
  method: string;
  path: string;
  space: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  fileName: string | undefined;
  objects: { type: string; id: string; attributes: Record<string, unknown>; references: { type: string; id: string; name: string }[] }[];
  status: number;
}

export interface FakeKibana {
  url: string;
  requests: ReceivedImport[];
  /** Objects stored per space, by `type/id`. */
  stored: Map<string, Map<string, unknown>>;
  close(): Promise<void>;
}

const DEFAULT_TYPES = ['index-pattern', 'search', 'lens', 'visualization', 'dashboard', 'tag', 'config'];

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

const badRequest = (message: string): [number, object] => [400, { statusCode: 400, error: 'Bad Request', message }];

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Starts the fake on 127.0.0.1 and a free port. */
export async function startFakeKibana(options: FakeKibanaOptions = {}): Promise<FakeKibana> {
  const requests: ReceivedImport[] = [];
  const stored = new Map<string, Map<string, unknown>>();
  const types = new Set(options.types ?? DEFAULT_TYPES);
  let starting = options.startingRequests ?? 0;

  const handle = async (request: IncomingMessage): Promise<[number, object, Omit<ReceivedImport, 'status'>]> => {
    const url = new URL(request.url ?? '/', 'http://kibana');
    const match = /^(?:\/s\/([a-z0-9_-]+))?\/api\/saved_objects\/_import$/.exec(url.pathname);
    const query = Object.fromEntries(url.searchParams);
    const received: Omit<ReceivedImport, 'status'> = { method: request.method ?? '', path: url.pathname, space: match?.[1] ?? 'default', query, headers: request.headers, fileName: undefined, objects: [] };
    const body = await readBody(request);
    if (starting > 0) {
      starting -= 1;
      return [503, { statusCode: 503, error: 'Service Unavailable', message: 'Kibana server is not ready yet' }, received];
    }
    if (match === null) return [404, { statusCode: 404, error: 'Not Found', message: 'Not Found' }, received];
    if (request.method !== 'POST') return [404, { statusCode: 404, error: 'Not Found', message: 'Not Found' }, received];
    if (options.credentials !== undefined) {
      const expected = `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64')}`;
      if (request.headers.authorization !== expected) {
        return [401, { statusCode: 401, error: 'Unauthorized', message: '[security_exception]: unable to authenticate user' }, received];
      }
    }
    // Kibana's XSRF protection: every non-GET API call from outside a browser must carry kbn-xsrf.
    if (request.headers['kbn-xsrf'] === undefined) return [...badRequest('Request must contain a kbn-xsrf header.'), received];
    for (const key of Object.keys(query)) {
      if (!['overwrite', 'createNewCopies', 'compatibilityMode'].includes(key)) return [...badRequest(`[request query.${key}]: definition for this key is missing`), received];
    }
    if (query.overwrite !== undefined && !['true', 'false'].includes(query.overwrite)) return [...badRequest('[request query.overwrite]: expected value of type [boolean]'), received];
    if (query.overwrite === 'true' && query.createNewCopies === 'true') return [...badRequest('[request query]: cannot use [overwrite] with [createNewCopies]'), received];
    const contentType = request.headers['content-type'] ?? '';
    if (!contentType.startsWith('multipart/form-data')) return [415, { statusCode: 415, error: 'Unsupported Media Type', message: 'Unsupported Media Type' }, received];
    let form: FormData;
    try {
      form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
    } catch (error) {
      return [...badRequest(`Invalid multipart payload format: ${(error as Error).message}`), received];
    }
    const file = form.get('file');
    if (file === null || typeof file === 'string') return [...badRequest('[request body.file]: expected value of type [Stream] but got [undefined]'), received];
    received.fileName = file.name;
    const extension = /\.[^.]+$/.exec(file.name)?.[0] ?? '';
    if (extension !== '.ndjson') return [...badRequest(`Invalid file extension ${extension}`), received];
    const lines = (await file.text()).split('\n').filter((line) => line.trim().length > 0);
    try {
      received.objects = lines.map((line) => JSON.parse(line) as ReceivedImport['objects'][number]);
    } catch (error) {
      return [...badRequest(`Unexpected token in the NDJSON file: ${(error as Error).message}`), received];
    }

    const overwrite = query.overwrite === 'true';
    const space = stored.get(received.space) ?? new Map<string, unknown>();
    stored.set(received.space, space);
    const inFile = new Set(received.objects.filter((object) => types.has(object.type)).map((object) => `${object.type}/${object.id}`));
    const successResults: object[] = [];
    const errors: object[] = [];
    for (const object of received.objects) {
      const key = `${object.type}/${object.id}`;
      const meta = { title: object.attributes?.title, icon: object.type };
      if (!types.has(object.type)) {
        errors.push({ type: object.type, id: object.id, meta, error: { type: 'unsupported_type' } });
        continue;
      }
      const missing = (object.references ?? []).filter((ref) => !inFile.has(`${ref.type}/${ref.id}`) && !space.has(`${ref.type}/${ref.id}`));
      if (missing.length > 0) {
        errors.push({ type: object.type, id: object.id, meta, error: { type: 'missing_references', references: missing.map(({ type, id }) => ({ type, id })) } });
        continue;
      }
      const exists = space.has(key);
      if (exists && !overwrite) {
        errors.push({ type: object.type, id: object.id, meta, error: { type: 'conflict' } });
        continue;
      }
      space.set(key, object);
      successResults.push({ type: object.type, id: object.id, meta, ...(exists ? { overwrite: true } : {}) });
    }
    return [200, { successCount: successResults.length, success: errors.length === 0, warnings: [], successResults, ...(errors.length > 0 ? { errors } : {}) }, received];
  };

  const server: Server = createServer((request, response) => {
    handle(request).then(
      ([status, body, received]) => {
        requests.push({ ...received, status });
        reply(response, status, body);
      },
      (error: Error) => reply(response, 500, { statusCode: 500, error: 'Internal Server Error', message: error.message }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stored,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
