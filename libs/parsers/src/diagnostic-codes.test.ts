import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { INPUT_DIAGNOSTIC_CODES } from './diagnostic-codes.js';

const SOURCES = [fileURLToPath(new URL('.', import.meta.url)), fileURLToPath(new URL('../../bundle/src/', import.meta.url))];

describe('diagnostic code catalogue', () => {
  it('has unique, well-formed, documented codes', () => {
    const codes = Object.keys(INPUT_DIAGNOSTIC_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [code, meaning] of Object.entries(INPUT_DIAGNOSTIC_CODES)) {
      expect(code).toMatch(/^KT_INPUT_[A-Z0-9_]+$/);
      expect(meaning.length).toBeGreaterThan(10);
    }
  });
  it('lists every code the sources use', () => {
    const used = new Set<string>();
    for (const dir of SOURCES) {
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
        for (const m of readFileSync(dir + file, 'utf8').matchAll(/'(KT_INPUT_[A-Z0-9_]+)'/g)) used.add(m[1] as string);
      }
    }
    for (const code of used) expect(Object.keys(INPUT_DIAGNOSTIC_CODES), code).toContain(code);
  });
});
