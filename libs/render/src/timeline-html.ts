import type { RestartRecord } from '@killtrace/schemas';
import { esc, svgAxis, svgDefs, svgRow, timelineCss, type RowScale } from './svg-timeline.js';
import { fmtSeconds, incarnationRow, recordKey } from './timeline-model.js';
import type { TimelineSummary } from './timeline-summary.js';
import { CAUSE_LABEL, impactRows, rootCause, scopeRange, scopeTitle, startupProbeYaml, summarySentence, utc } from './timeline-text.js';
import type { TimelineWriter } from './timeline-writer.js';

const pageCss = `
* { box-sizing: border-box; }
body { margin: 0; background: var(--kt-bg); color: var(--kt-fg); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1400px; margin: 0 auto; padding: 24px 28px 40px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; } h3 { font-size: 15px; margin: 0 0 4px; }
.kt-sub { color: var(--kt-muted); margin: 0 0 12px; }
.kt-facts { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.4fr); gap: 24px; align-items: start; }
table { border-collapse: collapse; font-size: 14px; }
th, td { text-align: left; vertical-align: top; padding: 3px 12px 3px 0; border-bottom: 1px solid var(--kt-border); }
th { color: var(--kt-muted); font-weight: 600; }
.kt-legend { display: flex; flex-wrap: wrap; gap: 16px; font-size: 13px; color: var(--kt-muted); margin: 8px 0 4px; }
.kt-legend span::before { content: ""; display: inline-block; width: 14px; height: 10px; margin-right: 6px; vertical-align: -1px; border-radius: 2px; }
.kt-l-step::before { background: var(--kt-step); } .kt-l-killed::before { background: var(--kt-killed); }
.kt-l-probe::before { background: var(--kt-probe); width: 3px !important; height: 14px !important; }
.kt-l-budget::before { background: var(--kt-budget); outline: 1px dashed var(--kt-budget-stroke); }
.kt-l-kill::before { background: var(--kt-kill); width: 3px !important; height: 14px !important; }
.kt-l-backoff::before { background: repeating-linear-gradient(45deg, var(--kt-hatch) 0 2px, var(--kt-hatch-bg) 2px 5px); }
.kt-rows { margin-top: 4px; }
.kt-row { display: grid; grid-template-columns: minmax(0, 2.6fr) minmax(0, 1fr); gap: 20px; padding: 6px 0; border-top: 1px solid var(--kt-border); break-inside: avoid; page-break-inside: avoid; }
.kt-row svg, .kt-axis-wrap svg { width: 100%; height: auto; display: block; }
.kt-axis-wrap { display: grid; grid-template-columns: minmax(0, 2.6fr) minmax(0, 1fr); gap: 20px; }
.kt-text { font-size: 13px; }
.kt-text p { margin: 2px 0 4px; }
.kt-text h3 { font-size: 14px; }
.kt-facts-line { color: var(--kt-muted); }
.kt-last code { font-size: 12px; word-break: break-all; }
.kt-text details summary { cursor: pointer; color: var(--kt-muted); }
.kt-text table { font-size: 12px; }
pre { background: var(--kt-card); border: 1px solid var(--kt-border); border-radius: 6px; padding: 10px 12px; overflow-x: auto; font-size: 13px; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; }
.kt-q li { margin-bottom: 4px; }
@media (max-width: 900px) { .kt-row, .kt-axis-wrap, .kt-facts { grid-template-columns: 1fr; } }
@page { size: A4; margin: 12mm; }
@media print {
  body { font-size: 11px; background: #fff; }
  main { padding: 0; max-width: none; }
  .kt-row, .kt-axis-wrap, .kt-facts { grid-template-columns: 1fr; gap: 2px; }
  h2 { break-after: avoid; }
  pre { white-space: pre-wrap; }
}
`;

// Adds the viewer's local time to every hover title; without scripts the titles still carry UTC.
export const timelineInlineScript = `document.querySelectorAll('[data-at]').forEach(function (el) {
  var t = el.querySelector('title'); var d = new Date(el.getAttribute('data-at'));
  if (t && !isNaN(d)) t.textContent += ' (local ' + d.toLocaleString() + ')';
});
window.addEventListener('beforeprint', function () { document.querySelectorAll('details').forEach(function (d) { d.open = true; }); });`;

