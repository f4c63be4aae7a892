import { describe, expect, it } from 'vitest';
import { killRecord } from '../../../test/fixtures/alerting/records.js';
import { ingestRecord, initialState, nextDue, tick, type AlerterState, type Notification } from './engine.js';
import { compileRules, type RuleSet } from './rules.js';
import { dryRun } from './dry-run.js';

const T0 = Date.parse('2026-10-02T06:39:41.169Z');
const rules: RuleSet = compileRules(
  {
    receivers: [
      { name: 'am', type: 'alertmanager', url: 'http://127.0.0.1:9093' },
      { name: 'chat', type: 'slack', url: 'https://hooks.slack.com/services/T/B/X' },
    ],
    builtinRules: false,
    rules: [{ name: 'probe-kill-during-init', match: { probeInduced: true, duringInit: true }, severity: 'critical', resolveAfterSeconds: 60, repeatIntervalSeconds: 30 }],
  },
  'test',
);

function run(state: AlerterState, records: ReturnType<typeof killRecord>[], now: number): { state: AlerterState; notifications: Notification[] } {
  const notifications: Notification[] = [];
  for (const r of records) {
    const step = ingestRecord(state, rules, r.id, r.record, now);
    state = step.state;
    notifications.push(...step.notifications);
  }
  return { state, notifications };
}

