import { describe, expect, it } from 'vitest';
import { publishSlices } from './cri-tailer.js';
import { journalctlArgs, multilineMarker } from './journal-follower.js';

describe('journal follower helpers', () => {
  it('runs journalctl on the unit as JSON, after the cursor when there is one', () => {
    const spec = { mode: 'journalctl', command: 'journalctl', unit: 'kubelet', directory: '/var/log/journal' } as const;
    expect(journalctlArgs(spec, undefined)).toEqual(['-u', 'kubelet', '-f', '-o', 'json', '--no-pager', '-D', '/var/log/journal', '--since=-1h']);
    expect(journalctlArgs({ ...spec, directory: undefined }, 's=1;i=2').slice(-1)).toEqual(['--after-cursor=s=1;i=2']);
  });

  it('recognises klog multi-line values opening and closing', () => {
    expect(multilineMarker('I0105 10:00:00.1 1 prober.go:1] "Probe failed" output=<')).toBe('open');
    expect(multilineMarker(' > containerName="app"')).toBe('close');
    expect(multilineMarker(' >')).toBe('close');
    expect(multilineMarker('\tcurl: (7) refused')).toBeUndefined();
  });

  it('slices publishes by count and by text size', () => {
    const small = Array.from({ length: 1_200 }, () => ({ text: 'x' }));
    expect(publishSlices(small).map((s) => s.length)).toEqual([500, 500, 200]);
    const big = Array.from({ length: 5 }, () => ({ text: 'y'.repeat(100 * 1024) }));
    expect(publishSlices(big).map((s) => s.length)).toEqual([2, 2, 1]);
    expect(publishSlices([])).toEqual([]);
  });
});
