import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinProfileDir, builtinProfiles, findUnsafePatterns, loadProfileFile, mergeProfiles, parseProfileFile, ProfileError, resolveProfiles } from './index.js';

function thrown(run: () => unknown): ProfileError {
  try {
    run();
  } catch (error) {
    if (error instanceof ProfileError) return error;
    throw error;
  }
  throw new Error('expected a ProfileError');
}

describe('built-in profiles', () => {
  it('ship as YAML data files in the package and load through the same validation as a user file', () => {
    const profiles = builtinProfiles();
    const host = profiles.find((p) => p.name === 'cloudpods-host');
    expect(builtinProfileDir.endsWith('/libs/profiles/builtin/')).toBe(true);
    expect(host?.match).toEqual({ namespace: '^onecloud$', pod: '^default-host-', container: '^host$' });
    expect(host?.steps.map((s) => s.name)).toEqual(['host-info', 'gpu-vfio-bind', 'storage-init']);
    expect(host?.steps[1]?.end).toBe('vfio-pci bind done');
  });

  it('have no pattern that can backtrack catastrophically (checked here, not on every start: builtin-profiles.ts)', () => {
    expect(builtinProfiles().length).toBeGreaterThan(0);
    expect(findUnsafePatterns(builtinProfiles())).toEqual([]);
  });

  it('are overridden by a user profile of the same name, which comes first', () => {
    const user = parseProfileFile('profiles:\n  - name: cloudpods-host\n    steps: [{ name: mine, start: x }]\n  - name: extra\n', 'u.yaml');
    const merged = mergeProfiles(user);
    expect(merged.map((p) => p.name)).toEqual(['cloudpods-host', 'extra', ...builtinProfiles().filter((p) => p.name !== 'cloudpods-host').map((p) => p.name)]);
    expect(merged[0]?.steps.map((s) => s.name)).toEqual(['mine']);
  });
});

describe('profile files', () => {
  it('names the file, the line and the key of an invalid regular expression', () => {
    const text = ['profiles:', '  - name: a', '    steps:', '      - name: s1', '        start: "ok"', '      - name: s2', '        start: "(unclosed"'].join('\n');
    const error = thrown(() => parseProfileFile(text, '/etc/kt/a.yaml'));
    expect(error.code).toBe('KT_ERR_PROFILE_INVALID');
    expect(error.file).toBe('/etc/kt/a.yaml');
    expect(error.key).toBe('profiles.0.steps.1.start');
    expect(error.line).toBe(7);
    expect(error.message).toContain('/etc/kt/a.yaml:7 profiles.0.steps.1.start: not a valid JavaScript regular expression');
  });

  it('reports an unknown match key and a missing name at the line of their parent', () => {
    const text = ['profiles:', '  - name: a', '    match: { namespce: "^x$" }', '  - steps: []'].join('\n');
    const error = thrown(() => parseProfileFile(text, 'b.yaml'));
    expect(error.message).toContain('b.yaml:3 profiles.0.match');
    expect(error.message).toContain('namespce');
    expect(error.message).toContain('b.yaml:4 profiles.1.name');
  });

  it('refuses a profile name used twice in one file, naming both keys', () => {
    const error = thrown(() => parseProfileFile('profiles:\n  - name: a\n  - name: a\n', 'c.yaml'));
    expect(error.message).toBe('profile file c.yaml:3 profiles.1.name: profile name "a" is used twice (also profiles.0.name)');
  });

  it('names the line of a YAML syntax error, and accepts JSON', () => {
    const error = thrown(() => parseProfileFile('profiles: [\n  {name: "a"\n', 'd.yaml'));
    expect(error.message).toMatch(/^profile file d\.yaml:\d+ is not valid YAML or JSON: /);
    expect(parseProfileFile('{"profiles": [{"name": "j", "ready": "up"}]}', 'e.json')[0]?.ready).toBe('up');
  });

  it('says a missing file is missing, and resolves files in order before the built-ins', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-profiles-'));
    await expect(loadProfileFile(join(dir, 'none.yaml'))).rejects.toMatchObject({ code: 'KT_ERR_PROFILE_UNREADABLE', message: `cannot read profile file ${join(dir, 'none.yaml')}: no such file` });
    writeFileSync(join(dir, '1.yaml'), 'profiles:\n  - name: one\n');
    writeFileSync(join(dir, '2.yaml'), 'profiles:\n  - name: two\n');
    const names = (await resolveProfiles([join(dir, '2.yaml'), join(dir, '1.yaml')])).map((p) => p.name);
    expect(names).toEqual(['two', 'one', ...builtinProfiles().map((p) => p.name)]);
  });
});
