import { codedMessage, KilltraceError } from '@killtrace/errors';

/** Codes of the Elasticsearch adapter's own errors. */
export const elasticErrorCodes = {
  /** The index template or the write index could not be installed. */
  KT_ERR_ELASTIC_TEMPLATE: 'index template installation failed',
  /** A bulk request failed as a whole (not per document). */
  KT_ERR_ELASTIC_BULK: 'bulk request failed',
  /** A CA file named in the configuration could not be read. */
  KT_ERR_ELASTIC_TLS_CA: 'TLS CA file unreadable',
  /** A search failed (cluster unreachable, bad request). */
  KT_ERR_ELASTIC_SEARCH: 'search failed',
  /** A pagination cursor is not one the search returned. */
  KT_ERR_ELASTIC_CURSOR: 'invalid pagination cursor',
  /** A stored document does not validate as a restart record. */
  KT_ERR_ELASTIC_DOCUMENT: 'stored document is not a restart record',
} as const;
export type ElasticErrorCode = keyof typeof elasticErrorCodes;

/** An error raised by the Elasticsearch adapter, with the index or template it concerns. */
export class ElasticAdapterError extends KilltraceError<ElasticErrorCode> {
  override readonly name = 'ElasticAdapterError';
  readonly target: string | undefined;

  constructor(code: ElasticErrorCode, message: string, options: { target?: string; cause?: unknown } = {}) {
    super(code, codedMessage(code, message), { cause: options.cause, context: { target: options.target } });
    this.target = options.target;
  }
}

const RETRIABLE_NAMES = new Set(['ConnectionError', 'TimeoutError', 'NoLivingConnectionsError', 'RequestAbortedError']);
const RETRIABLE_STATUS = new Set([408, 429, 502, 503, 504]);

/**
 * Sorts an Elasticsearch failure into retriable (the cluster is unreachable, overloaded or recovering) or fatal
 * (mapping conflicts, bad requests, authentication). Unknown errors are fatal so bugs never loop forever.
 */
export function classifyElasticError(error: unknown): { kind: 'retriable' | 'fatal'; reason: string } {
  if (typeof error !== 'object' || error === null) return { kind: 'fatal', reason: `non-error value thrown: ${String(error)}` };
  const e = error as { name?: unknown; message?: unknown; meta?: { statusCode?: unknown }; statusCode?: unknown; cause?: unknown };
  const name = typeof e.name === 'string' ? e.name : 'Error';
  if (error instanceof ElasticAdapterError && e.cause !== undefined) return classifyElasticError(e.cause);
  if (RETRIABLE_NAMES.has(name)) return { kind: 'retriable', reason: `${name}: ${String(e.message)}` };
  const status = typeof e.meta?.statusCode === 'number' ? e.meta.statusCode : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status !== undefined) {
    return RETRIABLE_STATUS.has(status) ? { kind: 'retriable', reason: `HTTP ${status}` } : { kind: 'fatal', reason: `HTTP ${status}: ${String(e.message)}` };
  }
  return { kind: 'fatal', reason: `${name}: ${String(e.message)}` };
}
