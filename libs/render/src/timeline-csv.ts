import type { RestartRecord } from '@killtrace/schemas';
import { recordKey } from './timeline-model.js';
import type { TimelineWriter } from './timeline-writer.js';

const COLUMNS = ['record_id', 'namespace', 'pod', 'container', 'node', 'restart', 'cause', 'confidence', 'at', 'source', 'text'];

/**
 * One RFC 4180 field. Cells that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR) get a leading
 * apostrophe: log lines are attacker-controlled text.
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** CSV with one row per timeline entry of every record. */
export function csvWriter(): TimelineWriter {
  return {
    head: () => `${COLUMNS.join(',')}\r\n`,
    row(record: RestartRecord) {
      const k = record.kubernetes;
      const fixed = [recordKey(record), k.namespace, k.pod.name, k.container.name, k.node.name ?? '', String(record.killtrace.restart.count), record.killtrace.cause, record.killtrace.confidence];
      return record.killtrace.timeline.map((e) => `${[...fixed, e.at, e.source, e.text].map(csvField).join(',')}\r\n`).join('');
    },
    tail: () => '',
  };
}
