import { EXIT_CONFIG, KilltraceError } from '@killtrace/errors';

/** Codes of the API's errors; each is also the `code` member of the problem document clients receive. */
export const apiErrorCodes = {
  /** A query parameter, path parameter or body failed validation. */
  KT_ERR_API_BAD_REQUEST: 'request failed validation',
  /** No or an unknown bearer token. */
  KT_ERR_API_UNAUTHORIZED: 'missing or unknown bearer token',
  /** The record or route does not exist. */
  KT_ERR_API_NOT_FOUND: 'not found',
  /** Too many requests to an expensive route in the current window. */
  KT_ERR_API_RATE_LIMITED: 'rate limit exceeded',
  /** Elasticsearch is unreachable or failed. */
  KT_ERR_API_BACKEND: 'search backend unavailable',
  /** The API cannot start: no token configured, unreadable token file. */
  KT_ERR_API_CONFIG: 'invalid API configuration',
  /** A bug: anything else. */
  KT_ERR_API_INTERNAL: 'internal error',
} as const;
export type ApiErrorCode = keyof typeof apiErrorCodes;

const STATUS: Record<ApiErrorCode, number> = {
  KT_ERR_API_BAD_REQUEST: 400,
  KT_ERR_API_UNAUTHORIZED: 401,
  KT_ERR_API_NOT_FOUND: 404,
  KT_ERR_API_RATE_LIMITED: 429,
  KT_ERR_API_BACKEND: 503,
  KT_ERR_API_CONFIG: 500,
  KT_ERR_API_INTERNAL: 500,
};

const TITLE: Record<ApiErrorCode, string> = {
  KT_ERR_API_BAD_REQUEST: 'Bad request',
  KT_ERR_API_UNAUTHORIZED: 'Unauthorized',
  KT_ERR_API_NOT_FOUND: 'Not found',
  KT_ERR_API_RATE_LIMITED: 'Too many requests',
  KT_ERR_API_BACKEND: 'Search backend unavailable',
  KT_ERR_API_CONFIG: 'Misconfigured',
  KT_ERR_API_INTERNAL: 'Internal error',
};

/** One invalid parameter, as listed in a 400 problem. */
export interface InvalidParam {
  name: string;
  reason: string;
}

/** An error that becomes an RFC 9457 problem document. */
export class ApiError extends KilltraceError<ApiErrorCode> {
  override readonly name = 'ApiError';
  readonly status: number;

  constructor(
    code: ApiErrorCode,
    message: string,
    readonly extra: { invalidParams?: InvalidParam[]; retryAfterSeconds?: number } = {},
  ) {
    // The message is the problem document's `detail`, read by API clients: not led by the code (which has its own member).
    // KT_ERR_API_CONFIG ends the process at start with exit code 2 (services' configuration exit, runService).
    super(code, message, { context: { status: STATUS[code], ...extra }, ...(code === 'KT_ERR_API_CONFIG' ? { exitCode: EXIT_CONFIG } : {}) });
    this.status = STATUS[code];
  }
}

/** RFC 9457 problem details (`application/problem+json`), with Killtrace's `code` extension member. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: ApiErrorCode;
  invalid_params?: InvalidParam[];
}

/** The problem document of an error for the request path `instance`. */
export function problemOf(error: ApiError, instance: string): Problem {
  return {
    type: `urn:killtrace:problem:${error.code.slice('KT_ERR_API_'.length).toLowerCase().replace(/_/g, '-')}`,
    title: TITLE[error.code],
    status: error.status,
    detail: error.message,
    instance,
    code: error.code,
    ...(error.extra.invalidParams ? { invalid_params: error.extra.invalidParams } : {}),
  };
}
