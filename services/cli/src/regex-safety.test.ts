import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinProfiles } from '@killtrace/correlation';
import { stepProfileSchema } from '@killtrace/schemas';
import { main } from './main.js';
import { findUnsafePatterns } from './regex-safety.js';

const EXAMPLE = new URL('../../../examples/host-agent-crashloop', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'killtrace-regex-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function stream(sink: string[]): NodeJS.WriteStream {
  return { write: (chunk: string) => sink.push(chunk) > 0, isTTY: false, columns: 100 } as unknown as NodeJS.WriteStream;
}

describe('profile regexes cannot hang the analysis', () => {
  it('finds exponential and high-degree patterns, naming profile and step, and accepts the built-in quadratic `.*`', () => {
    const profile = stepProfileSchema.parse({
      name: 'api',
      match: { pod: '^(a|aa)+$' },
      ready: 'listening on :\\d+',
      steps: [
        { name: 'migrate', start: 'migrating (\\w+\\s?)+$' },
        { name: 'warm', start: 'warm', end: '(.*a){3}.*done' },
      ],
    });
    const unsafe = findUnsafePatterns([profile]);
    expect(unsafe.map((u) => [u.profile, u.where, u.complexity])).toEqual([
      ['api', 'match.pod', 'exponential'],
      ['api', 'steps[0] (migrate).start', 'exponential'],
      ['api', 'steps[1] (warm).end', '5th degree polynomial'],
    ]);
    expect(findUnsafePatterns(builtinProfiles)).toEqual([]);
  });

  it('rejects such a profile file at load with exit 1, before reading the bundle', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'profiles:\n  - name: api\n    match: { pod: "^api-" }\n    steps:\n      - name: migrate\n        start: "migrating (\\\\w+\\\\s?)+$"\n');
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['node', 'killtrace', 'analyze', EXAMPLE, '--profile', file], { stdout: stream(out), stderr: stream(err) });
    expect(code).toBe(1);
    expect(out.join('')).toBe('');
    expect(err.join('')).toContain('profile "api", steps[0] (migrate).start: /migrating (\\w+\\s?)+$/ can take exponential time');
    expect(err.join('')).toContain('[KT_ERR_CLI_PROFILE_UNSAFE_REGEX]');
  });
});
