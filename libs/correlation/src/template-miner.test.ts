import { describe, expect, it } from 'vitest';
import { alignIncarnation, displayName, learnSteps, type TemplateSighting } from './learned-steps.js';
import { maskLine, mineTemplates } from './template-miner.js';

describe('maskLine', () => {
  it('masks numbers, ids, addresses and hex, and reads the message of a JSON line', () => {
    expect(maskLine('I1002 06:30:05.900123 4242 isolated_device.go:233] bind 0000:3b:00.0 (10de:1db6) to vfio-pci')).toBe('<*> <*> <*> <*> bind <*> <*> to vfio-pci');
    expect(maskLine('{"level":"info","ts":"2026-10-02T06:30:00Z","msg":"building search index","docs":2400000}')).toBe('building search index');
    expect(maskLine('connected to 10.0.0.5:5432 as user app id=3f2a9c')).toBe('connected to <*> as user app <*>');
  });
});

describe('mineTemplates', () => {
  it('clusters keys that differ in a few tokens, whatever their order', () => {
    const keys = ['relation invoices already exists', 'relation orders already exists', 'lock timeout after <*>', 'relation users already exists'];
    const a = mineTemplates(keys);
    const b = mineTemplates([...keys].reverse());
    expect(a.templates).toEqual(b.templates);
    expect(a.templates).toContain('relation <*> already exists');
    expect(a.templateOf.get('relation orders already exists')).toBe(a.templateOf.get('relation users already exists'));
    expect(a.templateOf.get('lock timeout after <*>')).not.toBe(a.templateOf.get('relation orders already exists'));
  });
});

const sightings = (lines: Array<[number, string]>): Map<string, TemplateSighting> => {
  const m = new Map<string, TemplateSighting>();
  for (const [at, text] of lines) {
    const key = maskLine(text);
    const prev = m.get(key);
    if (prev) prev.last = Math.max(prev.last, at * 1000);
    else m.set(key, { first: at * 1000, last: at * 1000, example: text });
  }
  return m;
};

describe('learnSteps and alignIncarnation', () => {
  const ready = (id: string, load: number) =>
    ({ id, startedAt: 0, readyAt: (load + 3) * 1000, sightings: sightings([[0.1, 'app starting v1'], [0.3, 'config loaded'], [0.5, 'loading model weights'], [load + 0.5, 'model loaded'], [load + 1, 'warming cache'], [load + 3, 'listening on :8080']]) });

  it('groups templates by the gaps between them and names each step by the template whose work ran', () => {
    const model = learnSteps([ready('a', 60), ready('b', 80), ready('c', 70)]);
    expect(model?.source).toBe('ready');
    expect(model?.steps.map((s) => s.name)).toEqual(['loading model weights', 'warming cache', 'listening on <*>']);
    expect(model?.steps[0]?.durations.sort()).toEqual([60.4, 70.4, 80.4]);
  });

  it('finds the step in progress of a killed incarnation and ignores the lines that report the end', () => {
    const model = learnSteps([ready('a', 60), ready('b', 80)]);
    if (!model) throw new Error('no model');
    const killed = sightings([[0.1, 'app starting v1'], [0.3, 'config loaded'], [0.5, 'loading model weights'], [45.5, 'received SIGTERM, exiting']]);
    const progress = alignIncarnation(model, killed, 45_600);
    expect(progress?.current?.step.name).toBe('loading model weights');
    expect(progress?.current?.startedAt).toBe(100);
    expect(progress?.reachedLast).toBe(false);
  });

  it('learns from incarnations that never reached ready when none did', () => {
    const ended = (id: string, error: string) => ({ id, startedAt: 0, sightings: sightings([[0.2, 'migrator starting'], [0.5, 'applying schema migrations'], [4.4, error]]) });
    const model = learnSteps([ended('a', 'disk full'), ended('b', 'lock timeout'), ended('c', 'relation invoices already exists')]);
    expect(model?.source).toBe('ended');
    expect(model?.steps.map((s) => s.name)).toEqual(['applying schema migrations']);
  });

  it('strips log headers from step names', () => {
    expect(displayName('[I <*> <*> <*> bind <*> <*> to vfio-pci')).toBe('bind <*> <*> to vfio-pci');
    expect(displayName('<*> <*> UTC <*> LOG: redo starts at <*>')).toBe('redo starts at <*>');
  });
});
