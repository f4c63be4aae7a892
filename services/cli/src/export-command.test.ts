import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportScope, exportTimeline, type ExportFlags } from './export-command.js';
import { main } from './main.js';

const EXAMPLE = new URL('../../../examples/host-agent-crashloop', import.meta.url).pathname;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function stream(sink: string[], isTTY = false): NodeJS.WriteStream {
  return { write: (chunk: string) => sink.push(chunk) > 0, isTTY, columns: 100 } as unknown as NodeJS.WriteStream;
}

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'killtrace', ...args], { stdout: stream(out), stderr: stream(err) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const flags = (over: Partial<ExportFlags>): ExportFlags => ({ format: 'markdown', clusterName: 'default', ...over });

describe('killtrace export --bundle', () => {
  it('writes the Markdown postmortem of the crash loop to stdout', async () => {
    const { code, stdout } = await run('export', '--bundle', EXAMPLE, '--workload', 'onecloud/default-host');
    expect(code).toBe(0);
    expect(stdout).toContain('# Restart timeline: workload onecloud/default-host');
    expect(stdout).toContain('| Restarts | 7 |');
    expect(stdout).toContain('  failureThreshold: 60');
  });

  it('writes one restart as HTML to a file, and a pod over a time range as CSV', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'killtrace-export-'));
    dirs.push(dir);
    const file = join(dir, 'timeline.html');
    const one = await run('export', '--bundle', EXAMPLE, '--id', 'fd886e36-4a19-4d16-a666-e71cf7582046:host:6', '-f', 'html', '-o', file);
    expect(one.code).toBe(0);
    expect(one.stderr).toContain(`wrote html timeline of 1 restart(s) to ${file}`);
    const html = readFileSync(file, 'utf8');
    expect(html.match(/<svg class="kt-row-svg"/g)).toHaveLength(1);
    const csv = await run('export', '--bundle', EXAMPLE, '--pod', 'onecloud/default-host-x7k2p', '--from', '2026-10-02T06:39:00Z', '--to', '2026-10-02T06:46:00Z', '-f', 'csv');
    const restarts = new Set(csv.stdout.trim().split('\r\n').slice(1).map((l) => l.split(',')[5]));
    expect([...restarts]).toEqual(['5', '6']);
  });

  it('--workers N reads the logs in N threads and writes byte for byte the single-threaded timeline, in every format', async () => {
    // The workers run the built script (services/cli/dist/analysis-worker.js), as in test/unit/analysis-workers.test.ts.
    const now = Date.parse('2026-10-03T00:00:00Z');
    for (const format of ['markdown', 'html', 'json', 'csv'] as const) {
      const outputs: string[] = [];
      for (const workers of [1, 2, 4]) {
        const out: string[] = [];
        const err: string[] = [];
        let used = 0;
        const code = await exportTimeline(flags({ bundle: [EXAMPLE], workload: 'onecloud/default-host', format, workers }), { stdout: stream(out), stderr: stream(err) }, now, (n) => void (used = n));
        expect(code).toBe(0);
        // The example's containers have logs of at least 4 incarnations: every thread asked for reads.
        expect(used, `${format} with ${workers} workers`).toBe(workers);
        outputs.push(out.join(''));
      }
      expect(outputs[0]?.length, format).toBeGreaterThan(0);
      expect(outputs[1], `${format}, 2 workers`).toBe(outputs[0]);
      expect(outputs[2], `${format}, 4 workers`).toBe(outputs[0]);
    }
  });

  it('refuses --workers that is not a whole number from 1 to 64', async () => {
    const bad = await run('export', '--bundle', EXAMPLE, '--workload', 'onecloud/default-host', '--workers', '0');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--workers must be a whole number from 1 to 64');
  });

  it('says when nothing matches', async () => {
    const { code, stderr } = await run('export', '--bundle', EXAMPLE, '--workload', 'onecloud/other');
    expect(code).toBe(0);
    expect(stderr).toContain('no restart record matches this scope');
  });
});

describe('export scope flags', () => {
  it('needs exactly one scope, NAMESPACE/NAME and valid times', async () => {
    expect(() => exportScope(flags({}), 0)).toThrow(/exactly one of --id/);
    expect(() => exportScope(flags({ pod: 'a', workload: 'b' }), 0)).toThrow(/exactly one of/);
    expect(() => exportScope(flags({ pod: 'just-a-pod' }), 0)).toThrow(/--pod must be NAMESPACE\/NAME/);
    expect(() => exportScope(flags({ workload: 'ns/w', from: 'yesterday' }), 0)).toThrow(/--from must be an ISO-8601 time/);
    expect(() => exportScope(flags({ workload: 'ns/w', from: '2026-10-03T00:00:00Z', to: '2026-10-02T00:00:00Z' }), 0)).toThrow(/must be before/);
    expect(() => exportScope(flags({ id: 'a:b:1', since: '7d' }), 0)).toThrow(/do not apply/);
    expect(() => exportScope(flags({ workload: 'ns/w', since: 'a week' }), 0)).toThrow(/--since must be a duration/);
    expect(exportScope(flags({ workload: 'ns/w', container: 'c', since: '7d' }), Date.parse('2026-10-09T00:00:00Z'))).toEqual({
      kind: 'workload', namespace: 'ns', workload: 'w', container: 'c', from: '2026-10-02T00:00:00.000Z',
    });
    const bad = await run('export', '--bundle', EXAMPLE, '--pod', 'nope');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--pod must be NAMESPACE/NAME');
  });
});
