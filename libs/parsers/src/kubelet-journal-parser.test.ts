import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { kubeletSignalSchema } from '@killtrace/schemas';
import type { Diagnostic, KubeletSignal } from '@killtrace/schemas';
import { describe, expect, it } from 'vitest';
import { parseKlogHeader, parseKlogPairs, unquoteGo } from './klog.js';
import { KubeletJournalParser } from './kubelet-journal-parser.js';
import type { KubeletJournalParserOptions } from './kubelet-journal-parser.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/inputs/', import.meta.url));
const UID = '3c5e9a10-8d2f-4b6e-a1c7-5f0e2d9b4a68';
const POD = { namespace: 'batch', name: 'report-worker-6b7c8d9f5-q8r2t' };

function run(text: string, options: KubeletJournalParserOptions): { signals: KubeletSignal[]; diagnostics: Diagnostic[]; parser: KubeletJournalParser } {
  const parser = new KubeletJournalParser(options);
  const signals: KubeletSignal[] = [];
  text.split('\n').forEach((line, i) => signals.push(...parser.push(line, i + 1)));
  signals.push(...parser.end());
  return { signals, diagnostics: [...parser.takeDiagnostics(), ...parser.summary()], parser };
}

const at = (iso: string, micros: number): number => Date.parse(iso) + micros / 1000;

describe('KubeletJournalParser: every journalctl format', () => {
  const formats = ['kubelet-short.txt', 'kubelet-short-iso.txt', 'kubelet-short-precise.txt', 'kubelet-cat.txt', 'kubelet-json.ndjson'];
  for (const name of formats) {
    it(`${name}: recognises every action with klog-precise times`, () => {
      const { signals: all, diagnostics, parser } = run(readFileSync(`${FIXTURES}journal/${name}`, 'utf8'), { referenceYear: 2026, file: name });
      for (const s of all) expect(kubeletSignalSchema.safeParse(s).success).toBe(true);
      // "SyncLoop (probe)" probe="readiness" status="ready" (kubelet.go syncLoopIteration): pod-level, no container.
      const ready = all.filter((s) => s.action === 'probe_ready');
      expect(ready).toHaveLength(1);
      expect(ready[0]).toMatchObject({ pod: { namespace: 'batch', name: 'report-worker-6b7c8d9f5-q8r2t' }, probeType: 'readiness' });
      expect(ready[0]?.container).toBeUndefined();
      const signals = all.filter((s) => s.action !== 'probe_ready');
      expect(signals.map((s) => s.action)).toEqual([
        'probe_errored',
        'probe_failed',
        'probe_failed',
        'kill_decision',
        'killing',
        'container_died',
        'crash_loop_back_off',
        'crash_loop_back_off',
        'evicted',
        'node_shutdown',
        'oom',
      ]);
      const [errored, failed, multiline, decision, killing, died, backoffA, backoffB, evicted, shutdown, oom] = signals as KubeletSignal[] & { length: 11 };
      expect(errored).toMatchObject({ pod: { ...POD, uid: UID }, container: 'worker', probeType: 'liveness', output: 'command "/bin/check" timed out', text: 'Probe errored' });
      expect(errored?.at).toBeCloseTo(at('2026-03-14T09:26:53Z', 589793), 3);
      expect(failed).toMatchObject({ output: 'timeout: health rpc did not complete within 1s' });
      expect(multiline?.output).toBe('service unhealthy (responded with "NOT_SERVING")\nsecond line');
      expect(decision).toMatchObject({ pod: POD, container: 'worker', containerId: 'd00d', probeType: 'liveness', output: 'Container worker failed liveness probe, will be restarted' });
      expect(decision?.at).toBeCloseTo(at('2026-03-14T09:27:13Z', 590100), 3);
      expect(killing).toMatchObject({ containerId: 'd00d', gracePeriodSeconds: 45, container: 'worker' });
      expect(died).toMatchObject({ containerId: 'd00d', pod: { ...POD, uid: UID } });
      expect([backoffA?.container, backoffB?.container]).toEqual(['worker', 'sidecar']);
      expect(backoffA?.output).toContain('back-off 40s restarting failed container=worker');
      expect(evicted).toMatchObject({ pod: { namespace: 'batch', name: 'cache-0' }, output: 'reclaiming memory' });
      expect(shutdown).toMatchObject({ gracePeriodSeconds: 20 });
      expect(oom?.pod.name).toBe('cache-0');
      if (name !== 'kubelet-cat.txt') expect(errored?.host).toBe('gpu-node-7');
      expect(diagnostics.map((d) => d.code)).toEqual(['KT_INPUT_BAD_KLOG_LINE']);
      expect(parser.stats.malformed).toBe(1);
      expect(parser.stats.ignored).toBeGreaterThanOrEqual(5);
    });
  }
});

