import { describe, expect, it } from 'vitest';
import { compileProfile } from './step-profiles.js';
import { StepTracker } from './step-tracker.js';

// An analysis worker follows an incarnation and hands the main thread StepTracker.toState() (structured clone); the
// tracker rebuilt from it must answer every question the records ask exactly as the original.
describe('StepTracker state', () => {
  const profile = compileProfile({ name: 'p', match: {}, ready: 'ready', steps: [{ name: 'load', start: 'loading', end: 'loaded' }, { name: 'cache', start: 'cache' }] });

  function feed(tracker: StepTracker): void {
    for (let i = 0; i < 300; i++) tracker.add(1000 + i * 10, i % 50 === 0 ? 'loading data' : i === 120 ? 'loaded' : i === 130 ? 'building cache' : i === 200 ? 'ready' : `line ${i % 7} of request ${i}`);
    tracker.add(500, 'late but earlier line');
  }

  it.each([
    ['with a profile', () => new StepTracker(profile)],
    ['learning', () => new StepTracker(undefined, true)],
  ])('%s: fromState(state()) answers as the original, through a structured clone', (_name, make) => {
    const original = make();
    feed(original);
    const copy = StepTracker.fromState(structuredClone(original.toState()), original.profile);
    expect(copy.lines).toBe(original.lines);
    expect(copy.firstLine).toBe(original.firstLine);
    expect(copy.ready).toBe(original.ready);
    const line = (l: { at: number; text: string } | undefined) => (l === undefined ? undefined : { at: l.at, text: l.text });
    expect(line(copy.lastLine())).toEqual(line(original.lastLine()));
    expect(line(copy.lastLine(1500))).toEqual(line(original.lastLine(1500)));
    for (const at of [900, 1600, 2400, 5000]) expect(copy.progressAt(at)).toEqual(original.progressAt(at));
    expect([...copy.sightings]).toEqual([...original.sightings]);
    expect(copy.toState()).toEqual(original.toState());
    // Both keep following the same way.
    original.add(6000, 'after');
    copy.add(6000, 'after');
    expect(copy.toState()).toEqual(original.toState());
  });

  it('refuses a state taken with another profile', () => {
    const state = new StepTracker(profile).toState();
    expect(() => StepTracker.fromState(state, undefined)).toThrow(/2 step marks/);
  });
});
