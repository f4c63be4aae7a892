import type { RestartRecord } from '@killtrace/schemas';
import { incarnationRow, recordKey, type IncarnationRow } from './timeline-model.js';
import type { TimelineSummary } from './timeline-summary.js';
import type { TimelineWriter } from './timeline-writer.js';

/** The JSON document: `{ summary, incarnations: [{ id, record, row }] }`, written as a stream of array items. */
export function jsonWriter(summary: TimelineSummary): TimelineWriter {
  let first = true;
  const { representative: _omit, ...totals } = summary;
  return {
    head: () => `{"summary":${JSON.stringify(totals)},"incarnations":[\n`,
    row(record: RestartRecord, previous?: RestartRecord) {
      const row: IncarnationRow = incarnationRow(record, previous);
      const item = JSON.stringify({ id: recordKey(record), record, row });
      const out = `${first ? '' : ',\n'}${item}`;
      first = false;
      return out;
    },
    tail: () => '\n]}\n',
  };
}
