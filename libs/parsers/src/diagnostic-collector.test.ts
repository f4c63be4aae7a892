import { describe, expect, it } from 'vitest';
import { CriLineJoiner } from './cri-log-parser.js';
import { DiagnosticCollector } from './diagnostic-collector.js';
import { makeDiagnostic } from './diagnostic-codes.js';

describe('DiagnosticCollector', () => {
  it('lists each code up to the limit with file and line, counts the rest, and names them in the summary', () => {
    const c = new DiagnosticCollector('kubelet.log', 2, { KT_INPUT_BAD_CRI_LINE: 'malformed CRI lines' });
    for (let line = 1; line <= 5; line++) c.report('warning', 'KT_INPUT_BAD_CRI_LINE', `bad ${line}`, line);
    c.report('info', 'KT_INPUT_BAD_KLOG_LINE', 'odd', 9);
    c.push(makeDiagnostic('warning', 'KT_INPUT_INVALID_SIGNAL', 'dropped', { file: 'kubelet.log', line: 10 }));
    expect(c.take().map((d) => [d.code, d.file, d.line])).toEqual([
      ['KT_INPUT_BAD_CRI_LINE', 'kubelet.log', 1],
      ['KT_INPUT_BAD_CRI_LINE', 'kubelet.log', 2],
      ['KT_INPUT_BAD_KLOG_LINE', 'kubelet.log', 9],
      ['KT_INPUT_INVALID_SIGNAL', 'kubelet.log', 10],
    ]);
    expect(c.take()).toEqual([]);
    expect(c.summary()).toEqual([{ severity: 'info', code: 'KT_INPUT_DIAGNOSTICS_SUPPRESSED', message: '3 more malformed CRI lines not listed (5 in all)', file: 'kubelet.log' }]);
  });

  it('keeps the CRI joiner’s own wording and limit', () => {
    const joiner = new CriLineJoiner({ file: '0.log', diagnosticLimit: 1 });
    joiner.push('not cri', 1);
    joiner.push('still not', 2);
    expect(joiner.takeDiagnostics()).toHaveLength(1);
    expect(joiner.malformedLines).toBe(2);
    expect(joiner.summary().map((d) => d.message)).toEqual(['1 more malformed CRI lines not listed (2 in all)']);
  });
});
