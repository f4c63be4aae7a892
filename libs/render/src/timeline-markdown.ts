import type { RestartRecord } from '@killtrace/schemas';
import type { TimelineSummary } from './timeline-summary.js';
import { impactRows, rootCause, scopeRange, scopeTitle, startupProbeYaml, summarySentence, utc } from './timeline-text.js';
import type { TimelineWriter } from './timeline-writer.js';

/** Escapes a table cell: pipes and line breaks would end the cell or the row. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A Markdown postmortem section: summary, impact, root cause, the evidence table (streamed), recommendation, open questions. */
export function markdownWriter(summary: TimelineSummary): TimelineWriter {
  const multiPod = summary.pods > 1;
  return {
    head() {
      const lines = [`# Restart timeline: ${scopeTitle(summary.scope, summary)}`, ''];
      const range = scopeRange(summary.scope);
      if (range) lines.push(`Time range: ${range}.`, '');
      lines.push('## Summary', '', summarySentence(summary), '', '## Impact', '', '| | |', '| --- | --- |');
      for (const [k, v] of impactRows(summary)) lines.push(`| ${k} | ${cell(v)} |`);
      lines.push('', '## Root cause', '', rootCause(summary), '', '## Evidence timeline', '');
      if (summary.restarts === 0) return `${lines.join('\n')}\nNo evidence.\n`;
      lines.push(`| Time (UTC) | ${multiPod ? 'Pod · restart' : 'Restart'} | Source | Evidence |`, '| --- | --- | --- | --- |');
      return `${lines.join('\n')}\n`;
    },
    row(record: RestartRecord) {
      const who = multiPod ? `${record.kubernetes.pod.name} · ${record.killtrace.restart.count}` : String(record.killtrace.restart.count);
      return record.killtrace.timeline
        .map((e) => `| ${utc(e.at).replace(' UTC', '')} | ${cell(who)} | ${e.source} | ${cell(e.source === 'inference' ? `**${e.text}**` : e.text)} |\n`)
        .join('');
    },
    tail() {
      const lines = ['', '## Recommendation', ''];
      const r = summary.representative;
      if (!r) {
        lines.push('Nothing to change.');
      } else {
        const rec = r.killtrace.recommendation;
        lines.push(rec.text, '');
        const yaml = startupProbeYaml(r);
        if (yaml) lines.push('```yaml', yaml, '```', '');
        if (rec.basis) lines.push(`Basis: ${rec.basis}.`, '');
        if (rec.what_if) lines.push(`What if: ${rec.what_if.text}`, '');
      }
      if (summary.openQuestions.length > 0) {
        lines.push('## Open questions', '', 'Killtrace is not sure about these restarts; check them before you write the conclusion:', '');
        for (const q of summary.openQuestions) lines.push(`- ${q.pod} restart ${q.restart} (\`${q.id}\`): ${q.cause}, confidence ${q.confidence}: ${q.reasoning}`);
        if (summary.openQuestionsOmitted > 0) lines.push(`- … and ${summary.openQuestionsOmitted} more with confidence below high.`);
        lines.push('');
      }
      return `${lines.join('\n')}`;
    },
  };
}
