import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { z } from 'zod';
import type { Config } from '@killtrace/config';
import { KibanaAdapterError } from './errors.js';

/** Where and how to import: Kibana's URL, an optional space, credentials (`kibana.*` in libs/config). */
export type KibanaConnection = NonNullable<Config['kibana']> & { url: string };

const objectMeta = z.looseObject({ title: z.string().optional() });
const importErrorSchema = z.looseObject({
  type: z.string(),
  id: z.string(),
  title: z.string().optional(),
  meta: objectMeta.optional(),
  error: z.looseObject({
    type: z.string(),
    message: z.string().optional(),
    references: z.array(z.looseObject({ type: z.string(), id: z.string() })).optional(),
  }),
});
/** The answer of `POST /api/saved_objects/_import` (Kibana 8.x). */
const importResponseSchema = z.looseObject({
  success: z.boolean(),
  successCount: z.number(),
  successResults: z
    .array(z.looseObject({ type: z.string(), id: z.string(), destinationId: z.string().optional(), overwrite: z.boolean().optional(), meta: objectMeta.optional() }))
    .optional(),
  errors: z.array(importErrorSchema).optional(),
});

/** What happened to one saved object. */
export interface ImportOutcome {
  type: string;
  id: string;
  title: string | undefined;
  outcome: 'created' | 'overwritten' | 'failed';
  /** Why it failed (`missing_references: index-pattern/x`, `conflict`, ...). */
  error?: string;
}

export interface ImportReport {
  /** The import URL (space included), without credentials. */
  url: string;
  success: boolean;
  objects: ImportOutcome[];
}

/** The import endpoint of a Kibana base URL and space: `<url>[/s/<space>]/api/saved_objects/_import?overwrite=true`. */
export function importUrl(baseUrl: string, space: string | undefined): string {
  const base = baseUrl.replace(/\/+$/, '');
  const spacePath = space === undefined || space === 'default' ? '' : `/s/${encodeURIComponent(space)}`;
  return `${base}${spacePath}/api/saved_objects/_import?overwrite=true`;
}

function authorization(connection: KibanaConnection): string | undefined {
  if (connection.apiKey !== undefined) return `ApiKey ${connection.apiKey}`;
  if (connection.username !== undefined && connection.password !== undefined) {
    return `Basic ${Buffer.from(`${connection.username}:${connection.password}`).toString('base64')}`;
  }
  return undefined;
}

/** A multipart/form-data body with one file part named `file`, as a browser or `curl --form file=@x.ndjson` sends it. */
function multipartBody(fileName: string, content: string): { boundary: string; body: Buffer } {
  const boundary = `----killtrace${randomBytes(12).toString('hex')}`;
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: application/ndjson\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  return { boundary, body: Buffer.concat([Buffer.from(head), Buffer.from(content), Buffer.from(tail)]) };
}

function send(url: URL, options: RequestOptions, body: Buffer): Promise<{ status: number; text: string }> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeout ?? 0} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Imports an NDJSON file of saved objects with `overwrite=true` (so re-running replaces the same ids), the
 * `kbn-xsrf` header Kibana requires of API clients, into the configured space. Resolves with the outcome of
 * every object; throws KT_ERR_KIBANA_* only when the request as a whole fails.
 */
export async function importSavedObjects(
  connection: KibanaConnection,
  ndjson: string,
  options: { fileName?: string; timeoutMs?: number } = {},
): Promise<ImportReport> {
  const url = new URL(importUrl(connection.url, connection.space));
  // Messages and the report name the URL without credentials a user may have put in it.
  const shown = new URL(url);
  shown.username = '';
  shown.password = '';
  const target = shown.toString();
  const { boundary, body } = multipartBody(options.fileName ?? 'killtrace.ndjson', ndjson);
  const headers: Record<string, string> = {
    'kbn-xsrf': 'killtrace',
    'content-type': `multipart/form-data; boundary=${boundary}`,
    'content-length': String(body.length),
    accept: 'application/json',
  };
  const auth = authorization(connection);
  if (auth !== undefined) headers.authorization = auth;
  const requestOptions: RequestOptions & { ca?: string } = { method: 'POST', headers, timeout: options.timeoutMs ?? 60_000 };
  if (connection.caFile !== undefined) {
    try {
      requestOptions.ca = readFileSync(connection.caFile, 'utf8');
    } catch (cause) {
      throw new KibanaAdapterError('KT_ERR_KIBANA_TLS_CA', `cannot read kibana.caFile ${connection.caFile}: ${(cause as Error).message}`, { url: target, cause });
    }
  }

  let answer: { status: number; text: string };
  try {
    answer = await send(url, requestOptions, body);
  } catch (cause) {
    throw new KibanaAdapterError('KT_ERR_KIBANA_UNREACHABLE', `cannot reach Kibana at ${target}: ${(cause as Error).message}`, { url: target, cause });
  }
  if (answer.status < 200 || answer.status >= 300) {
    const detail = answer.text.length > 500 ? `${answer.text.slice(0, 500)}...` : answer.text;
    throw new KibanaAdapterError('KT_ERR_KIBANA_HTTP', `POST ${target} answered HTTP ${answer.status}: ${detail}`, { url: target, status: answer.status });
  }
  let parsed: z.infer<typeof importResponseSchema>;
  try {
    parsed = importResponseSchema.parse(JSON.parse(answer.text));
  } catch (cause) {
    throw new KibanaAdapterError('KT_ERR_KIBANA_RESPONSE', `POST ${target} did not answer with a saved objects import result: ${(cause as Error).message}`, {
      url: target,
      status: answer.status,
      cause,
    });
  }

  const objects: ImportOutcome[] = [
    ...(parsed.successResults ?? []).map((result) => ({
      type: result.type,
      id: result.destinationId ?? result.id,
      title: result.meta?.title,
      outcome: result.overwrite === true ? ('overwritten' as const) : ('created' as const),
    })),
    ...(parsed.errors ?? []).map((failure) => {
      const missing = failure.error.references?.map((ref) => `${ref.type}/${ref.id}`).join(', ');
      const reason = [failure.error.type, failure.error.message, missing].filter((part) => part !== undefined && part !== '').join(': ');
      return { type: failure.type, id: failure.id, title: failure.meta?.title ?? failure.title, outcome: 'failed' as const, error: reason };
    }),
  ];
  return { url: target, success: parsed.success && objects.every((object) => object.outcome !== 'failed'), objects };
}
