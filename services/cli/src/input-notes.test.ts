import { describe, expect, it } from 'vitest';
import { restartRecordSchema, type RestartRecord } from '@killtrace/schemas';
import { main } from './main.js';

const EXAMPLE = new URL('../../../examples/host-agent-crashloop', import.meta.url).pathname;
// The example's pod default-host-x7k2p, spoiled the ways real bundles are: its Scheduled event dated five years
// ahead, its Killing event's lastTimestamp too, its kubelet journal printed in local time (UTC+2), a CRI line dated
// 1970 and two lines swapped in 6.log; and pod default-host-m9qzt's running container started in 2031
// (test/fixtures/inputs/bad-timestamps).
const SPOILED = new URL('../../../test/fixtures/inputs/bad-timestamps', import.meta.url).pathname;

function stream(sink: string[]): NodeJS.WriteStream {
  return { write: (chunk: string) => sink.push(chunk) > 0, isTTY: false, columns: 100 } as unknown as NodeJS.WriteStream;
}

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'killtrace', ...args], { stdout: stream(out), stderr: stream(err) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const facts = (records: RestartRecord[]): unknown[] =>
  records
    .filter((r) => r.kubernetes.pod.name === 'default-host-x7k2p')
    .map((r) => [r.killtrace.restart.count, r.killtrace.cause, r.killtrace.confidence, r.killtrace.killed_at, r.killtrace.uptime_seconds, r.killtrace.init.step, r.killtrace.during_init]);

describe('one bad timestamp does not corrupt other records', () => {
  it('gives the spoiled bundle the records of the clean one', async () => {
    const clean = await run('analyze', EXAMPLE, '-o', 'ndjson');
    const spoiled = await run('analyze', SPOILED, '-o', 'ndjson');
    const parse = (text: string): RestartRecord[] => text.trim().split('\n').map((l) => restartRecordSchema.parse(JSON.parse(l)));
    const expected = facts(parse(clean.stdout));
    expect(expected).toHaveLength(7);
    expect(facts(parse(spoiled.stdout))).toEqual(expected);
  });

  it('says what it bounded, moved and dropped, with counts, in a "Notes about the input" section of the text output', async () => {
    const { code, stdout } = await run('analyze', SPOILED);
    expect(code).toBe(0);
    const notes = stdout.slice(stdout.indexOf('Notes about the input:'));
    expect(notes).toContain('1 event(s) had a timestamp far outside the time the rest of the input covers: their other timestamp was used');
    expect(notes).toContain('1 event(s) were dated far outside the time the rest of the input covers (2026-10-02 .. 2026-10-02) and were left out');
    expect(notes).toContain("the kubelet journal's times are +2 h off the events' at 1 kill(s) recorded by both");
    expect(notes).toContain('its times were moved by -2 h');
    expect(notes).toContain('1 container log line(s) were dated far outside');
    expect(notes).toContain('1 container status time(s) were dated after everything else in the input (or zero) and were left out');
    expect(notes).toContain('1 container log line(s) were dated before the line above them: they were kept in file order');
    expect(notes).toContain('year-less journal timestamps were placed in the year nearest to the newest pod/event time (2026-10-02T06:45:26.000Z)');
  });

  it('uses --year only when asked, and says so; --output json carries the notes too', async () => {
    const { stdout } = await run('analyze', SPOILED, '--year', '2026', '-o', 'json');
    const parsed = JSON.parse(stdout) as { notes: Array<{ code: string; count: number; text: string }> };
    expect(parsed.notes).toEqual(expect.arrayContaining([{ code: 'year', count: 1, text: 'year-less journal timestamps were placed in 2026, as --year says' }]));
    expect(parsed.notes.map((n) => [n.code, n.count])).toEqual(
      expect.arrayContaining([
        ['event_time_outlier', 1],
        ['event_dropped', 1],
        ['pod_time_dropped', 1],
        ['journal_timezone', 1],
        ['cri_time_outlier', 1],
        ['cri_out_of_order', 1],
      ]),
    );
    const clean = await run('analyze', EXAMPLE);
    expect(clean.stdout).not.toContain('far outside');
    expect(clean.stdout).not.toContain("off the events'");
  });
});
