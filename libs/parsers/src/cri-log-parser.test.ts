import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { appLogSignalSchema } from '@killtrace/schemas';
import type { AppLogSignal } from '@killtrace/schemas';
import { describe, expect, it } from 'vitest';
import { CriLineJoiner, CriLogParser, parseCriLine, truncationMarker } from './cri-log-parser.js';
import { comparePodLogPaths, parsePodLogPath } from './pod-log-path.js';

const POD_DIR = fileURLToPath(
  new URL('../../../test/fixtures/inputs/bundle-rollover/var/log/pods/payments_ledger-5c9d7f6b8-x4q2m_7b1f0c3e-5a2d-4e8f-9c61-2d4b8a0f3e17/', import.meta.url),
);

describe('parseCriLine', () => {
  it('parses F and P lines with any fraction length', () => {
    expect(parseCriLine('2026-10-02T06:31:17.85040099Z stdout F hello world')).toEqual({ at: Date.UTC(2026, 9, 2, 6, 31, 17) + 850.40099, stream: 'stdout', partial: false, text: 'hello world' });
    expect(parseCriLine('2026-10-02T06:31:17Z stderr P  two  spaces ')).toMatchObject({ stream: 'stderr', partial: true, text: ' two  spaces ' });
    expect(parseCriLine('2026-10-02T06:31:17Z stdout F ')).toMatchObject({ text: '' });
    expect(parseCriLine('2026-10-02T06:31:17Z stdout F')).toMatchObject({ text: '' });
    expect(parseCriLine('2026-10-02T06:31:17+02:00 stdout F:x y')).toMatchObject({ at: Date.UTC(2026, 9, 2, 4, 31, 17), text: 'y' });
  });
  it('rejects everything else', () => {
    for (const bad of ['', 'hello', '2026-10-02T06:31:17Z stdin F x', '2026-10-02T06:31:17Z stdout X x', 'not-a-timestamp-at-all-here stdout F x', '2026-10-02T06:31:17Z stdout FF x', '2026-99-02T06:31:17Z stdout F x']) {
      expect(parseCriLine(bad), bad).toBeUndefined();
    }
  });
});

describe('CriLineJoiner', () => {
  it('joins P chunks per stream while stdout and stderr interleave', () => {
    const j = new CriLineJoiner();
    const lines = [
      '2026-01-01T00:00:01Z stdout P out-a ',
      '2026-01-01T00:00:02Z stderr P err-a ',
      '2026-01-01T00:00:03Z stdout P out-b ',
      '2026-01-01T00:00:04Z stderr F err-b',
      '2026-01-01T00:00:05Z stdout F out-c',
    ];
    const out = lines.map((l, i) => j.push(l, i + 1));
    expect(out[3]).toMatchObject({ stream: 'stderr', text: 'err-a err-b', line: 2, at: Date.UTC(2026, 0, 1, 0, 0, 2) });
    expect(out[4]).toMatchObject({ stream: 'stdout', text: 'out-a out-b out-c', line: 1, at: Date.UTC(2026, 0, 1, 0, 0, 1) });
    expect(out.filter(Boolean)).toHaveLength(2);
  });
  it('caps joined lines with a marker and never grows unbounded', () => {
    const j = new CriLineJoiner({ maxLineChars: 100 });
    for (let i = 0; i < 50; i++) expect(j.push(`2026-01-01T00:00:01Z stdout P ${'x'.repeat(40)}`, i + 1)).toBeUndefined();
    const line = j.push('2026-01-01T00:00:02Z stdout F end', 51);
    expect(line?.text).toBe('x'.repeat(100) + truncationMarker(2003));
    expect(line?.truncated).toBe(true);
    expect(j.summary().map((d) => d.code)).toEqual(['KT_INPUT_LINE_TRUNCATED']);
  });
  it('flushes unterminated chunks at end() and reports malformed lines with their number', () => {
    const j = new CriLineJoiner({ diagnosticLimit: 2 });
    j.push('2026-01-01T00:00:01Z stdout P cut off mid-', 1);
    for (let i = 2; i < 6; i++) j.push('garbage line', i);
    expect(j.end()).toMatchObject([{ text: 'cut off mid-', unterminated: true, line: 1 }]);
    const diagnostics = j.takeDiagnostics();
    expect(diagnostics.map((d) => d.line)).toEqual([2, 3]);
    expect(j.summary()[0]?.message).toContain('2 more');
    expect(j.malformedLines).toBe(4);
  });
});