describe('alert grouping state machine', () => {
  it('fires once per group, then updates it for each new kill instead of sending another alert', () => {
    const first = run(initialState(), [killRecord({ restart: 5 })], T0);
    expect(first.notifications.map((n) => [n.receiver, n.kind])).toEqual([['am', 'firing'], ['chat', 'firing']]);
    expect(first.notifications[0]?.alert).toMatchObject({ count: 1, status: 'firing', labels: { namespace: 'onecloud', workload: 'default-host', container: 'host', cause: 'liveness_probe', step: 'gpu-vfio-bind' } });
    const second = run(first.state, [killRecord({ restart: 6, killedAt: T0 + 60_000 })], T0 + 60_000);
    // Chat receivers get one message per episode; Alertmanager gets the update (same labels, so the same alert).
    expect(second.notifications.map((n) => [n.receiver, n.kind])).toEqual([['am', 'update']]);
    expect(second.notifications[0]?.alert).toMatchObject({ count: 2, lastKillAt: new Date(T0 + 60_000).toISOString() });
    expect(second.notifications[0]?.dedupKey).toBe(first.notifications[0]?.dedupKey);
    expect(Object.keys(second.state.groups)).toHaveLength(1);
  });

  it('counts the provisional and the final record of one restart once, and refreshes the explanation', () => {
    const provisional = killRecord({ restart: 5, status: 'provisional', message: 'early' });
    const final = killRecord({ restart: 5, status: 'final', message: 'late evidence' });
    const out = run(initialState(), [provisional, final, final], T0);
    const group = Object.values(out.state.groups)[0];
    expect(group?.count).toBe(1);
    expect(group?.latest.explanation).toBe('late evidence');
    expect(out.notifications.filter((n) => n.kind === 'firing')).toHaveLength(2);
    expect(out.notifications.filter((n) => n.kind === 'update').map((n) => n.receiver)).toEqual(['am', 'am']);
    expect(out.notifications.every((n) => n.alert.count === 1)).toBe(true);
  });

  it('moves a restart to the group its final record names (the step was unknown when it was provisional), counting it once', () => {
    const provisional = killRecord({ restart: 5, status: 'provisional', step: null });
    const final = killRecord({ restart: 5, status: 'final', step: 'gpu-vfio-bind' });
    const out = run(initialState(), [provisional, final], T0);
    expect(Object.values(out.state.groups).map((g) => [g.labels.step, g.count])).toEqual([['gpu-vfio-bind', 1]]);
    expect(out.notifications.map((n) => [n.receiver, n.kind, n.alert.labels.step])).toEqual([
      ['am', 'firing', ''],
      ['chat', 'firing', ''],
      ['am', 'resolved', ''],
      ['chat', 'resolved', ''],
      ['am', 'firing', 'gpu-vfio-bind'],
      ['chat', 'firing', 'gpu-vfio-bind'],
    ]);
    const other = run(out.state, [killRecord({ restart: 6, step: null })], T0 + 1_000);
    expect(other.state.groups[Object.keys(other.state.groups).find((k) => k.endsWith('step=')) ?? '']?.count).toBe(1);
  });

  it('resolves after the quiet period, repeats a long-firing alert, and ignores a replayed record after resolving', () => {
    const fired = run(initialState(), [killRecord({ restart: 5 })], T0);
    expect(nextDue(fired.state, rules)).toBe(T0 + 30_000);
    const repeat = tick(fired.state, rules, T0 + 30_000);
    expect(repeat.notifications.map((n) => n.kind)).toEqual(['repeat', 'repeat']);
    expect(tick(repeat.state, rules, T0 + 59_999).notifications).toEqual([]);
    const resolved = tick(repeat.state, rules, T0 + 60_000);
    expect(resolved.notifications.map((n) => [n.receiver, n.kind])).toEqual([['am', 'resolved'], ['chat', 'resolved']]);
    expect(resolved.notifications[0]?.alert).toMatchObject({ status: 'resolved', endsAt: new Date(T0 + 60_000).toISOString() });
    expect(resolved.state.groups).toEqual({});
    const replayed = run(resolved.state, [killRecord({ restart: 5, status: 'final' })], T0 + 61_000);
    expect(replayed.notifications).toEqual([]);
    const later = tick(replayed.state, rules, T0 + 25 * 3600 * 1000);
    expect(later.state.seen).toEqual({});
  });

  it('fires a crash-loop rule only once N kills fall in its window', () => {
    const loop = compileRules({ receivers: [{ name: 'am', type: 'alertmanager', url: 'http://127.0.0.1:9093' }] }, 'test');
    let state = initialState();
    const fired: string[] = [];
    for (let n = 0; n < 4; n++) {
      const r = killRecord({ restart: n, killedAt: T0 + n * 120_000, step: n % 2 === 0 ? null : 'gpu-vfio-bind' });
      const step = ingestRecord(state, loop, r.id, r.record, T0 + n * 120_000);
      state = step.state;
      fired.push(...step.notifications.filter((x) => x.kind === 'firing').map((x) => `${n}:${x.alert.rule}`));
    }
    expect(fired).toEqual(['0:probe-kill-during-init', '1:probe-kill-during-init', '2:probe-crash-loop']);
    const crash = Object.values(state.groups).find((g) => g.rule === 'probe-crash-loop');
    expect(crash?.count).toBe(4);
    expect(crash?.labels).toEqual({ cluster: 'default', namespace: 'onecloud', workload: 'default-host', container: 'host' });
  });

  it('matches on namespace, workload, cause and step patterns', () => {
    const narrow = compileRules(
      { receivers: [{ name: 'am', type: 'alertmanager', url: 'http://x:1' }], builtinRules: false, rules: [{ name: 'r', severity: 'info', match: { namespace: '^one', workload: 'host$', step: 'vfio', cause: ['liveness_probe'] } }] },
      'test',
    );
    const hit = killRecord();
    const miss = killRecord({ namespace: 'shop' });
    const noStep = killRecord({ step: null, restart: 9 });
    expect(ingestRecord(initialState(), narrow, hit.id, hit.record, T0).notifications).toHaveLength(1);
    expect(ingestRecord(initialState(), narrow, miss.id, miss.record, T0).notifications).toHaveLength(0);
    expect(ingestRecord(initialState(), narrow, noStep.id, noStep.record, T0).notifications).toHaveLength(0);
  });

  it('dry run: replays kills with their event time as the clock', () => {
    const records = [0, 1, 2].map((n) => killRecord({ restart: n, killedAt: T0 + n * 10_000 }));
    const { events } = dryRun(rules, records);
    expect(events.map((e) => [e.kind, e.at, e.alert.count])).toEqual([
      ['firing', new Date(T0).toISOString(), 1],
      ['update', new Date(T0 + 10_000).toISOString(), 2],
      ['update', new Date(T0 + 20_000).toISOString(), 3],
      ['repeat', new Date(T0 + 30_000).toISOString(), 3],
      ['repeat', new Date(T0 + 60_000).toISOString(), 3],
      ['resolved', new Date(T0 + 80_000).toISOString(), 3],
    ]);
    expect(events[0]?.receivers).toEqual(['am', 'chat']);
    expect(events[1]?.receivers).toEqual(['am']);
  });
});
