import { describe, expect, it } from 'vitest';
import { maskHash, maskLine } from './template-miner.js';
import { rng } from '../../../test/scenarios/format.js';

/*
 * The oracle: maskHash as it was before the one-pass scanner and the body cache (two passes per token, a
 * character loop for the JSON message's closing quote). Kept here only, to pin that the product's hash did not
 * change: the hashes are stored in correlator snapshots (StepTrackerState.seen), and the analyser's output must stay
 * byte-identical.
 */
const WILDCARD = '<*>';
const MAX_TOKENS = 24;
const MAX_KEY_CHARS = 240;

function oracleMessageRange(text: string, field: string): [number, number] | undefined {
  const at = text.indexOf(field);
  if (at < 0) return undefined;
  let i = at + field.length;
  while (i < text.length && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 58)) i += 1;
  if (text.charCodeAt(i) !== 34) return undefined;
  const start = i + 1;
  for (let j = start; j < text.length; j += 1) {
    const c = text.charCodeAt(j);
    if (c === 92) j += 1;
    else if (c === 34) return [start, j];
  }
  return undefined;
}

function oracleBodyRange(text: string): [number, number] {
  if (text.charCodeAt(0) !== 123) return [0, text.length];
  return oracleMessageRange(text, '"msg"') ?? oracleMessageRange(text, '"message"') ?? [0, text.length];
}

const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);

function oracleMaskHash(text: string): number {
  const [from, to] = oracleBodyRange(text);
  let h1 = 0xdeadbeef;
  let tokens = 0;
  let chars = 0;
  let start = -1;
  let digit = false;
  for (let i = from; i <= to; i += 1) {
    const c = i < to ? text.charCodeAt(i) : 32;
    if (!isSpace(c)) {
      if (start < 0) {
        start = i;
        digit = false;
      }
      if (c >= 48 && c <= 57) digit = true;
      continue;
    }
    if (start < 0) continue;
    if (tokens > 0) h1 = Math.imul(h1 ^ 32, 2654435761);
    if (digit) {
      h1 = Math.imul(h1 ^ 0x2a2a, 2654435761);
      chars += WILDCARD.length + 1;
    } else {
      const end = Math.min(i, start + MAX_KEY_CHARS - chars);
      for (let j = start; j < end; j += 1) h1 = Math.imul(h1 ^ text.charCodeAt(j), 2654435761);
      chars += i - start + 1;
    }
    start = -1;
    tokens += 1;
    if (tokens >= MAX_TOKENS || chars >= MAX_KEY_CHARS) break;
  }
  return (Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)) >>> 0;
}


/** Pieces that hit the scanner's edges: every whitespace kind, digits, quotes, escapes, JSON fields, non-ASCII. */
const PIECES = [' ', '  ', '\t', '\r', '\n', '\v', '\f', 'a', 'cache', 'miss', '0', '7', 'x9', '10.0.0.5:5432', '0xdeadbeef', '"', '\\', '\\"', '\\\\', '{', '}', ':', ',', '"msg"', '"message"', '"msg":"', '"message": "', 'é', '日本', '\u00a0', '\u2028', '😀', '<*>', 'id=3f2a9c'];

function randomLine(random: () => number): string {
  const shape = random();
  const parts: string[] = [];
  const count = Math.floor(random() * random() * 120);
  for (let i = 0; i < count; i += 1) {
    if (random() < 0.03) parts.push('w'.repeat(Math.floor(random() * 300)));
    else parts.push(PIECES[Math.floor(random() * PIECES.length)] as string);
  }
  const body = parts.join(random() < 0.5 ? ' ' : '');
  if (shape < 0.3) return `{"level":"info","msg":"${body}","n":1}`;
  if (shape < 0.4) return `{"ts":"2026-10-02T06:30:00Z","message": "${body}"}`;
  if (shape < 0.5) return `{${body}`;
  return body;
}

describe('maskHash', () => {
  it('gives the old hash on pinned lines (limits, escapes, JSON fields, whitespace kinds)', () => {
    const long = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? `tok${i}` : `word${'x'.repeat(i)}`.replace(/\d/g, ''))).join(' ');
    const cases = [
      '',
      ' ',
      'a',
      'I1002 06:30:05.900123 4242 isolated_device.go:233] bind 0000:3b:00.0 (10de:1db6) to vfio-pci',
      '{"level":"info","ts":"2026-10-02T06:30:00Z","msg":"building search index","docs":2400000}',
      '{"level":"info","message":"loading \\"model\\" weights\\\\","n":2}',
      '{"msg":"unterminated \\" quote',
      '{"msg":"a \\\\\\" b" , "c":"d"}',
      '{"msg" : "spaced colon"}',
      '{"msg":42,"message":"the other field"}',
      '{"msg":"","message":"empty msg first"}',
      'connected to 10.0.0.5:5432 as user app id=3f2a9c',
      'tabs\tand\rcarriage\vvertical\fform\nnewline',
      `${'y'.repeat(300)} after a long first token`,
      `${'z'.repeat(230)} cut inside the second token abcdefghijklmnop`,
      long,
      Array.from({ length: 30 }, (_, i) => `t${i}`).join(' '),
      'naïve café 日本語 😀 9lives',
      '   leading and trailing   ',
    ];
    for (const text of cases) {
      expect(maskHash(text), JSON.stringify(text)).toBe(oracleMaskHash(text));
      // The second call is served by the body cache.
      expect(maskHash(text), `${JSON.stringify(text)} again`).toBe(oracleMaskHash(text));
    }
  });

  it('gives the old hash on 30,000 random lines, read once and then again (cache misses, hits and its rest)', () => {
    const random = rng(14);
    const lines = Array.from({ length: 30_000 }, () => randomLine(random));
    let cached = 0;
    for (const pass of [0, 1]) {
      for (const text of lines) {
        const expected = oracleMaskHash(text);
        const got = maskHash(text);
        if (got !== expected) expect({ pass, text, got }).toEqual({ pass, text, got: expected });
        cached += 1;
      }
    }
    // Repeats of a few bodies (the cache's hit path) after the unique lines (which make the cache step aside).
    const few = lines.slice(0, 50);
    for (let i = 0; i < 20_000; i += 1) {
      const text = few[i % few.length] as string;
      const expected = oracleMaskHash(text);
      const got = maskHash(text);
      if (got !== expected) expect({ i, text, got }).toEqual({ i, text, got: expected });
      cached += 1;
    }
    expect(cached).toBe(80_000);
  });

  it('is the same for lines with the same masked key, and a slice of a larger string hashes like its copy', () => {
    const random = rng(7);
    for (let i = 0; i < 2_000; i += 1) {
      const text = randomLine(random);
      const chunk = `prefix ${text} suffix`;
      const slice = chunk.slice(7, 7 + text.length);
      expect(maskHash(slice)).toBe(maskHash(text));
      const renumbered = text.replace(/\d/g, (d) => String((Number(d) + 1) % 10));
      if (maskLine(renumbered) === maskLine(text)) expect(maskHash(renumbered)).toBe(maskHash(text));
    }
  });
});
