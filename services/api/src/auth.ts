import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Config } from '@killtrace/config';
import { ApiError } from './errors.js';

/**
 * The accepted bearer tokens. Tokens are compared as SHA-256 digests with `timingSafeEqual`, so neither a token's
 * content nor its length shows in the response time; every known token is compared, whichever matches.
 */
export class TokenSet {
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  get size(): number {
    return this.digests.length;
  }

  /** The index of the matching token (for rate-limit keys and logs without the token), or -1. */
  match(candidate: string): number {
    const d = digest(candidate);
    let found = -1;
    this.digests.forEach((known, i) => {
      if (timingSafeEqual(known, d) && found === -1) found = i;
    });
    return found;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Tokens from `api.tokens` plus `api.tokensFile` (one per line, `#` comments); refuses an empty set. */
export function loadTokens(config: Config['api']): TokenSet {
  const tokens = [...config.tokens];
  if (config.tokensFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(config.tokensFile, 'utf8');
    } catch (cause) {
      throw new ApiError('KT_ERR_API_CONFIG', `cannot read api.tokensFile ${config.tokensFile}: ${(cause as Error).message}`);
    }
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      if (line.length < 16) throw new ApiError('KT_ERR_API_CONFIG', `api.tokensFile ${config.tokensFile} line ${i + 1}: tokens must be at least 16 characters`);
      tokens.push(line);
    });
  }
  if (tokens.length === 0) {
    throw new ApiError('KT_ERR_API_CONFIG', 'no API token configured: set api.tokens (KILLTRACE_API_TOKENS) or api.tokensFile (KILLTRACE_API_TOKENS_FILE)');
  }
  return new TokenSet(tokens);
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
  return m?.[1];
}
