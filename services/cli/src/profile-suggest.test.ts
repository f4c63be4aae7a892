import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from './main.js';
import { loadProfileFile } from './profile-loader.js';
import { runAnalysis } from './run-analysis.js';
import { templateRegex } from './profile-suggest.js';

const EXAMPLE = new URL('../../../examples/host-agent-crashloop', import.meta.url).pathname;

function stream(sink: string[]): NodeJS.WriteStream {
  return { write: (chunk: string) => sink.push(chunk) > 0, isTTY: false, columns: 100 } as unknown as NodeJS.WriteStream;
}

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'killtrace', ...args], { stdout: stream(out), stderr: stream(err) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const temp: string[] = [];
afterAll(() => {
  for (const dir of temp) rmSync(dir, { recursive: true, force: true });
});

describe('killtrace profile suggest', () => {
  it('writes a profile that --profile loads and that names the step the learned sequence named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'killtrace-suggest-'));
    temp.push(dir);
    const file = join(dir, 'profile.yaml');
    const { code, stderr } = await run('profile', 'suggest', EXAMPLE, '--workload', 'default-host', '-o', file);
    expect(code).toBe(0);
    expect(stderr).toContain('wrote 1 suggested profile(s)');
    const profiles = await loadProfileFile(file);
    expect(profiles).toHaveLength(1);
    expect(profiles[0]?.match).toEqual({ namespace: '^onecloud$', pod: '^default-host-', container: '^host$' });
    const bind = profiles[0]?.steps.find((s) => new RegExp(s.start).test('bind 0000:3b:00.0 (10de:1db6) to vfio-pci'));
    expect(bind?.name).toBe('bind-to-vfiopci');
    // Heartbeats after ready are not init: no step for them.
    expect(profiles[0]?.steps.some((s) => /sync/.test(s.start))).toBe(false);
    // The line that ends init in the incarnations that reached ready (the built-in profile's ready line too).
    expect(new RegExp(profiles[0]?.ready ?? '^$').test('[I 261002 06:30:12 host_services.go:152] Start host service on :8885')).toBe(true);
    expect(new RegExp(profiles[0]?.ready ?? '^$').test('[I 261002 06:30:42 host_health.go:88] sync host status to region ok (seq 1)')).toBe(false);

    const result = await runAnalysis({ dir: EXAMPLE, clusterName: 'test', profiles, builtinProfiles: false });
    const killed = result.records.filter((r) => r.kubernetes.pod.name === 'default-host-x7k2p' && r.killtrace.restart.count >= 5);
    expect(killed.map((r) => [r.killtrace.init.profile, r.killtrace.init.step_source, r.killtrace.init.step])).toEqual([
      ['onecloud-default-host-host', 'profile', 'bind-to-vfiopci'],
      ['onecloud-default-host-host', 'profile', 'bind-to-vfiopci'],
    ]);
  });

  it('names the workloads it learned when the one asked for is unknown', async () => {
    const { code, stderr } = await run('profile', 'suggest', EXAMPLE, '--workload', 'no-such-app');
    expect(code).toBe(1);
    expect(stderr).toContain('no learned init sequence for workload "no-such-app"; learned: onecloud/default-host/host');
    expect(stderr).toContain('KT_ERR_CLI_BAD_OPTION');
  });

  it('analyze --no-builtin-profiles names the learned step; --no-learn names none', async () => {
    const learned = await run('analyze', EXAMPLE, '--no-builtin-profiles', '-o', 'ndjson');
    const records = learned.stdout.trim().split('\n').map((l) => JSON.parse(l) as { killtrace: { restart: { count: number }; init: { step: string | null; step_source?: string | null } } });
    expect(records.filter((r) => r.killtrace.init.step_source === 'learned').map((r) => [r.killtrace.restart.count, r.killtrace.init.step])).toEqual([
      [5, 'bind <*> <*> to vfio-pci'],
      [6, 'bind <*> <*> to vfio-pci'],
    ]);
    const off = await run('analyze', EXAMPLE, '--no-builtin-profiles', '--no-learn', '-o', 'ndjson');
    expect(off.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { killtrace: { init: { step: string | null } } }).killtrace.init.step)).toEqual(Array(7).fill(null));
  });

  it('turns a template into a pattern where <*> is one token', () => {
    expect(templateRegex('[I <*> <*> <*> bind <*> <*> to vfio-pci')).toBe('bind\\s+\\S+\\s+\\S+\\s+to\\s+vfio-pci');
    expect(new RegExp(templateRegex('loading (cache) <*> items')).test('loading (cache) 42 items')).toBe(true);
  });
});
