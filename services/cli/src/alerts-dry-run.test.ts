import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from './main.js';

const EXAMPLE = new URL('../../../examples/host-agent-crashloop', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'killtrace-cli-alerts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function stream(sink: string[]): NodeJS.WriteStream {
  return { write: (chunk: string) => sink.push(chunk) > 0, isTTY: false, columns: 100 } as unknown as NodeJS.WriteStream;
}

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'killtrace', ...args], { stdout: stream(out), stderr: stream(err) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

function rules(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('killtrace analyze --alerts', () => {
  it('replays the example through the built-in rules: which alerts fire, update and resolve, and when', async () => {
    const file = rules('empty.yaml', '');
    const { code, stdout } = await run('analyze', EXAMPLE, '--alerts', file, '--no-color');
    expect(code).toBe(0);
    const section = stdout.slice(stdout.indexOf('Alerts (dry run'));
    const lines = section.trim().split('\n');
    expect(lines[0]).toBe(`Alerts (dry run of ${file}; the clock is each kill's time):`);
    expect(lines.filter((l) => l.includes(' FIRING '))).toEqual([
      '  2026-10-02T06:30:46.169Z  FIRING   KilltraceProbeKillDuringInit [critical] onecloud/default-host container host step (unknown): 1 kill -> no receiver',
      '  2026-10-02T06:32:46.169Z  FIRING   KilltraceProbeCrashLoop [critical] onecloud/default-host container host: 3 kills -> no receiver',
      '  2026-10-02T06:39:41.169Z  FIRING   KilltraceProbeKillDuringInit [critical] onecloud/default-host container host step gpu-vfio-bind: 1 kill -> no receiver',
    ]);
    // 15 minutes (the default quiet period) after the last kill of each group.
    expect(lines.filter((l) => l.includes(' RESOLVED ')).map((l) => l.trim().split(/\s+/).slice(0, 3).join(' '))).toEqual([
      '2026-10-02T06:51:16.169Z RESOLVED KilltraceProbeKillDuringInit',
      '2026-10-02T07:00:26.169Z RESOLVED KilltraceProbeCrashLoop',
      '2026-10-02T07:00:26.169Z RESOLVED KilltraceProbeKillDuringInit',
    ]);
    expect(lines.at(-1)).toBe('  3 alerts would have fired (15 notifications).');
  });

  it('routes to the file\'s receivers, applies its overrides, and gives the events in --output json', async () => {
    const file = rules(
      'routed.yaml',
      [
        'receivers:',
        '  - { name: am, type: alertmanager, url: "http://127.0.0.1:19093" }',
        '  - { name: chat, type: slack, urlEnv: SLACK_URL }',
        'builtinRules: false',
        'rules:',
        '  - { name: gpu-bind, severity: warning, match: { step: "^gpu-" }, receivers: [chat, am], resolveAfterSeconds: 60 }',
      ].join('\n'),
    );
    const { code, stdout } = await run('analyze', EXAMPLE, '--alerts', file, '-o', 'json');
    expect(code).toBe(0);
    const parsed = JSON.parse(stdout) as { alerts: Array<{ at: string; kind: string; receivers: string[]; alert: { alertname: string; count: number } }> };
    expect(parsed.alerts.map((e) => [e.at, e.kind, e.alert.alertname, e.alert.count, e.receivers])).toEqual([
      ['2026-10-02T06:39:41.169Z', 'firing', 'KilltraceGpuBind', 1, ['chat', 'am']],
      ['2026-10-02T06:40:41.169Z', 'resolved', 'KilltraceGpuBind', 1, ['chat', 'am']],
      ['2026-10-02T06:45:26.169Z', 'firing', 'KilltraceGpuBind', 1, ['chat', 'am']],
      ['2026-10-02T06:46:26.169Z', 'resolved', 'KilltraceGpuBind', 1, ['chat', 'am']],
    ]);
  });

  it('a bad rules file is refused before the bundle is read, naming the rule and field', async () => {
    const file = rules('bad.yaml', 'rules:\n  - name: x\n    severity: loud\n');
    const { code, stderr } = await run('analyze', EXAMPLE, '--alerts', file);
    expect(code).toBe(1);
    expect(stderr).toContain(`killtrace: rules file ${file} is invalid:\n  - rule "x" field severity (line 3)`);
    expect(stderr).toContain('[KT_ERR_CLI_ALERTS_INVALID]');
  });
});
