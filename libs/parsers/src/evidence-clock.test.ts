import { describe, expect, it } from 'vitest';
import { CriTimeGuard, estimateJournalSkew, evidenceSpan, isOutlier } from './evidence-clock.js';

const T = Date.parse('2026-12-01T08:00:00Z');
const min = (n: number): number => T + n * 60_000;
const YEAR = 365 * 86_400_000;

describe('evidenceSpan', () => {
  it('keeps a bundle collected over hours whole and marks a time years ahead (or 1970) as an outlier', () => {
    const times = [min(0), min(5), min(30), min(90), min(240), T + 5 * YEAR, 0];
    const span = evidenceSpan(times);
    expect(span?.outliers).toBe(2);
    expect(span?.newest).toBe(min(240));
    expect(span?.oldest).toBe(min(0));
    expect(isOutlier(span, T + 5 * YEAR)).toBe(true);
    expect(isOutlier(span, 0)).toBe(true);
    expect(isOutlier(span, min(300))).toBe(false);
  });
  it('believes a pod started weeks before the rest when the rest spans weeks too, and everything when there are fewer than 3 times', () => {
    expect(evidenceSpan([min(0), T + 20 * 86_400_000, T + 40 * 86_400_000])?.outliers).toBe(0);
    expect(evidenceSpan([min(0), T + 5 * YEAR])?.outliers).toBe(0);
    expect(evidenceSpan([])).toBeUndefined();
  });
});

describe('estimateJournalSkew', () => {
  const key = 'shop/web-1/web';
  it('finds the time-zone step of a journal printed in local time, from an aggregated Killing event (first and last only)', () => {
    // Seven kill decisions 5 minutes apart; the Killing event (count 7) keeps only the first and the last time.
    const decisions = [0, 5, 10, 15, 20, 25, 30].map((m) => ({ key, at: min(m) + 2 * 3_600_000 + 300 }));
    const killing = [
      { key, at: min(0) },
      { key, at: min(30) },
    ];
    const skew = estimateJournalSkew(decisions, killing);
    expect(skew?.pairs).toBe(2);
    expect(skew?.timeZoneMs).toBe(-2 * 3_600_000);
    expect(Math.round((skew?.offsetMs ?? 0) / 1000)).toBe(-7200);
  });
  it('reports a plain skew of seconds without calling it a time zone, and nothing when no container pairs', () => {
    const skew = estimateJournalSkew([{ key, at: min(0) + 12_000 }], [{ key, at: min(0) }]);
    expect(skew).toEqual({ offsetMs: -12_000, pairs: 1 });
    expect(estimateJournalSkew([{ key, at: min(0) }], [{ key: 'other/pod/c', at: min(0) }])).toBeUndefined();
  });
});

describe('CriTimeGuard', () => {
  it('keeps lines in file order and gives a 1970 line the previous time', () => {
    const guard = new CriTimeGuard(evidenceSpan([min(0), min(10), min(20)]));
    expect([min(1), 0, min(2), min(1.5), min(3)].map((t) => guard.next(t))).toEqual([
      { at: min(1) },
      { at: min(1), adjusted: 'outlier' },
      { at: min(2) },
      { at: min(2), adjusted: 'out_of_order' },
      { at: min(3) },
    ]);
  });
  it('time() gives the same times as next() without an object per line, and says what it did', () => {
    const guard = new CriTimeGuard(evidenceSpan([min(0), min(10), min(20)]));
    expect([min(1), 0, min(2), min(1.5), min(3)].map((t) => [guard.time(t), guard.adjusted])).toEqual([
      [min(1), undefined],
      [min(1), 'outlier'],
      [min(2), undefined],
      [min(2), 'out_of_order'],
      [min(3), undefined],
    ]);
  });
  it('gives a first line years ahead the newest believable time', () => {
    const guard = new CriTimeGuard(evidenceSpan([min(0), min(10), min(20)]));
    expect(guard.next(T + 5 * YEAR)).toEqual({ at: min(20), adjusted: 'outlier' });
  });
});
