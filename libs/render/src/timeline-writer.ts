import type { RestartRecord } from '@killtrace/schemas';
import { csvWriter } from './timeline-csv.js';
import { htmlWriter } from './timeline-html.js';
import { jsonWriter } from './timeline-json.js';
import { markdownWriter } from './timeline-markdown.js';
import { containerKey, incarnationRow } from './timeline-model.js';
import { compareRecords, TimelineSummaryBuilder, type TimelineScope, type TimelineSummary } from './timeline-summary.js';

export const timelineFormats = ['markdown', 'html', 'json', 'csv'] as const;
export type TimelineFormat = (typeof timelineFormats)[number];

/** Media type and file extension of each format. */
export const timelineMedia: Record<TimelineFormat, { type: string; extension: string }> = {
  markdown: { type: 'text/markdown; charset=utf-8', extension: 'md' },
  html: { type: 'text/html; charset=utf-8', extension: 'html' },
  json: { type: 'application/json; charset=utf-8', extension: 'json' },
  csv: { type: 'text/csv; charset=utf-8', extension: 'csv' },
};

/**
 * A document written in three parts so it can stream: `head` (needs only the summary), one `row` per record
 * (oldest first, with the same container's previous record for the back-off gap), `tail`.
 */
export interface TimelineWriter {
  head(): string;
  row(record: RestartRecord, previous?: RestartRecord): string;
  tail(): string;
}

/** The writer of a format for a summary computed beforehand (first pass over the same records). */
export function timelineWriter(format: TimelineFormat, summary: TimelineSummary): TimelineWriter {
  switch (format) {
    case 'markdown':
      return markdownWriter(summary);
    case 'html':
      return htmlWriter(summary);
    case 'json':
      return jsonWriter(summary);
    case 'csv':
      return csvWriter();
  }
}

/**
 * Feeds records (oldest first) to a writer, remembering one previous record per container (not the result set)
 * so each row knows its back-off gap.
 */
export class TimelineRows {
  private readonly previous = new Map<string, RestartRecord>();

  constructor(private readonly writer: TimelineWriter) {}

  /** The text of one record's row. */
  row(record: RestartRecord): string {
    const key = containerKey(record);
    const out = this.writer.row(record, this.previous.get(key));
    this.previous.set(key, record);
    return out;
  }
}

/** Adds records to a summary builder in the same way the stream does (drawn span from `incarnationRow`). */
export function summarize(scope: TimelineScope, records: Iterable<RestartRecord>): TimelineSummary {
  const builder = new TimelineSummaryBuilder(scope);
  for (const r of records) builder.add(r, incarnationRow(r).spanMs);
  return builder.result();
}

/** The whole document for records already in memory (sorted here): what the streaming path produces, in one string. */
export function renderTimeline(format: TimelineFormat, scope: TimelineScope, records: readonly RestartRecord[]): string {
  const sorted = [...records].sort(compareRecords);
  const summary = summarize(scope, sorted);
  const writer = timelineWriter(format, summary);
  const rows = new TimelineRows(writer);
  return writer.head() + sorted.map((r) => rows.row(r)).join('') + writer.tail();
}
