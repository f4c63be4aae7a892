/**
 * A small Drain-style log template miner (He et al., "Drain: An Online Log Parsing Approach with Fixed Depth Tree",
 * ICWS 2017), pure and deterministic. Lines are first reduced to a masked key (`maskLine`): the message of a JSON
 * line, whitespace tokens, every token holding a digit (numbers, ids, addresses, hex, times) replaced by `<*>`.
 * Keys are then clustered by a fixed-depth parse tree (token count, then the first tokens) and a similarity
 * threshold; positions that differ inside a cluster become `<*>` too.
 *
 * Streaming Drain depends on arrival order. The correlation core must not (decision 0002), so `mineTemplates` takes
 * the set of keys and feeds them in sorted order: the same set always gives the same templates.
 */

export const WILDCARD = '<*>';

const MAX_TOKENS = 24;
const MAX_KEY_CHARS = 240;
const MAX_LEAF_CLUSTERS = 32;

/** Where the masked part of a line lies: the message of a JSON line (`msg` or `message`), else the whole line. */
function bodyRange(text: string): [number, number] {
  if (text.charCodeAt(0) !== 123 /* { */) return [0, text.length];
  return messageRange(text, '"msg"') ?? messageRange(text, '"message"') ?? [0, text.length];
}

function bodyOf(text: string): string {
  const [from, to] = bodyRange(text);
  return from === 0 && to === text.length ? text : text.slice(from, to);
}

/** The range of the string value of `field` (quoted) in a JSON line, without unescaping; undefined when absent. */
function messageRange(text: string, field: string): [number, number] | undefined {
  const at = text.indexOf(field);
  if (at < 0) return undefined;
  let i = at + field.length;
  while (i < text.length && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 58)) i += 1;
  if (text.charCodeAt(i) !== 34) return undefined;
  const start = i + 1;
  // The closing quote is the first one after an even run of backslashes (a backslash escapes the next character).
  // indexOf finds the quotes in native code: this runs on every JSON log line.
  for (let q = text.indexOf('"', start); q >= 0; q = text.indexOf('"', q + 1)) {
    let k = q - 1;
    while (k >= start && text.charCodeAt(k) === 92) k -= 1;
    if ((q - 1 - k) % 2 === 0) return [start, q];
  }
  return undefined;
}

const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);

const HASH_SEED = 0xdeadbeef;
const HASH_PRIME = 2654435761;
/** The wildcard's contribution to the hash (one step for `<*>`, whatever the token was). */
const HASH_WILDCARD = 0x2a2a;

/**
 * The hash of the masked key of `text[from, to)` in one pass: each character is read once. A token's characters are
 * hashed as they come; when a digit shows up the token becomes the wildcard, and the hash goes back to where the
 * token began. Same tokens, same limits as maskLine.
 */
function hashMaskedRange(text: string, from: number, to: number): number {
  let h = HASH_SEED;
  let tokens = 0;
  let chars = 0;
  let start = -1;
  let digit = false;
  /** The hash before the token's characters (the separator included). */
  let before = 0;
  /** maskLine cuts the key at MAX_KEY_CHARS: characters of the token from here on are not part of it. */
  let limit = 0;
  for (let i = from; i <= to; i += 1) {
    const c = i < to ? text.charCodeAt(i) : 32;
    if (!isSpace(c)) {
      if (start < 0) {
        start = i;
        digit = false;
        before = tokens > 0 ? Math.imul(h ^ 32, HASH_PRIME) : h;
        h = before;
        limit = start + MAX_KEY_CHARS - chars;
      }
      if (c >= 48 && c <= 57) digit = true;
      else if (!digit && i < limit) h = Math.imul(h ^ c, HASH_PRIME);
      continue;
    }
    if (start < 0) continue;
    if (digit) {
      h = Math.imul(before ^ HASH_WILDCARD, HASH_PRIME);
      chars += WILDCARD.length + 1;
    } else chars += i - start + 1;
    start = -1;
    tokens += 1;
    if (tokens >= MAX_TOKENS || chars >= MAX_KEY_CHARS) break;
  }
  return (Math.imul(h ^ (h >>> 16), 2246822507) ^ Math.imul(h ^ (h >>> 13), 3266489909)) >>> 0;
}

/*
 * Hashes of recent message bodies. Structured logs repeat a small set of messages (the variable parts go in other
 * fields), and a Map lookup hashes and compares the body in native code, several times faster than the scan above.
 * Lines that never repeat (a timestamp in the text) would only pay for the lookup: the cache watches its hit rate
 * and steps aside for a while when it stays low. Hits return what hashMaskedRange would: the output never depends
 * on the cache.
 */
const CACHE_ENTRIES = 4096;
/** Longer bodies are hashed directly (they would make the cache big, and rarely repeat). */
const CACHE_MAX_BODY = 512;
/** Lookups per hit-rate check, hits needed among them to keep using the cache, lines hashed directly otherwise. */
const CACHE_WINDOW = 1024;
const CACHE_MIN_HITS = 256;
const CACHE_REST = 16384;
const bodyHashes = new Map<string, number>();
let cacheLookups = 0;
let cacheHits = 0;
let cacheResting = 0;

