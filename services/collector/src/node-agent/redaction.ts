/**
 * Redaction of secrets in log text before it leaves the node. Pure: patterns in, text out.
 *
 * A pattern with a capture group masks only its first group (so `password=hunter2` keeps `password=`); a pattern
 * without one masks the whole match. Patterns are JavaScript regexes, given as `source` or `/source/flags`.
 */

export const REDACTION_MASK = '[REDACTED]';

/** The defaults (`nodeAgent.redactDefaults`): credentials that commonly end up in application logs. */
export const DEFAULT_REDACTION_PATTERNS: readonly string[] = [
  // password=..., passwd: ..., "pwd":"..." (value up to a separator)
  String.raw`/\b(?:password|passwd|pwd)["']?\s*[=:]\s*["']?([^\s"'&,;]+)/gi`,
  // token=..., access_token=..., api_key=..., secret=...
  String.raw`/\b(?:[a-z_]*token|api[_-]?key|secret|client[_-]?secret)["']?\s*[=:]\s*["']?([^\s"'&,;]+)/gi`,
  // Authorization: Bearer <token> (also Basic), and any other `Bearer <token>`
  String.raw`/\bAuthorization["']?\s*[=:]\s*["']?(?:Bearer|Basic)\s+([A-Za-z0-9\-._~+/]+=*)/gi`,
  String.raw`/\bBearer\s+([A-Za-z0-9\-._~+/]{8,}=*)/g`,
  // AWS access key ids and secret access keys
  String.raw`/\b((?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16})\b/g`,
  String.raw`/\baws_?secret_?access_?key["']?\s*[=:]\s*["']?([A-Za-z0-9/+=]{40})/gi`,
];

export interface CompiledRedaction {
  patterns: readonly RegExp[];
  /** How many of `patterns` (the first ones) are DEFAULT_REDACTION_PATTERNS, skipped when DEFAULTS_PREFILTER misses. */
  defaults?: number;
}

/**
 * Matches every line any default pattern could match: the text each of them needs (DEFAULT_PATTERN_NEEDS, one
 * alternation), a key word with its `=`/`:` separator, so one scan skips all six for the vast majority of lines, also
 * those that mention a key word in prose (`token refresh queued`), which the word alone let through.
 */
const DEFAULTS_PREFILTER = /(?:passw(?:or)?d|pwd|token|key|secret|authorization)["']?\s*[=:]|bearer\s|A(?:KIA|SIA|GPA|IDA|ROA|NPA)/i;

/**
 * Per default pattern (same order as DEFAULT_REDACTION_PATTERNS), text every match of it contains (its key word, then
 * the separator): a line that passed DEFAULTS_PREFILTER (e.g. it says `token` in prose) runs only the patterns whose
 * text it has, not all six.
 */
const DEFAULT_PATTERN_NEEDS: readonly RegExp[] = [
  /(?:password|passwd|pwd)["']?\s*[=:]/i,
  /(?:token|key|secret)["']?\s*[=:]/i,
  /authorization["']?\s*[=:]/i,
  /Bearer\s/,
  /AKIA|ASIA|AGPA|AIDA|AROA|ANPA/,
  /key["']?\s*[=:]/i,
];

/** Thrown for a pattern that is not a valid regex: configuration errors are reported at start, not per line. */
export class RedactionPatternError extends Error {
  constructor(
    readonly pattern: string,
    reason: string,
  ) {
    super(`KT_ERR_NODE_AGENT_REDACT_PATTERN: invalid redaction pattern ${JSON.stringify(pattern)}: ${reason}`);
    this.name = 'RedactionPatternError';
  }
}

function compileOne(pattern: string): RegExp {
  const m = /^\/(.*)\/([a-z]*)$/s.exec(pattern);
  const source = m ? (m[1] as string) : pattern;
  const flags = new Set((m ? (m[2] as string) : '').split('').filter((f) => f !== ''));
  flags.add('g');
  flags.add('d');
  try {
    return new RegExp(source, [...flags].join(''));
  } catch (error) {
    throw new RedactionPatternError(pattern, (error as Error).message);
  }
}

/** Compiles the configured patterns (the defaults first when `includeDefaults`). */
export function compileRedaction(patterns: readonly string[], includeDefaults = true): CompiledRedaction {
  const all = includeDefaults ? [...DEFAULT_REDACTION_PATTERNS, ...patterns] : [...patterns];
  return { patterns: all.map(compileOne), defaults: includeDefaults ? DEFAULT_REDACTION_PATTERNS.length : 0 };
}

/** Masks every match; returns the text and how many matches were masked. */
export function redact(text: string, redaction: CompiledRedaction): { text: string; count: number } {
  let out = text;
  let count = 0;
  const defaults = redaction.defaults ?? 0;
  const skip = defaults > 0 && !DEFAULTS_PREFILTER.test(text) ? defaults : 0;
  for (let i = skip; i < redaction.patterns.length; i++) {
    // Looked for in the original text: masking only replaces values with the mask, it never creates that text.
    if (i < defaults && DEFAULT_PATTERN_NEEDS[i]?.test(text) === false) continue;
    const re = redaction.patterns[i] as RegExp;
    re.lastIndex = 0;
    if (!re.test(out)) continue;
    re.lastIndex = 0;
    let result = '';
    let last = 0;
    for (let m = re.exec(out); m !== null; m = re.exec(out)) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      const span = m.indices?.[1] ?? m.indices?.[0];
      if (span === undefined || span[0] < last) continue;
      result += out.slice(last, span[0]) + REDACTION_MASK;
      last = span[1];
      count++;
    }
    out = result + out.slice(last);
  }
  return { text: out, count };
}
