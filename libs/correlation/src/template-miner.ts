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
const JSON_MESSAGE = /"(?:msg|message)"\s*:\s*"((?:[^"\\]|\\.)*)"/;
const HAS_DIGIT = /\d/;

/** The masked key of one log line: what is left once the variable parts are gone. */
export function maskLine(text: string): string {
  let body = text;
  if (body.charCodeAt(0) === 123 /* { */) {
    const m = JSON_MESSAGE.exec(body.length > 4096 ? body.slice(0, 4096) : body);
    if (m?.[1] !== undefined) body = m[1];
  }
  if (body.length > 1024) body = body.slice(0, 1024);
  const tokens = body.split(/\s+/);
  const out: string[] = [];
  for (const token of tokens) {
    if (token === '') continue;
    out.push(HAS_DIGIT.test(token) ? WILDCARD : token);
    if (out.length >= MAX_TOKENS) break;
  }
  const key = out.join(' ');
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
    const path = [String(tokens.length), ...tokens.slice(0, depth).map((t) => (t === WILDCARD ? WILDCARD : t))].join('\u0000');
    let leaf = tree.get(path);
    if (!leaf) {
      leaf = [];
      tree.set(path, leaf);
    }
    let best: Cluster | undefined;
    let bestScore = -1;
    for (const cluster of leaf) {
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
