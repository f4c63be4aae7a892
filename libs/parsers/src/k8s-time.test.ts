import { describe, expect, it } from 'vitest';
import { monthFromAbbreviation, parseRfc3339, yearlessInYear, yearlessNearest } from './k8s-time.js';

describe('parseRfc3339', () => {
  it('parses seconds, every fraction length, Z and offsets', () => {
    const base = Date.UTC(2026, 9, 2, 6, 31, 17);
    expect(parseRfc3339('2026-10-02T06:31:17Z')).toBe(base);
    expect(parseRfc3339('2026-10-02T06:31:17.1Z')).toBe(base + 100);
    expect(parseRfc3339('2026-10-02T06:31:17.85040099Z')).toBeCloseTo(base + 850.40099, 4);
    expect(parseRfc3339('2026-10-02T06:31:17.150400871Z')).toBeCloseTo(base + 150.400871, 4);
    expect(parseRfc3339('2026-10-02T08:31:17+02:00')).toBe(base);
    expect(parseRfc3339('2026-10-02T01:31:17.5-0500')).toBe(base + 500);
    expect(parseRfc3339('2026-10-02 06:31:17z')).toBe(base);
  });

  it('uses the minute cache without mixing up different minutes', () => {
    expect(parseRfc3339('2026-10-02T06:31:59Z')).toBe(Date.UTC(2026, 9, 2, 6, 31, 59));
    expect(parseRfc3339('2026-10-02T06:32:00Z')).toBe(Date.UTC(2026, 9, 2, 6, 32, 0));
    expect(parseRfc3339('2026-10-02T06:32:00+01:00')).toBe(Date.UTC(2026, 9, 2, 5, 32, 0));
  });

  it('parses the timestamp at the start of a longer string up to `end`, as a CRI line gives it', () => {
    const line = '2026-10-02T06:30:45.15040087Z stdout F hello';
    expect(parseRfc3339(line, 29)).toBe(parseRfc3339('2026-10-02T06:30:45.15040087Z'));
    expect(parseRfc3339('2026-10-02T06:30:45+02:00 stdout F x', 25)).toBe(Date.UTC(2026, 9, 2, 4, 30, 45));
    // An end inside the timestamp or past the string is not a timestamp.
    expect(parseRfc3339(line, 28)).toBeUndefined();
    expect(parseRfc3339(line, line.length + 1)).toBeUndefined();
  });

  it('rejects malformed and impossible timestamps without throwing', () => {
    for (const bad of ['', 'null', '2026-10-02', '2026-10-02T06:31:17', '2026-13-02T06:31:17Z', '2026-02-30T00:00:00Z', '2026-10-02T24:00:00Z', '2026-10-02T06:31:17.Z', '2026-10-02T06:31:17Zjunk', '2026-10-02T06:31:17+25:00', 'x'.repeat(40)]) {
      expect(parseRfc3339(bad), bad).toBeUndefined();
    }
    expect(parseRfc3339('2028-02-29T00:00:00Z')).toBe(Date.UTC(2028, 1, 29));
  });
});

describe('year-less times', () => {
  const t = { month: 12, day: 31, hour: 23, minute: 59, second: 51, fractionMs: 0.1 };
  it('places a time in a given year', () => {
    expect(yearlessInYear(t, 2026)).toBe(Date.UTC(2026, 11, 31, 23, 59, 51) + 0.1);
    expect(yearlessInYear({ ...t, month: 2, day: 29 }, 2026)).toBeUndefined();
  });
  it('rolls over Dec -> Jan by picking the year nearest to the anchor', () => {
    const anchor = Date.UTC(2027, 0, 1, 0, 5);
    expect(yearlessNearest(t, anchor)).toBe(Date.UTC(2026, 11, 31, 23, 59, 51) + 0.1);
    expect(yearlessNearest({ ...t, month: 1, day: 1, hour: 0 }, Date.UTC(2026, 11, 31, 23))).toBe(Date.UTC(2027, 0, 1, 0, 59, 51) + 0.1);
  });
  it('knows month abbreviations', () => {
    expect(monthFromAbbreviation('Oct')).toBe(10);
    expect(monthFromAbbreviation('oct')).toBeUndefined();
  });
});
