import { describe, expect, it } from 'vitest';
import { formatSeconds, largest, recommendStartupProbe } from './recommendation.js';

describe('largest', () => {
  it('handles more values than a spread into Math.max allows', () => {
    const values = Array.from({ length: 500_000 }, (_, i) => i % 1000);
    values[123_456] = 5000;
    expect(() => Math.max(...values)).toThrow(RangeError);
    expect(largest(values)).toBe(5000);
    expect(largest([], 0)).toBe(0);
  });
});

describe('recommendStartupProbe', () => {
  it('covers finished init with margin, keeping the liveness period', () => {
    const rec = recommendStartupProbe({ completedSeconds: [40, 60], killedInInitSeconds: [] }, { handler: 'http', periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1, initialDelaySeconds: 0 });
    expect(rec).toMatchObject({ periodSeconds: 10, failureThreshold: 9, budgetSeconds: 90 });
  });

  it('leans generous when init was never seen to finish', () => {
    const rec = recommendStartupProbe({ completedSeconds: [20], killedInInitSeconds: [44] }, undefined);
    expect(rec).toMatchObject({ periodSeconds: 10, failureThreshold: 30, budgetSeconds: 300 });
  });
});

describe('formatSeconds', () => {
  it('rounds to whole seconds before splitting minutes (never `1 min 60 s`)', () => {
    expect(formatSeconds(119.6)).toBe('2 min');
    expect(formatSeconds(125.4)).toBe('2 min 5 s');
    expect(formatSeconds(12.66)).toBe('12.7 s');
  });
});
