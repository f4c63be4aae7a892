/** @killtrace/api: the read-only search API and web page over the restart records. */
export { buildApp, type AppOptions } from './app.js';
export { startApi, main, type RunningApi } from './main.js';
export { TokenSet, loadTokens, bearerToken } from './auth.js';
export { RateLimiter } from './rate-limit.js';
export { ApiError, apiErrorCodes, problemOf, type ApiErrorCode, type Problem } from './errors.js';
export { openApiDocument } from './openapi.js';
export { filterOf } from './routes.js';
