import type { YearlessTime } from './k8s-time.js';

/** The klog header `Lmmdd hh:mm:ss.uuuuuu <pid> <file>:<line>] ` (no year). */
export interface KlogHeader {
  severity: 'I' | 'W' | 'E' | 'F';
  time: YearlessTime;
  pid: number;
  /** `prober.go:107`. */
  caller: string;
  /** Index in the text where the message (after `] `) starts. */
  bodyStart: number;
}

const HEADER = /^([IWEF])(\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6}) +(\d+) ([^\s\]]+:\d+)\] ?/;

/** True when the text starts like a klog line (cheap check before parseKlogHeader). */
export function looksLikeKlog(text: string): boolean {
  const c = text.charCodeAt(0);
  if (c !== 73 && c !== 87 && c !== 69 && c !== 70) return false; // I W E F
  const d = text.charCodeAt(1);
  return d >= 48 && d <= 57 && text.charCodeAt(5) === 32;
}

/** Parses a klog header; undefined when the text is not a klog line. */
export function parseKlogHeader(text: string): KlogHeader | undefined {
  const m = HEADER.exec(text);
  if (!m) return undefined;
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  return {
    severity: m[1] as KlogHeader['severity'],
    time: { month, day, hour, minute, second, fractionMs: Number(m[7]) / 1000 },
    pid: Number(m[8]),
    caller: m[9] as string,
    bodyStart: m[0].length,
  };
}

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', '"': '"', "'": "'" };

/**
 * Reads a Go `strconv.Quote`d string starting at `start` (which must be `"`). Returns the value and the index after
 * the closing quote, or undefined when unterminated or badly escaped.
 */
export function unquoteGo(text: string, start: number): { value: string; end: number } | undefined {
  if (text.charCodeAt(start) !== 34) return undefined;
  let i = start + 1;
  let chunkStart = i;
  let out = '';
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 34) return { value: out + text.slice(chunkStart, i), end: i + 1 };
    if (c !== 92) {
      i++;
      continue;
    }
    out += text.slice(chunkStart, i);
    const e = text[i + 1];
    if (e === undefined) return undefined;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
      i += 2;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = text.slice(i + 2, i + 2 + len);
      if (hex.length !== len || !/^[0-9a-fA-F]+$/.test(hex)) return undefined;
      const code = parseInt(hex, 16);
      // \xNN is one byte of (possibly invalid) UTF-8; kept as the code point of the byte, which is what readers expect.
      out += code <= 0x10ffff ? String.fromCodePoint(code) : '\ufffd';
      i += 2 + len;
    } else if (e >= '0' && e <= '7') {
      const oct = text.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(oct)) return undefined;
      out += String.fromCharCode(parseInt(oct, 8));
      i += 4;
    } else {
      return undefined;
    }
    chunkStart = i;
  }
  return undefined;
}

/** Result of reading klog `key=value` pairs. */
export interface KlogPairs {
  pairs: Record<string, string>;
  /** The text ended with `key=<`: a multi-line value follows on the next lines (tab-prefixed, closed by ` >`). */
  multilineKey?: string;
  /** Set when the pairs could not be read to the end; the pairs before the problem are kept. */
  error?: string;
}

/** Skips a balanced `{...}` / `[...]` (JSON strings respected) from `start`; returns the index after it. */
function skipBalanced(text: string, start: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return undefined;
}

/**
 * Reads klog structured pairs: `key="Go-quoted"`, `key=bare`, `key={json}` / `key=[...]` (raw text kept), and a
 * trailing `key=<` announcing a multi-line value. Later duplicates win. Never throws.
 */
export function parseKlogPairs(text: string, start = 0): KlogPairs {
  const pairs: Record<string, string> = {};
  let i = start;
  const n = text.length;
  while (i < n) {
    while (i < n && text.charCodeAt(i) === 32) i++;
    if (i >= n) break;
    const eq = text.indexOf('=', i);
    if (eq < 0) return { pairs, error: `text without key=value at column ${i}` };
    const key = text.slice(i, eq);
    if (key.length === 0 || key.includes(' ') || key.includes('"')) return { pairs, error: `bad key at column ${i}` };
    const v = eq + 1;
    const c = text.charCodeAt(v);
    if (c === 34) {
      const q = unquoteGo(text, v);
      if (!q) return { pairs, error: `unterminated or badly escaped value of ${key}` };
      pairs[key] = q.value;
      i = q.end;
    } else if (c === 123 || c === 91) {
      const end = skipBalanced(text, v);
      if (end === undefined) return { pairs, error: `unbalanced value of ${key}` };
      pairs[key] = text.slice(v, end);
      i = end;
    } else if (c === 60 && (v + 1 === n || text.slice(v + 1).trim() === '')) {
      return { pairs, multilineKey: key };
    } else {
      let end = text.indexOf(' ', v);
      if (end < 0) end = n;
      pairs[key] = text.slice(v, end);
      i = end;
    }
    if (i < n && text.charCodeAt(i) !== 32) return { pairs, error: `no space after the value of ${key}` };
  }
  return { pairs };
}
