import type { RestartRecord } from '@killtrace/schemas';
import { incarnationRow, recordKey, workloadOfName } from './timeline-model.js';
import { TimelineSummaryBuilder, type TimelineScope, type TimelineSummary } from './timeline-summary.js';
import { TimelineRows, timelineWriter, type TimelineFormat } from './timeline-writer.js';

/** The record filter a scope means (a subset of libs/elastic's RecordFilter, same field names). */
export interface ScopeFilter {
  ids?: string[];
  namespace?: string;
  pod?: string;
  workload?: string;
  container?: string;
  from?: string;
  to?: string;
}

/** The filter that selects a scope's records. */
export function scopeFilter(scope: TimelineScope): ScopeFilter {
  switch (scope.kind) {
    case 'record':
      return { ids: [scope.id] };
    case 'pod':
      return { namespace: scope.namespace, pod: scope.pod, from: scope.from, to: scope.to };
    case 'workload':
      return { namespace: scope.namespace, workload: scope.workload, container: scope.container, from: scope.from, to: scope.to };
  }
}

/** Whether a record belongs to a scope: the same rule as the Elasticsearch query of `scopeFilter` (bundle mode). */
export function inScope(record: RestartRecord, scope: TimelineScope): boolean {
  const k = record.kubernetes;
  const at = Date.parse(record['@timestamp']);
  const inRange = (from?: string, to?: string): boolean => (from === undefined || at >= Date.parse(from)) && (to === undefined || at < Date.parse(to));
  switch (scope.kind) {
    case 'record':
      return recordKey(record) === scope.id;
    case 'pod':
      return k.namespace === scope.namespace && k.pod.name === scope.pod && inRange(scope.from, scope.to);
    case 'workload':
      return (
        k.namespace === scope.namespace &&
        workloadOfName(record).includes(scope.workload) &&
        (scope.container === undefined || k.container.name === scope.container) &&
        inRange(scope.from, scope.to)
      );
  }
}

export interface TimelineStreamOptions {
  format: TimelineFormat;
  scope: TimelineScope;
  /** The scope's records oldest first; called twice (summary pass, then rows), both must yield the same records. */
  open: () => AsyncIterable<RestartRecord>;
  write: (chunk: string) => void | Promise<void>;
  onProgress?: (pass: 'summary' | 'rows', read: number) => void;
  /** How many records between two progress calls. */
  progressEvery?: number;
}

/**
 * Writes a timeline document in two streaming passes over the same records: the first gathers the summary the
 * head needs, the second writes one row per record. Memory is per container, never per record.
 */
export async function streamTimeline(options: TimelineStreamOptions): Promise<TimelineSummary> {
  const every = options.progressEvery ?? 200;
  const builder = new TimelineSummaryBuilder(options.scope);
  let read = 0;
  for await (const record of options.open()) {
    builder.add(record, incarnationRow(record).spanMs);
    read += 1;
    if (read % every === 0) options.onProgress?.('summary', read);
  }
  options.onProgress?.('summary', read);
  const summary = builder.result();
  const writer = timelineWriter(options.format, summary);
  const rows = new TimelineRows(writer);
  await options.write(writer.head());
  read = 0;
  let buffer = '';
  for await (const record of options.open()) {
    buffer += rows.row(record);
    read += 1;
    if (buffer.length > 64 * 1024) {
      await options.write(buffer);
      buffer = '';
    }
    if (read % every === 0) options.onProgress?.('rows', read);
  }
  options.onProgress?.('rows', read);
  await options.write(buffer + writer.tail());
  return summary;
}
