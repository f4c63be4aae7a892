import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { recordFieldPaths, renderRecordReference } from './record-reference.js';

describe('restart record reference', () => {
  it('documents every field of the schema with its type', () => {
    const reference = renderRecordReference();
    const paths = recordFieldPaths();
    expect(paths).toContain('killtrace.restart.count');
    expect(paths).toContain('killtrace.timeline[].source');
    for (const path of paths) expect(reference).toContain(`| \`${path}\` |`);
    expect(reference).toContain('| `killtrace.cause` | `liveness_probe`, `startup_probe`');
    expect(reference).toContain('| `kubernetes.daemonset` | object (*optional*) |');
    expect(reference).toContain('| `killtrace.finished_at` | date (ISO 8601, ms) or null |');
  });

  it('is up to date in docs/record.md (run `npm run docs:record` to fix)', () => {
    const file = readFileSync(fileURLToPath(new URL('../../../docs/record.md', import.meta.url)), 'utf8');
    expect(file).toBe(renderRecordReference());
  });
});