describe('parsePodLogPath', () => {
  it('parses live, rotated and gzipped files', () => {
    expect(parsePodLogPath('/var/log/pods/shop_inventory-7d5f8b9c6-k2l9p_e2a2/inventory/2.log')).toEqual({
      namespace: 'shop',
      pod: 'inventory-7d5f8b9c6-k2l9p',
      uid: 'e2a2',
      container: 'inventory',
      restartCount: 2,
      gzip: false,
    });
    expect(parsePodLogPath('ns_p_u/c/0.log.20261231-235930')).toMatchObject({ restartCount: 0, rotatedAt: Date.UTC(2026, 11, 31, 23, 59, 30), rotatedSuffix: '20261231-235930', gzip: false });
    expect(parsePodLogPath('C:\\logs\\ns_p_u\\c\\3.log.20261231-235830.gz')).toMatchObject({ restartCount: 3, gzip: true });
  });
  it('rejects other layouts', () => {
    for (const bad of ['0.log', 'c/0.log', 'nsp/c/0.log', 'ns_p/c/0.log', 'ns__u/c/0.log', 'ns_p_/c/0.log', 'ns_p_u/c/x.log', 'ns_p_u/c/0.log.tmp', 'ns_p_u/c/0.txt']) {
      expect(parsePodLogPath(bad), bad).toBeUndefined();
    }
  });
  it('orders rotated files oldest first, then the live file, by incarnation', () => {
    const paths = ['n_p_u/c/1.log', 'n_p_u/c/0.log', 'n_p_u/c/0.log.20260101-000200', 'n_p_u/c/0.log.20260101-000100.gz'];
    const sorted = paths.map((p) => ({ p, l: parsePodLogPath(p)! })).sort((a, b) => comparePodLogPaths(a.l, b.l)).map((x) => x.p);
    expect(sorted).toEqual(['n_p_u/c/0.log.20260101-000100.gz', 'n_p_u/c/0.log.20260101-000200', 'n_p_u/c/0.log', 'n_p_u/c/1.log']);
  });
});

describe('CriLogParser', () => {
  it('pushTo gives the lines, times, line numbers, counts and diagnostics push gives, without signals', () => {
    const lines = [
      '2026-10-02T06:30:00.1Z stdout F one',
      'garbage',
      '2026-10-02T06:30:00.2Z stdout P two-',
      '2026-10-02T06:30:00.3Z stderr F err',
      '2026-10-02T06:30:00.4Z stdout F -joined',
      '2026-10-02T06:29:00Z stdout F earlier',
      `2026-10-02T06:30:01Z stdout F ${'x'.repeat(40)}`,
      '',
      '2026-10-02T06:30:02Z stdout P never closed',
    ];
    const context = { pod: { namespace: 'ns', name: 'p', uid: 'u' }, container: 'c', restartCount: 0, file: 'f.log' };
    const a = new CriLogParser(context, { maxLineChars: 30 });
    const b = new CriLogParser(context, { maxLineChars: 30 });
    const viaPush: Array<[number, string, number | undefined]> = [];
    const viaPushTo: Array<[number, string, number | undefined]> = [];
    lines.forEach((line, i) => {
      const signal = a.push(line, i + 1);
      if (signal) viaPush.push([signal.at, signal.text, signal.source?.line]);
      void b.pushTo(line, i + 1, (at, text, first) => void viaPushTo.push([at, text, first]));
    });
    expect(viaPushTo).toEqual(viaPush);
    expect(viaPush).toHaveLength(5);
    expect(b.outOfOrder).toBe(a.outOfOrder);
    expect(b.takeDiagnostics()).toEqual(a.takeDiagnostics());
    expect(b.end()).toEqual(a.end());
    expect(b.summary()).toEqual(a.summary());
  });

  it('builds valid AppLogSignals across rotated files (P chunk continued in the next file)', () => {
    const parser = new CriLogParser({ pod: { namespace: 'payments', name: 'ledger-5c9d7f6b8-x4q2m', uid: 'u' }, container: 'ledger', restartCount: 0 });
    const signals: AppLogSignal[] = [];
    for (const name of ['0.log.20261231-235930', '0.log']) {
      parser.setFile(name);
      readFileSync(`${POD_DIR}ledger/${name}`, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          const s = parser.push(line, i + 1);
          if (s) signals.push(s);
        });
    }
    signals.push(...parser.end());
    expect(signals.map((s) => s.text)).toEqual([
      'index shard 1/8 loaded',
      'index shard 2/8 loaded',
      'index shard 3/8 partial chunk one --chunk two completes shard 3/8',
      'index shard 4/8 loaded',
      'warn: probe arrived while {warming}: "shard":4, "quote":"\\"x\\""',
      'index shard 5/8 loaded',
      'clock skew: this line is older than the previous one',
      'index shard 6/8 loading, bytes=',
    ]);
    for (const s of signals) expect(appLogSignalSchema.safeParse(s).success).toBe(true);
    expect(signals[4]).toMatchObject({ stream: 'stderr', source: { file: '0.log', line: 2 } });
    expect(parser.summary().map((d) => d.code)).toEqual(['KT_INPUT_OUT_OF_ORDER']);
  });
  it('refuses an invalid context once instead of emitting invalid signals', () => {
    const parser = new CriLogParser({ pod: { namespace: 'n', name: 'p', uid: 'u' }, container: 'c', restartCount: -1 });
    expect(parser.contextDiagnostic?.code).toBe('KT_INPUT_INVALID_SIGNAL');
    expect(parser.push('2026-01-01T00:00:01Z stdout F x', 1)).toBeUndefined();
  });
});