/**
 * A 32-bit hash of `maskLine(text)` (collisions among the few dozen keys of one incarnation are negligible, and merged
 * by key in step-tracker.ts) computed without building the key: the per-line lookup of step-tracker.ts, which runs on
 * every log line and must not allocate per line.
 */
export function maskHash(text: string): number {
  const [from, to] = bodyRange(text);
  if (to - from > CACHE_MAX_BODY || to - from < 8) return hashMaskedRange(text, from, to);
  if (cacheResting > 0) {
    cacheResting -= 1;
    return hashMaskedRange(text, from, to);
  }
  const body = from === 0 && to === text.length ? text : text.slice(from, to);
  cacheLookups += 1;
  if (cacheLookups === CACHE_WINDOW) {
    if (cacheHits < CACHE_MIN_HITS) cacheResting = CACHE_REST;
    cacheLookups = 0;
    cacheHits = 0;
  }
  const known = bodyHashes.get(body);
  if (known !== undefined) {
    cacheHits += 1;
    return known;
  }
  const hash = hashMaskedRange(text, from, to);
  if (bodyHashes.size >= CACHE_ENTRIES) bodyHashes.clear();
  // A copy: the body is a slice of the line, and through it of the whole chunk the line was read from.
  bodyHashes.set(` ${body}`.slice(1), hash);
  return hash;
}

/** The masked key of one log line: what is left once the variable parts are gone. */
export function maskLine(text: string): string {
  const body = bodyOf(text);
  // One pass over the characters (this runs on every log line): whitespace-separated tokens, a token with a digit
  // becomes the wildcard; stops after MAX_TOKENS tokens or MAX_KEY_CHARS characters.
  let key = '';
  let tokens = 0;
  let start = -1;
  let digit = false;
  const n = body.length;
  for (let i = 0; i <= n; i += 1) {
    const c = i < n ? body.charCodeAt(i) : 32;
    if (!isSpace(c)) {
      if (start < 0) {
        start = i;
        digit = false;
      }
      if (c >= 48 && c <= 57) digit = true;
      continue;
    }
    if (start < 0) continue;
    const token = digit ? WILDCARD : body.slice(start, i);
    key = tokens === 0 ? token : `${key} ${token}`;
    start = -1;
    tokens += 1;
    if (tokens >= MAX_TOKENS || key.length >= MAX_KEY_CHARS) break;
  }
  return key.length > MAX_KEY_CHARS ? key.slice(0, MAX_KEY_CHARS) : key;
}

export interface MinerOptions {
  /** Tokens after the token count used to descend the tree (Drain's depth minus 2). Default 1: log messages are short. */
  prefixDepth?: number;
  /** Fraction of equal tokens for a key to join a cluster. Default 0.5. */
  similarity?: number;
}

export interface MinedTemplates {
  /** The templates, `<*>` where the clustered keys differ. */
  templates: string[];
  /** For each key given, the index of its template. */
  templateOf: Map<string, number>;
}

interface Cluster {
  id: number;
  tokens: string[];
}

/** Clusters masked keys into templates (order-independent: keys are processed sorted). */
export function mineTemplates(keys: Iterable<string>, options: MinerOptions = {}): MinedTemplates {
  const depth = options.prefixDepth ?? 1;
  const threshold = options.similarity ?? 0.5;
  const sorted = [...new Set(keys)].sort();
  const tree = new Map<string, Cluster[]>();
  const clusters: Cluster[] = [];
  const clusterOfKey = new Map<string, Cluster>();
  for (const key of sorted) {
    const tokens = key === '' ? [] : key.split(' ');
    // The first tokens that are not wildcards: lines that start with a timestamp would all share one leaf otherwise.
    const path = [String(tokens.length), ...tokens.filter((t) => t !== WILDCARD).slice(0, depth)].join('\u0000');
    let leaf = tree.get(path);
    if (!leaf) {
      leaf = [];
      tree.set(path, leaf);
    }
    let best: Cluster | undefined;
    let bestScore = -1;
    // Drain's maxChild: a leaf compares with its first clusters only, so logs of free text stay linear.
    for (let c = 0; c < leaf.length && c < MAX_LEAF_CLUSTERS; c += 1) {
      const cluster = leaf[c] as Cluster;
      const score = similarity(cluster.tokens, tokens);
      if (score > bestScore) {
        best = cluster;
        bestScore = score;
      }
    }
    if (best && bestScore >= threshold) {
      best.tokens = best.tokens.map((t, i) => (t === tokens[i] ? t : WILDCARD));
      clusterOfKey.set(key, best);
    } else {
      const cluster: Cluster = { id: clusters.length, tokens: [...tokens] };
      clusters.push(cluster);
      leaf.push(cluster);
      clusterOfKey.set(key, cluster);
    }
  }
  const templateOf = new Map<string, number>();
  for (const [key, cluster] of clusterOfKey) templateOf.set(key, cluster.id);
  return { templates: clusters.map((c) => c.tokens.join(' ')), templateOf };
}

/** Drain's simSeq: equal non-wildcard tokens over the length (wildcards count as neither). */
function similarity(template: readonly string[], tokens: readonly string[]): number {
  if (template.length === 0) return 1;
  let same = 0;
  for (let i = 0; i < template.length; i += 1) {
    const t = template[i];
    if (t === WILDCARD) continue;
    if (t === tokens[i]) same += 1;
  }
  return same / template.length;
}
