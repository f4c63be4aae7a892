import { readFile } from 'node:fs/promises';
import { dryRun, parseRules, RulesError, type DryRunEvent, type RuleSet } from '@killtrace/alerting';
import { restartRecordId, type RestartRecord } from '@killtrace/schemas';
import { CliError } from './errors.js';

/** Reads an alert rules file (the alerter's format); an empty file means the built-in rules. */
export async function loadAlertRules(path: string): Promise<RuleSet> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError('KT_ERR_CLI_ALERTS_INVALID', `cannot read alert rules file ${path}: ${(error as Error).message}`);
  }
  try {
    return parseRules(text, path);
  } catch (error) {
    if (error instanceof RulesError) throw new CliError('KT_ERR_CLI_ALERTS_INVALID', error.message.replace(/^KT_ERR_ALERTER_RULES_INVALID: /, ''));
    throw error;
  }
}

/** What the alerter would have done over these records, replayed with each kill's time as the clock. */
export function alertDryRun(rules: RuleSet, records: readonly RestartRecord[]): DryRunEvent[] {
  const withIds = records.map((record) => ({ id: restartRecordId(record.kubernetes.pod.uid, record.kubernetes.container.name, record.killtrace.restart.count), record }));
  return dryRun(rules, withIds).events;
}

const KIND: Record<DryRunEvent['kind'], string> = { firing: 'FIRING', update: 'update', repeat: 'repeat', resolved: 'RESOLVED' };

/** The dry run as text: one line per notification, then one line per alert that would have fired. */
export function renderAlertDryRun(events: readonly DryRunEvent[], rulesFile: string): string {
  const lines = [`Alerts (dry run of ${rulesFile}; the clock is each kill's time):`];
  if (events.length === 0) {
    lines.push('  no alert would have fired');
    return `${lines.join('\n')}\n`;
  }
  for (const e of events) {
    const d = e.alert.latest;
    const step = e.alert.labels.step === undefined ? '' : ` step ${e.alert.labels.step === '' ? '(unknown)' : e.alert.labels.step}`;
    const to = e.receivers.length === 0 ? 'no receiver' : e.receivers.join(', ');
    lines.push(
      `  ${e.at}  ${KIND[e.kind].padEnd(8)} ${e.alert.alertname} [${e.alert.severity}] ${d.namespace}/${d.workload} container ${d.container}${step}: ${e.alert.count} kill${e.alert.count === 1 ? '' : 's'} -> ${to}`,
    );
  }
  const fired = events.filter((e) => e.kind === 'firing');
  const alerts = new Set(fired.map((e) => e.alert.groupKey));
  lines.push(`  ${alerts.size} alert${alerts.size === 1 ? '' : 's'} would have fired (${events.length} notifications).`);
  return `${lines.join('\n')}\n`;
}
