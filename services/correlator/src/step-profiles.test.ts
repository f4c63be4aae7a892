import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@killtrace/config';
import { createLogger } from '@killtrace/logging';
import { CorrelatorError } from './errors.js';
import { startCorrelator } from './main.js';
import { loadStepProfiles } from './step-profiles.js';

const dir = mkdtempSync(join(tmpdir(), 'kt-correlator-profiles-'));
const logger = createLogger({ name: 'test', level: 'silent', format: 'json' });

describe('correlation.profiles', () => {
  it('are read from configuration (comma-separated in the environment), then the built-ins they do not override', async () => {
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.json');
    writeFileSync(a, 'profiles:\n  - name: cloudpods-host\n    steps: [{ name: mine, start: "x" }]\n');
    writeFileSync(b, '{"profiles": [{"name": "api", "match": {"container": "^api$"}, "ready": "listening"}]}');
    const config = loadConfig({ env: { KILLTRACE_CLUSTER_NAME: 't', KILLTRACE_CORRELATION_PROFILES: `${a}, ${b}` } });
    expect(config.correlation.profiles).toEqual([a, b]);
    const profiles = await loadStepProfiles(config.correlation.profiles);
    expect(profiles.map((p) => p.name)).toEqual(['cloudpods-host', 'api']);
    expect(profiles[0]?.steps.map((s) => s.name)).toEqual(['mine']);
    expect((await loadStepProfiles([])).map((p) => p.name)).toEqual(['cloudpods-host']);
  });

  it('stop the correlator at start, before it connects anywhere, with the file, line and key of the fault', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'profiles:\n  - name: a\n    ready: "(oops"\n');
    // No broker listens on port 1: reaching Kafka would fail differently (and slowly).
    const config = loadConfig({ env: { KILLTRACE_CLUSTER_NAME: 't', KAFKA_BROKERS: '127.0.0.1:1', KILLTRACE_CORRELATION_PROFILES: bad } });
    const error = await startCorrelator(config, logger).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CorrelatorError);
    expect((error as CorrelatorError).code).toBe('KT_ERR_CORRELATOR_PROFILE_INVALID');
    expect((error as CorrelatorError).exitCode).toBe(2);
    expect((error as Error).message).toContain(`${bad}:3 profiles.0.ready: not a valid JavaScript regular expression`);
    await expect(loadStepProfiles([join(dir, 'missing.yaml')])).rejects.toThrow(`correlation.profiles: cannot read profile file ${join(dir, 'missing.yaml')}: no such file`);
  });
});
