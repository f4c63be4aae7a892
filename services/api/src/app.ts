import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ElasticAdapterError, classifyElasticError, type ElasticClient } from '@killtrace/elastic';
import type { Logger } from '@killtrace/logging';
import { timelineInlineScript } from '@killtrace/render';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { bearerToken, type TokenSet } from './auth.js';
import { ApiError, problemOf, type InvalidParam } from './errors.js';
import { openApiDocument } from './openapi.js';
import { RateLimiter } from './rate-limit.js';
import type { RouteDef } from './route-table.js';
import { apiRoutes } from './routes.js';

export interface AppOptions {
  elastic: ElasticClient;
  /** Alias or index of the restart records. */
  index: string;
  tokens: TokenSet;
  rateLimitPerMinute: number;
  maxPageSize: number;
  logger: Logger;
  /** Injected for tests of the rate limiter's window. */
  now?: () => number;
  /** Readiness for /readyz (the kubelet's readinessProbe): resolves to a reason while not ready. Default: ready. */
  notReadyReason?: () => Promise<string | undefined>;
}

const WEB_DIR = new URL('../web/', import.meta.url);
const WEB_FILES: Record<string, { file: string; type: string }> = {
  '/ui/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/ui/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/ui/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

function packageVersion(): string {
  const raw: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return typeof raw === 'object' && raw !== null && 'version' in raw && typeof raw.version === 'string' ? raw.version : 'unknown';
}

/**
 * The page may run no script but its own file and the timeline's one inline script (by hash, inside the
 * timeline's srcdoc frame, which inherits this policy); the exported HTML carries its styles inline.
 */
function contentSecurityPolicy(): string {
  const hash = createHash('sha256').update(timelineInlineScript, 'utf8').digest('base64');
  return [
    "default-src 'none'",
    `script-src 'self' 'sha256-${hash}'`,
    "style-src 'self' 'unsafe-inline'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "frame-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function zodIssues(error: { issues: Array<{ path: PropertyKey[]; message: string }> }, where: string): InvalidParam[] {
  return error.issues.map((i) => ({ name: i.path.length > 0 ? i.path.map(String).join('.') : where, reason: i.message }));
}

/** Builds the API and web page (not listening yet). */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, routerOptions: { maxParamLength: 400 }, return503OnClosing: true });
  const limiter = new RateLimiter(options.rateLimitPerMinute, 60_000, options.now);
  const routes = apiRoutes({ elastic: options.elastic, index: options.index, maxPageSize: options.maxPageSize, logger: options.logger });
  const version = packageVersion();
  const csp = contentSecurityPolicy();

  const sendProblem = (reply: FastifyReply, request: FastifyRequest, error: ApiError): FastifyReply => {
    if (error.code === 'KT_ERR_API_UNAUTHORIZED') reply.header('www-authenticate', 'Bearer realm="killtrace"');
    if (error.extra.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.extra.retryAfterSeconds));
    return reply.code(error.status).type('application/problem+json').send(problemOf(error, request.url.split('?')[0] ?? request.url));
  };

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cache-control', 'no-store');
    return payload;
  });

  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    if (error instanceof ApiError) return sendProblem(reply, request, error);
    if (error instanceof ElasticAdapterError || classifyElasticError(error).kind === 'retriable') {
      options.logger.warn({ err: error, code: 'KT_ERR_API_BACKEND', url: request.url }, 'search backend failed');
      return sendProblem(reply, request, new ApiError('KT_ERR_API_BACKEND', 'Elasticsearch is unavailable or failed; try again later'));
    }
    const status = (error as FastifyError).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return sendProblem(reply, request, new ApiError(status === 404 ? 'KT_ERR_API_NOT_FOUND' : 'KT_ERR_API_BAD_REQUEST', error.message));
    }
    options.logger.error({ err: error, code: 'KT_ERR_API_INTERNAL', url: request.url }, 'request failed');
    return sendProblem(reply, request, new ApiError('KT_ERR_API_INTERNAL', 'internal error (logged on the server)'));
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, request, new ApiError('KT_ERR_API_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)));

  const authenticate = (request: FastifyRequest): number => {
    const token = bearerToken(request.headers.authorization);
    const match = token === undefined ? -1 : options.tokens.match(token);
    if (match < 0) throw new ApiError('KT_ERR_API_UNAUTHORIZED', token === undefined ? 'send Authorization: Bearer <token>' : 'unknown bearer token');
    return match;
  };

  for (const def of routes) registerRoute(app, def, { authenticate, limiter });

  const openapi = openApiDocument(routes, version);
  app.get('/api/v1/openapi.json', async () => openapi);
  app.get('/healthz', async () => ({ status: 'ok' }));
  // Public like /healthz (probes send no token); not ready while Elasticsearch, which every route reads, does not answer.
  app.get('/readyz', async (_request, reply) => {
    const reason = options.notReadyReason ? await options.notReadyReason() : undefined;
    return reason === undefined ? { status: 'ready' } : reply.code(503).send({ status: 'not ready', reason });
  });
  app.get('/', async (_request, reply) => reply.redirect('/ui/'));
  for (const [url, { file, type }] of Object.entries(WEB_FILES)) {
    const body = readFileSync(new URL(file, WEB_DIR), 'utf8');
    app.get(url, async (_request, reply) => reply.type(type).header('content-security-policy', csp).send(body));
  }
  return app;
}

function registerRoute(app: FastifyInstance, def: RouteDef, deps: { authenticate: (request: FastifyRequest) => number; limiter: RateLimiter }): void {
  app.route({
    method: def.method,
    url: def.url,
    handler: async (request, reply) => {
      const who = def.public ? -1 : deps.authenticate(request);
      if (def.expensive) {
        const wait = deps.limiter.take(`${who}:expensive`);
        if (wait > 0) throw new ApiError('KT_ERR_API_RATE_LIMITED', `too many requests to expensive routes; retry in ${wait} s`, { retryAfterSeconds: wait });
      }
      const query = def.query ? def.query.safeParse(request.query ?? {}) : { success: true as const, data: undefined };
      if (!query.success) throw new ApiError('KT_ERR_API_BAD_REQUEST', 'invalid query parameters', { invalidParams: zodIssues(query.error, 'query') });
      const params = def.params ? def.params.safeParse(request.params ?? {}) : { success: true as const, data: undefined };
      if (!params.success) throw new ApiError('KT_ERR_API_BAD_REQUEST', 'invalid path parameters', { invalidParams: zodIssues(params.error, 'path') });
      return def.handler({ query: query.data, params: params.data, request, reply });
    },
  });
}
