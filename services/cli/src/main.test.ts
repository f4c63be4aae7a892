import { mkdtempSync, mkdirSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { restartRecordSchema } from '@killtrace/schemas';
import { main } from './main.js';

const EXAMPLE = new URL('../../../examples/host-agent-crashloop', import.meta.url).pathname;
const MIXED = new URL('../../../examples/shop-inventory-mixed', import.meta.url).pathname;

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

function stream(sink: string[]): NodeJS.WriteStream {
  return { write: (chunk: string) => sink.push(chunk) > 0, isTTY: false, columns: 100 } as unknown as NodeJS.WriteStream;
}

async function run(...args: string[]): Promise<Captured> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'killtrace', ...args], { stdout: stream(out), stderr: stream(err) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const temp: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'killtrace-cli-'));
  temp.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temp) rmSync(dir, { recursive: true, force: true });
});

describe('killtrace analyze', () => {
  it('explains the example: liveness kills during gpu-vfio-bind, with a startupProbe recommendation', async () => {
    const { code, stdout } = await run('analyze', EXAMPLE);
    expect(code).toBe(0);
    expect(stdout).toContain('LIVENESS PROBE KILL');
    expect(stdout).toContain('step gpu-vfio-bind had been running for');
    expect(stdout).toContain('startupProbe: { periodSeconds: 5, failureThreshold: 60 }');
    expect(stdout).toContain('7 restart(s) explained: 7 liveness_probe (7 during init)');
    // Not a terminal: no colour codes.
    expect(stdout).not.toContain('\u001b[');
  });

  it('prints exactly the contract records with --output ndjson, and the read summary on stderr', async () => {
    const { code, stdout, stderr } = await run('analyze', EXAMPLE, '--output', 'ndjson', '--cluster-name', 'prod-eu');
    expect(code).toBe(0);
    const records = stdout.trim().split('\n').map((line) => restartRecordSchema.parse(JSON.parse(line)));
    expect(records).toHaveLength(7);
    expect(records.map((r) => r.killtrace.restart.count)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(new Set(records.map((r) => r.orchestrator.cluster.name))).toEqual(new Set(['prod-eu']));
    expect(records.every((r) => r.killtrace.cause === 'liveness_probe' && r.killtrace.probe_induced && r.killtrace.during_init)).toBe(true);
    expect(records[6]?.kubernetes.daemonset?.name).toBe('default-host');
    expect(stderr).toContain('Read: ');
  });

  it('gives an object with records, summary and diagnostics with --output json', async () => {
    const { code, stdout } = await run('analyze', MIXED, '-o', 'json');
    expect(code).toBe(0);
    const parsed = JSON.parse(stdout) as { records: unknown[]; summary: { records: number }; unexplained: Array<{ container: string; terminations: number; explained: number }>; diagnostics: unknown[] };
    expect(parsed.records.length).toBe(parsed.summary.records);
    // orders exited 5 times; the journal's PLEG deaths and back-off lines tie the three whose logs are gone.
    expect(parsed.unexplained).toEqual([]);
    const orders = parsed.records.map((r) => restartRecordSchema.parse(r)).filter((r) => r.kubernetes.container.name === 'orders');
    expect(orders.map((r) => r.killtrace.restart.count).sort()).toEqual([0, 1, 2, 3, 4]);
    const causes = new Set(parsed.records.map((r) => restartRecordSchema.parse(r).killtrace.cause));
    expect(causes).toContain('oom_killed');
    expect(causes).toContain('app_exit');
    expect(causes).toContain('evicted');
  });

  it('says which restarts counted by the pod status it could not explain', async () => {
    // Without the kubelet journal, nothing is left of the three older exits of orders but the restart count.
    const dir = tempDir();
    cpSync(MIXED, dir, { recursive: true, filter: (src) => !/kubelet-[^/]*\.log$/.test(src) });
    const { stdout } = await run('analyze', dir);
    expect(stdout).toContain('Not explained: 3 older restart(s)');
    expect(stdout).toContain('orders: 2 of 5 restart(s) explained');
    const example = await run('analyze', EXAMPLE);
    expect(example.stdout).not.toContain('Not explained');
  });

  it('explains the kills that events alone state (no node access), saying how many an aggregated Killing event counts', async () => {
    const dir = tempDir();
    cpSync(join(EXAMPLE, 'events.json'), join(dir, 'events.json'));
    const { code, stdout } = await run('analyze', dir, '-o', 'json');
    expect(code).toBe(0);
    const parsed = JSON.parse(stdout) as { records: unknown[]; unexplained: Array<{ container: string; terminations: number; explained: number; countedBy: string }> };
    const records = parsed.records.map((r) => restartRecordSchema.parse(r));
    expect(records.map((r) => [r.killtrace.restart.count, r.killtrace.cause, r.killtrace.confidence, r.killtrace.restart.count_source, r.killtrace.kill_event?.count])).toEqual([
      [0, 'liveness_probe', 'high', 'event_counts', 3],
      [2, 'liveness_probe', 'high', 'event_counts', 3],
    ]);
    expect(parsed.unexplained).toEqual([expect.objectContaining({ container: 'host', terminations: 3, explained: 2, countedBy: 'kill_events' })]);
    const text = await run('analyze', dir);
    expect(text.stdout).toContain('Not explained: 1 kill(s) counted by aggregated Killing events');
    expect(text.stdout).not.toContain('No container restarts found');
  });

  it('accepts explicit --events/--pods/--logs/--kubelet files', async () => {
    const { code, stdout } = await run(
      'analyze',
      '--events', join(EXAMPLE, 'events.json'),
      '--pods', join(EXAMPLE, 'pods.json'),
      '--logs', join(EXAMPLE, 'pods'),
      '--kubelet', join(EXAMPLE, 'kubelet-gpu-node-1.log'),
      '-o', 'ndjson',
    );
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(7);
  });

  it('refuses to run without input, with one clear message and exit 1', async () => {
    const { code, stderr } = await run('analyze');
    expect(code).toBe(1);
    expect(stderr).toContain('nothing to analyse');
    expect(stderr).toContain('KT_ERR_CLI_NO_INPUT');
  });

  it('names a missing path', async () => {
    const { code, stderr } = await run('analyze', '/nonexistent/bundle');
    expect(code).toBe(1);
    expect(stderr).toContain('cannot read /nonexistent/bundle: no such file or directory');
  });

  it('rejects an unknown output format through the usage error path', async () => {
    const { code, stderr } = await run('analyze', EXAMPLE, '--output', 'xml');
    expect(code).toBe(1);
    expect(stderr).toMatch(/xml/);
  });

  it('says when a directory holds nothing it can read', async () => {
    const dir = tempDir();
    const { code, stderr } = await run('analyze', dir, '-o', 'ndjson');
    expect(code).toBe(1);
    expect(stderr).toContain('no readable Kubernetes, kubelet or container log file');
  });

  it('exits 1 with the diagnostics when the only file is a truncated JSON file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'events.json'), '{"apiVersion":"v1","kind":"List","items":[{"kind":"Event","metadata":{"name":"a"');
    const { code, stdout, stderr } = await run('analyze', dir);
    expect(code).toBe(1);
    expect(stdout).toMatch(/events\.json:1: warning KT_INPUT_TRUNCATED_JSON/);
    expect(stderr).toContain('no readable evidence in the input: 1 file(s) recognised, 1 problem(s) reported');
    expect(stderr).toContain('[KT_ERR_CLI_NO_INPUT]');
    const json = await run('analyze', dir, '-o', 'json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ records: [], diagnostics: [{ code: 'KT_INPUT_TRUNCATED_JSON', line: 1 }] });
  });

  it('exits 0 for a readable input that holds no restart, and for a partly readable one, with its warnings', async () => {
    const empty = tempDir();
    writeFileSync(join(empty, 'events.json'), '{"apiVersion":"v1","kind":"List","items":[]}');
    const quiet = await run('analyze', empty);
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toContain('No container restarts found');
    const partial = tempDir();
    cpSync(join(EXAMPLE, 'pods.json'), join(partial, 'pods.json'));
    writeFileSync(join(partial, 'events.json'), '{"apiVersion":"v1","kind":"List","items":[{"kind":"Event",');
    const { code, stdout } = await run('analyze', partial);
    expect(code).toBe(0);
    expect(stdout).toMatch(/events\.json:1: warning KT_INPUT_TRUNCATED_JSON/);
    expect(stdout).toContain('1 restart record(s)');
  });

  it('reports unreadable files with file and line, and still analyses the rest', async () => {
    const dir = tempDir();
    cpSync(EXAMPLE, dir, { recursive: true });
    writeFileSync(join(dir, 'broken-events.json'), '{"apiVersion":"v1","kind":"List","items":[{"kind":"Event",');
    writeFileSync(join(dir, 'garbage.bin'), Buffer.from([0, 1, 2, 255, 254, 0, 7]));
    const { code, stdout } = await run('analyze', dir);
    expect(code).toBe(0);
    expect(stdout).toContain('7 restart(s) explained');
    expect(stdout).toMatch(/broken-events\.json(:\d+)?: (error|warning)/);
  });

  it('validates profile files and names the bad key', async () => {
    const dir = tempDir();
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'profiles:\n  - name: x\n    steps:\n      - name: s\n        start: "("\n');
    const { code, stderr } = await run('analyze', EXAMPLE, '--profile', bad);
    expect(code).toBe(1);
    expect(stderr).toContain('profiles.0.steps.0.start');
    expect(stderr).toContain('not a valid JavaScript regular expression');

    const notYaml = join(dir, 'not.yaml');
    writeFileSync(notYaml, 'profiles: [\n  {name: "a"\n');
    const second = await run('analyze', EXAMPLE, '--profile', notYaml);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('is not valid YAML or JSON');
  });

  it('lets a user profile override the built-in one of the same name', async () => {
    const dir = tempDir();
    const profile = join(dir, 'host.yaml');
    writeFileSync(
      profile,
      [
        'profiles:',
        '  - name: cloudpods-host',
        '    match: { namespace: "^onecloud$", container: "^host$" }',
        '    ready: "Start host service"',
        '    steps:',
        '      - { name: probing, start: "Start probe host info" }',
        '      - { name: passthrough, start: "to vfio-pci", end: "vfio-pci bind done" }',
      ].join('\n'),
    );
    const { code, stdout } = await run('analyze', EXAMPLE, '--profile', profile, '-o', 'ndjson');
    expect(code).toBe(0);
    const last = restartRecordSchema.parse(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}'));
    expect(last.killtrace.init.step).toBe('passthrough');
    expect(last.killtrace.init.completed_steps).toEqual(['probing']);
  });

  it('explains a pod whose logs exist without any pod object or event', async () => {
    const dir = tempDir();
    const container = join(dir, 'pods', 'team_api-5f6d7c8b9-abcde_0f0e0d0c-0b0a-0908-0706-050403020100', 'api');
    mkdirSync(container, { recursive: true });
    writeFileSync(join(container, '0.log'), '2026-10-02T06:30:00.1Z stdout F starting\n2026-10-02T06:30:05.2Z stderr F fatal: config missing\n');
    writeFileSync(join(container, '1.log'), '2026-10-02T06:30:20.1Z stdout F starting\n');
    const { code, stdout } = await run('analyze', dir, '-o', 'ndjson');
    expect(code).toBe(0);
    const [record] = stdout.trim().split('\n').map((l) => restartRecordSchema.parse(JSON.parse(l)));
    expect(record?.killtrace.restart.count).toBe(0);
    expect(record?.killtrace.cause).toBe('unknown');
    expect(record?.killtrace.confidence).toBe('low');
    expect(record?.killtrace.log.last_line).toBe('fatal: config missing');
  });
});