describe('KubeletJournalParser: years, time zones and damage', () => {
  const rollover = readFileSync(`${FIXTURES}bundle-rollover/kubelet-journal.txt`, 'utf8');
  it('rolls Dec 31 over to Jan 1 from a reference year (year of the first line)', () => {
    const { signals } = run(rollover, { referenceYear: 2026 });
    expect(signals[0]?.at).toBeCloseTo(Date.UTC(2026, 11, 31, 23, 58, 21, 500), 3);
    const started = signals.filter((s) => s.action === 'container_started');
    expect(started.map((s) => s.at)).toEqual([Date.UTC(2026, 11, 31, 23, 58, 21, 500), Date.UTC(2027, 0, 1, 0, 0, 32, 250)]);
    const times = signals.map((s) => s.at);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });
  it('following live (notAfter): December lines read in January stay in the old year, then roll over', () => {
    const { signals } = run(rollover, { referenceYear: 2027, notAfter: Date.UTC(2027, 0, 2, 8) });
    expect(signals[0]?.at).toBeCloseTo(Date.UTC(2026, 11, 31, 23, 58, 21, 500), 3);
    expect(signals.at(-1)?.at).toBeCloseTo(Date.UTC(2027, 0, 1, 0, 0, 32, 250), 3);
    // Read the same day: the year of the wall clock.
    expect(run(rollover, { referenceYear: 2026, notAfter: Date.UTC(2026, 11, 31, 23, 59) }).signals[0]?.at).toBeCloseTo(Date.UTC(2026, 11, 31, 23, 58, 21, 500), 3);
  });
  it('rolls over from a reference time in the new year (newest pod/event time)', () => {
    const { signals } = run(rollover, { referenceYear: 2027, referenceTime: Date.UTC(2027, 0, 1, 0, 0, 45) });
    expect(signals[0]?.at).toBeCloseTo(Date.UTC(2026, 11, 31, 23, 58, 21, 500), 3);
    expect(signals.at(-1)?.at).toBeCloseTo(Date.UTC(2027, 0, 1, 0, 0, 32, 250), 3);
    const decision = signals.find((s) => s.action === 'kill_decision');
    expect(decision).toMatchObject({ probeType: 'startup', containerId: 'aa11' });
    expect(signals.find((s) => s.action === 'probe_failed')?.output).toBe('ledger: index not loaded (shard {3} of {8}) "warming"\nretry later');
  });
  it('keeps the header microseconds when the prefix is in another time zone', () => {
    const line =
      '2026-03-14T09:27:13+0000 host kubelet[1]: I0314 11:27:13.250000    1 kubelet.go:2439] "SyncLoop (PLEG): event for pod" pod="a/b" event={"ID":"u","Type":"ContainerDied","Data":"c"}';
    const { signals } = run(line, { referenceYear: 2026 });
    expect(signals[0]?.at).toBe(Date.UTC(2026, 2, 14, 9, 27, 13, 250));
  });
  it('flushes an unterminated multi-line value when another entry starts and at the end', () => {
    const text = [
      'I0314 09:27:13.000000 1 prober.go:107] "Probe failed" probeType="Readiness" pod="a/b" containerName="c" probeResult="failure" output=<',
      '\tfirst',
      'I0314 09:27:14.000000 1 prober.go:107] "Probe failed" probeType="Startup" pod="a/b" containerName="c" probeResult="failure" output=<',
      '\tsecond',
    ].join('\n');
    const { signals, diagnostics } = run(text, { referenceYear: 2026 });
    expect(signals.map((s) => s.output)).toEqual(['first', 'second']);
    expect(diagnostics.map((d) => d.code)).toEqual(['KT_INPUT_UNTERMINATED_MULTILINE', 'KT_INPUT_UNTERMINATED_MULTILINE']);
  });
  it('counts irrelevant lines, limits diagnostics for repeated damage', () => {
    const lines = [];
    for (let i = 0; i < 1000; i++) lines.push(`Mar 14 09:27:13 host kubelet[1]: I0314 09:27:13.000000 1 server.go:1] "Some other message" i=${i}`);
    for (let i = 0; i < 100; i++) lines.push('I0314 99:99:99.000000 1 x.go:1] "broken"');
    lines.push('{"not": "a journal entry"}', '{broken json', 'Mar 99 xx', '');
    const { signals, diagnostics, parser } = run(lines.join('\n'), { referenceYear: 2026, diagnosticLimit: 5 });
    expect(signals).toEqual([]);
    expect(parser.stats.ignored).toBe(1000);
    expect(diagnostics.length).toBeLessThan(15);
    expect(diagnostics.some((d) => d.code === 'KT_INPUT_DIAGNOSTICS_SUPPRESSED')).toBe(true);
  });
});

describe('klog helpers', () => {
  it('parses the header', () => {
    expect(parseKlogHeader('E1002 06:30:45.750000    2211 prober.go:107] "x"')).toMatchObject({ severity: 'E', pid: 2211, caller: 'prober.go:107', time: { month: 10, day: 2, hour: 6, minute: 30, second: 45, fractionMs: 750 } });
    expect(parseKlogHeader('I1302 06:30:45.750000 1 a.go:1] x')).toBeUndefined();
  });
  it('unquotes Go strings', () => {
    const quoted = '"a\\"b\\\\c\\n\\t\\u00e9\\x41\\101" rest';
    expect(unquoteGo(quoted, 0)).toEqual({ value: 'a"b\\c\n\té' + 'AA', end: quoted.indexOf(' rest') });
    expect(unquoteGo('"unterminated', 0)).toBeUndefined();
    expect(unquoteGo('"bad \\q"', 0)).toBeUndefined();
  });
  it('reads quoted, bare, JSON and multi-line pairs', () => {
    expect(parseKlogPairs(' a="x y" b=3 c={"k":"}","n":[1]} d=[1,2] e="q\\"z"')).toEqual({ pairs: { a: 'x y', b: '3', c: '{"k":"}","n":[1]}', d: '[1,2]', e: 'q"z' } });
    expect(parseKlogPairs(' a="x" output=<')).toEqual({ pairs: { a: 'x' }, multilineKey: 'output' });
    expect(parseKlogPairs(' a="x').error).toBeDefined();
    expect(parseKlogPairs(' lonely').error).toBeDefined();
  });
});
