export { renderRecordsText, renderCauseSummary, renderRecommendations, wrapText, type TextOptions } from './text-report.js';
export { palette, type Palette } from './ansi.js';
export { incarnationRow, containerKey, recordKey, fmtSeconds, type IncarnationRow, type StepBar, type ProbeTick } from './timeline-model.js';
export { TimelineSummaryBuilder, compareRecords, workloadOf, type TimelineScope, type TimelineSummary, type OpenQuestion } from './timeline-summary.js';
export { timelineWriter, TimelineRows, summarize, renderTimeline, timelineFormats, timelineMedia, type TimelineFormat, type TimelineWriter } from './timeline-writer.js';
export { timelineInlineScript } from './timeline-html.js';
export { svgRow, svgAxis, svgDefs, timelineCss, esc as escapeXml, type RowScale } from './svg-timeline.js';
export { csvField } from './timeline-csv.js';
export { streamTimeline, scopeFilter, inScope, type ScopeFilter, type TimelineStreamOptions } from './timeline-stream.js';
