import { describe, expect, it } from 'vitest';
import { StepTracker } from './step-tracker.js';
import { rng } from '../../../test/scenarios/format.js';

/**
 * The recent-lines window as it was before the ring buffer (an array kept sorted with splice and shift): the oracle
 * the ring must match line for line, in order, out of order, with redeliveries and after a restore.
 */
class ArrayWindow {
  readonly lines: Array<{ at: number; text: string }> = [];
  add(at: number, text: string): void {
    const recent = this.lines;
    if (recent.length >= 32 && at < (recent[0]?.at ?? -Infinity)) return;
    let index = recent.length;
    while (index > 0 && (recent[index - 1]?.at ?? -Infinity) > at) index -= 1;
    for (let j = index - 1; j >= 0 && recent[j]?.at === at; j -= 1) if (recent[j]?.text === text) return;
    recent.splice(index, 0, { at, text });
    if (recent.length > 32) recent.shift();
  }
  lastLine(at?: number): { at: number; text: string } | undefined {
    for (let i = this.lines.length - 1; i >= 0; i -= 1) {
      const line = this.lines[i];
      if (line && (at === undefined || line.at <= at)) return line;
    }
    return undefined;
  }
}


function plain(l: { at: number; text: string } | undefined): { at: number; text: string } | undefined {
  return l === undefined ? undefined : { at: l.at, text: l.text };
}

describe('StepTracker recent lines (ring buffer)', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('matches the sorted-array window on a mixed stream (seed %i)', (seed) => {
    const next = rng(seed);
    const tracker = new StepTracker(undefined);
    const oracle = new ArrayWindow();
    let t = 1_000;
    for (let i = 0; i < 2_000; i += 1) {
      const r = next();
      // Mostly in order; some equal times, some late lines (inside and outside the window), some redeliveries.
      const at = r < 0.6 ? (t += 1 + Math.floor(next() * 5)) : r < 0.75 ? t : r < 0.9 ? t - Math.floor(next() * 60) : t - Math.floor(next() * 400);
      const text = next() < 0.3 ? `line ${Math.floor(next() * 4)}` : `line ${i}`;
      tracker.add(at, text);
      oracle.add(at, text);
      if (i % 97 === 0) tracker.compact();
      expect(tracker.toState().recent).toEqual(oracle.lines);
      for (const probe of [undefined, at, at - 3, t - 40]) expect(plain(tracker.lastLine(probe))).toEqual(plain(oracle.lastLine(probe)));
    }
  });

  it('restores a snapshot in the array-era shape (32 lines, oldest first) and goes on as that window would', () => {
    const recent = Array.from({ length: 32 }, (_, i) => ({ at: 10_000 + i * 10, text: `old ${i}` }));
    const tracker = StepTracker.fromState({ learn: false, marks: [], lineCount: 32, firstLineAt: 10_000, recent, seen: [] }, undefined);
    const oracle = new ArrayWindow();
    for (const l of recent) oracle.add(l.at, l.text);
    for (const [at, text] of [[10_400, 'new'], [10_155, 'late'], [10_155, 'late'], [9_000, 'too old'], [10_400, 'new'], [10_401, 'newer']] as const) {
      tracker.add(at, text);
      oracle.add(at, text);
      expect(tracker.toState().recent).toEqual(oracle.lines);
    }
    expect(plain(tracker.lastLine(10_159))).toEqual({ at: 10_155, text: 'late' });
    expect(StepTracker.fromState(structuredClone(tracker.toState()), undefined).toState()).toEqual(tracker.toState());
  });
});
