export { renderRecordsText, renderCauseSummary, renderRecommendations, wrapText, type TextOptions } from './text-report.js';
export { palette, type Palette } from './ansi.js';
