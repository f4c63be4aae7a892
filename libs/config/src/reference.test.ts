import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listSettings, renderConfigReference, replaceConfigReference } from './index.js';

describe('configuration reference', () => {
  it('documents every setting with its environment variable', () => {
    const reference = renderConfigReference();
    for (const setting of listSettings()) {
      expect(reference).toContain(`\`${setting.key}\``);
      expect(reference).toContain(`\`${setting.env}\``);
    }
    expect(new Set(listSettings().map((s) => s.env)).size).toBe(listSettings().length);
  });

  it('is up to date in README.md (run `npm run docs:config` to fix)', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
    expect(replaceConfigReference(readme, renderConfigReference())).toBe(readme);
  });

  it('refuses a document without markers', () => {
    expect(() => replaceConfigReference('# no markers', 'x')).toThrow(/KT_ERR_CONFIG_REFERENCE_MARKERS/);
  });
});
