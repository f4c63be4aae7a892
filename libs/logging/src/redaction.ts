/** Property names whose values are secrets wherever they appear in a log record. */
export const SECRET_KEYS = ['password', 'passwd', 'apiKey', 'api_key', 'apikey', 'authorization', 'sasl', 'token', 'secret', 'credentials'] as const;

/** How deep below the record root a secret key is still found (pino's redaction needs explicit depths). */
const MAX_DEPTH = 4;

/** Censor text that replaces redacted values, shared with `redactedConfig()` so dumps and logs look the same. */
export const REDACTED = '[REDACTED]';

/** Redaction paths for pino: every secret key at depths 0..MAX_DEPTH, plus HTTP authorization headers. */
export function redactionPaths(extra: readonly string[] = []): string[] {
  const paths = new Set<string>();
  for (let depth = 0; depth <= MAX_DEPTH; depth++) {
    const prefix = '*.'.repeat(depth);
    for (const key of SECRET_KEYS) paths.add(`${prefix}${key}`);
  }
  for (const headers of ['headers', 'req.headers', 'request.headers', 'meta.headers', '*.headers']) {
    paths.add(`${headers}.authorization`);
    paths.add(`${headers}["proxy-authorization"]`);
    paths.add(`${headers}["x-api-key"]`);
  }
  for (const path of extra) paths.add(path);
  return [...paths];
}