/** One self-contained HTML file: summary, the SVG timeline with each record's text beside its row, recommendation. */
export function htmlWriter(summary: TimelineSummary): TimelineWriter {
  const scale: RowScale = { spanMs: Math.max(10_000, summary.maxSpanMs * 1.04), maxBackoffMs: summary.maxBackoffMs };
  const showPod = summary.pods > 1;
  return {
    head() {
      const title = `Restart timeline: ${scopeTitle(summary.scope, summary)}`;
      const range = scopeRange(summary.scope);
      const impact = impactRows(summary).map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(v)}</td></tr>`).join('');
      return (
        `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
        `<meta name="color-scheme" content="light dark"><title>${esc(title)}</title><style>${timelineCss}${pageCss}</style></head>\n<body><main>` +
        svgDefs() +
        `<h1>${esc(title)}</h1><p class="kt-sub">${esc(summarySentence(summary))}${range ? ` Time range: ${esc(range)}.` : ''}</p>` +
        `<section class="kt-facts"><div><h2>Impact</h2><table class="kt-impact"><tbody>${impact}</tbody></table></div>` +
        `<div><h2>Root cause</h2><p class="kt-root">${esc(rootCause(summary))}</p></div></section>` +
        `<h2>Timeline</h2>` +
        `<div class="kt-legend" aria-label="Legend"><span class="kt-l-step">init step</span><span class="kt-l-killed">step interrupted by the kill</span>` +
        `<span class="kt-l-probe">probe failure</span><span class="kt-l-budget">probe budget (failureThreshold × period)</span>` +
        `<span class="kt-l-kill">kill decision</span><span class="kt-l-backoff">back-off (own scale)</span></div>` +
        `<div class="kt-axis-wrap">${svgAxis(scale)}<div></div></div><div class="kt-rows">\n`
      );
    },
    row(record: RestartRecord, previous?: RestartRecord) {
      const row = incarnationRow(record, previous);
      const kt = record.killtrace;
      const evidence = kt.timeline
        .map((e) => `<tr><td>${esc(e.at.slice(11, 23))}</td><td>${esc(e.source)}</td><td>${esc(e.text)}</td></tr>`)
        .join('');
      return (
        `<article class="kt-row" id="r-${esc(recordKey(record).replace(/[^A-Za-z0-9_-]/g, '-'))}" data-record-id="${esc(recordKey(record))}">` +
        `<div>${svgRow(row, scale, { showPod })}</div>` +
        `<div class="kt-text"><h3>${esc(`#${kt.restart.count} ${CAUSE_LABEL[kt.cause]}${kt.during_init ? ' during init' : ''}`)}</h3>` +
        `<p class="kt-facts-line">${esc(factsLine(record))}</p>` +
        (kt.log.last_line !== null ? `<p class="kt-last">last line: <code>${esc(truncate(kt.log.last_line, 160))}</code></p>` : '') +
        `<details><summary>Explanation and evidence (${kt.timeline.length})</summary><p>${esc(messageWithoutRecommendation(record))}</p>` +
        `<table><thead><tr><th>UTC</th><th>source</th><th>evidence</th></tr></thead><tbody>${evidence}</tbody></table></details>` +
        `</div></article>\n`
      );
    },
    tail() {
      const r = summary.representative;
      const parts = ['</div><h2>Recommendation</h2>'];
      if (!r) {
        parts.push('<p>Nothing to change.</p>');
      } else {
        const rec = r.killtrace.recommendation;
        parts.push(`<p class="kt-rec">${esc(rec.text)}</p>`);
        const yaml = startupProbeYaml(r);
        if (yaml) parts.push(`<pre><code>${esc(yaml)}</code></pre>`);
        if (rec.basis) parts.push(`<p class="kt-sub">Basis: ${esc(rec.basis)}.</p>`);
        if (rec.what_if) parts.push(`<p class="kt-sub">What if: ${esc(rec.what_if.text)}</p>`);
      }
      if (summary.openQuestions.length > 0) {
        parts.push('<h2>Open questions</h2><ul class="kt-q">');
        for (const q of summary.openQuestions) parts.push(`<li>${esc(`${q.pod} restart ${q.restart}: ${q.cause}, confidence ${q.confidence}: ${q.reasoning}`)}</li>`);
        if (summary.openQuestionsOmitted > 0) parts.push(`<li>… and ${summary.openQuestionsOmitted} more with confidence below high.</li>`);
        parts.push('</ul>');
      }
      parts.push(`</main><script>${timelineInlineScript}</script></body></html>\n`);
      return parts.join('');
    },
  };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** One line of the facts a reader scans first: when, how sure, where, how long it ran, which step it was in. */
function factsLine(record: RestartRecord): string {
  const kt = record.killtrace;
  return [
    `${record.kubernetes.pod.name}/${record.kubernetes.container.name}`,
    utc(record['@timestamp']),
    `confidence ${kt.confidence}`,
    record.kubernetes.node.name ? `node ${record.kubernetes.node.name}` : undefined,
    kt.uptime_seconds !== null ? `up ${fmtSeconds(kt.uptime_seconds)}` : undefined,
    kt.init.step !== null ? `in step ${kt.init.step}${kt.init.step_elapsed_seconds !== null ? ` for ${fmtSeconds(kt.init.step_elapsed_seconds)}` : ''}` : undefined,
    kt.exit_code !== null ? `exit ${kt.exit_code}` : undefined,
  ]
    .filter((x): x is string => x !== undefined)
    .join(' · ');
}

function messageWithoutRecommendation(record: RestartRecord): string {
  const rec = record.killtrace.recommendation.text;
  return record.message.endsWith(rec) ? record.message.slice(0, record.message.length - rec.length).trimEnd() : record.message;
}
