import type { RestartRecord } from '@killtrace/schemas';
import { ingestRecord, initialState, nextDue, tick, type AlertSnapshot, type NotificationKind } from './engine.js';
import type { RuleSet } from './rules.js';

/** One thing the alerter would have done, at the event time it would have done it. */
export interface DryRunEvent {
  at: string;
  kind: NotificationKind;
  alert: AlertSnapshot;
  receivers: string[];
}

/**
 * Replays records through the same state machine the alerter runs, with each kill's event time as the clock, so
 * `killtrace analyze --alerts` shows which alerts would have fired, updated, repeated and resolved, and when.
 * Alerts still firing after the last kill resolve at the end of their quiet period.
 */
export function dryRun(given: RuleSet, records: readonly { id: string; record: RestartRecord }[]): { events: DryRunEvent[] } {
  // A listener that hears every kind on every rule, so alerts show even for rules with no receiver (yet).
  const ALL = '(dry-run)';
  const rules: RuleSet = {
    receivers: [...given.receivers, { name: ALL, type: 'alertmanager', url: 'http://dry-run.invalid' }],
    rules: given.rules.map((r) => ({ ...r, receivers: [...r.receivers, ALL] })),
  };
  const timed = records
    .map((r) => ({ ...r, at: Date.parse(r.record.killtrace.killed_at ?? r.record.killtrace.finished_at ?? r.record['@timestamp']) }))
    .sort((a, b) => a.at - b.at);
  let state = initialState();
  const events: DryRunEvent[] = [];
  const collect = (notifications: ReturnType<typeof tick>['notifications'], at: number): void => {
    const byAlert = new Map<string, DryRunEvent>();
    for (const n of notifications) {
      const key = `${n.dedupKey}#${n.seq}`;
      const event = byAlert.get(key) ?? { at: new Date(at).toISOString(), kind: n.kind, alert: n.alert, receivers: [] };
      if (n.receiver !== ALL) event.receivers.push(n.receiver);
      byAlert.set(key, event);
    }
    events.push(...byAlert.values());
  };
  const advance = (until: number): void => {
    for (let due = nextDue(state, rules); due !== null && due <= until; due = nextDue(state, rules)) {
      const step = tick(state, rules, due);
      state = step.state;
      collect(step.notifications, due);
    }
  };
  for (const { id, record, at } of timed) {
    advance(at);
    const step = ingestRecord(state, rules, id, record, at);
    state = step.state;
    collect(step.notifications, at);
  }
  advance(Number.POSITIVE_INFINITY);
  return { events };
}
