import type { Cause } from '@killtrace/schemas';
import { fmtSeconds, type IncarnationRow } from './timeline-model.js';
import { clock } from './timeline-text.js';

/**
 * The SVG of a crash loop: one small SVG per incarnation (so a long timeline streams and prints without cut rows),
 * all on one scale, in seconds since that incarnation's container started. Colours come from CSS classes
 * (`timelineCss`), so the same drawing follows the light or dark theme.
 */

export const VIEW_WIDTH = 820;
const LABEL_X = 6;
const LANE_X0 = 150;
const LANE_X1 = 226;
const PLOT_X0 = 240;
const PLOT_X1 = 806;
const ROW_HEIGHT = 92;

/** The common scale of a document's rows. */
export interface RowScale {
  /** Milliseconds shown on the plot (the longest incarnation plus a margin). */
  spanMs: number;
  /** Longest back-off gap (the lane's own scale); 0 when none is known. */
  maxBackoffMs: number;
}

/** XML-escapes text for element content and attribute values. */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const r1 = (n: number): string => (Math.round(n * 10) / 10).toString();

function xOf(scale: RowScale, ms: number): number {
  const clamped = Math.max(0, Math.min(ms, scale.spanMs));
  return PLOT_X0 + (clamped / scale.spanMs) * (PLOT_X1 - PLOT_X0);
}

/** A tick step giving at most ~10 ticks over the span. */
export function tickStep(spanMs: number): number {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400].map((s) => s * 1000);
  return steps.find((s) => spanMs / s <= 10) ?? 86400000 * Math.ceil(spanMs / 86400000 / 10);
}

/** `<title>` text with the absolute UTC time; the page's script adds local time on hover from `data-at`. */
function titled(text: string, atEpoch: number | null): string {
  return `<title>${esc(text)}${atEpoch !== null ? ` · ${esc(new Date(atEpoch).toISOString())}` : ''}</title>`;
}

const dataAt = (epoch: number | null): string => (epoch === null ? '' : ` data-at="${new Date(epoch).toISOString()}"`);

/** Pattern definitions the rows refer to; once per document. */
export function svgDefs(): string {
  return (
    '<svg class="kt-defs" width="0" height="0" aria-hidden="true" focusable="false"><defs>' +
    '<pattern id="kt-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" class="kt-hatch-bg"/><line x1="0" y1="0" x2="0" y2="6" class="kt-hatch-line"/></pattern>' +
    '</defs></svg>'
  );
}

/** The axis above the rows: seconds since start, with the back-off lane's legend. */
export function svgAxis(scale: RowScale): string {
  const step = tickStep(scale.spanMs);
  const ticks: string[] = [];
  for (let t = 0; t <= scale.spanMs + 1; t += step) {
    const x = r1(xOf(scale, t));
    ticks.push(`<line x1="${x}" y1="34" x2="${x}" y2="42" class="kt-axis"/><text x="${x}" y="30" text-anchor="middle" class="kt-small">${esc(fmtSeconds(t / 1000))}</text>`);
  }
  const lane = scale.maxBackoffMs > 0 ? `≤ ${fmtSeconds(scale.maxBackoffMs / 1000)}` : '';
  return (
    `<svg class="kt-axis-svg" viewBox="0 0 ${VIEW_WIDTH} 46" role="img" aria-label="Time axis: seconds since each incarnation started">` +
    `<text x="${LABEL_X}" y="14" class="kt-small kt-muted">restart · start (UTC)</text>` +
    `<text x="${LANE_X1}" y="14" text-anchor="end" class="kt-small kt-muted">back-off</text>` +
    `<text x="${LANE_X1}" y="30" text-anchor="end" class="kt-small kt-muted">${esc(lane)}</text>` +
    `<text x="${PLOT_X0}" y="14" class="kt-small kt-muted">time since the container started →</text>` +
    `<line x1="${PLOT_X0}" y1="42" x2="${PLOT_X1}" y2="42" class="kt-axis"/>${ticks.join('')}</svg>`
  );
}

const CAUSE_SHORT: Record<Cause, string> = {
  liveness_probe: 'liveness probe',
  startup_probe: 'startup probe',
  oom_killed: 'OOM killed',
  evicted: 'evicted',
  preempted: 'preempted',
  app_exit: 'app exit',
  stopped: 'stopped (API)',
  node_shutdown: 'node shutdown',
  unknown: 'unknown',
};

/** Roughly how wide text is at the drawing's 12px font (no font metrics without a browser). */
const textWidth = (text: string, px = 12): number => text.length * px * 0.56;

function truncateTo(text: string, width: number, px = 12): string {
  const max = Math.floor(width / (px * 0.56));
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}

/** One incarnation's row. */
export function svgRow(row: IncarnationRow, scale: RowScale, options: { showPod: boolean }): string {
  const parts: string[] = [];
  const abs = (rel: number): number => row.startedAt + rel;
  const label = `Restart ${row.restart} of ${row.namespace}/${row.pod} ${row.container}: ${CAUSE_SHORT[row.cause]}${row.duringInit ? ' during init' : ''}`;
  parts.push(`<svg class="kt-row-svg" viewBox="0 0 ${VIEW_WIDTH} ${ROW_HEIGHT}" role="img" aria-label="${esc(label)}" data-restart="${row.restart}">`);
  // Label column.
  parts.push(`<text x="${LABEL_X}" y="26" class="kt-row-title">#${row.restart}</text>`);
  parts.push(`<text x="${LABEL_X + 40}" y="26" class="kt-small"${dataAt(row.startedAt)}>${titled('started', row.startedAt)}${esc(row.startKnown ? clock(row.startedAt) : `~${clock(row.startedAt)}`)}</text>`);
  parts.push(`<text x="${LABEL_X}" y="46" class="kt-small kt-cause-${row.cause}">${esc(CAUSE_SHORT[row.cause])}${row.duringInit ? ' · init' : ''}</text>`);
  parts.push(`<text x="${LABEL_X}" y="64" class="kt-small kt-muted">${esc(truncateTo(options.showPod ? row.pod : `confidence ${row.confidence}`, LANE_X0 - LABEL_X - 8, 11))}</text>`);
  // Back-off lane (its own scale: gaps grow to minutes while incarnations last seconds).
  if (row.backoffMs !== null && scale.maxBackoffMs > 0) {
    const w = Math.max(3, ((LANE_X1 - LANE_X0) * row.backoffMs) / scale.maxBackoffMs);
    parts.push(
      `<g class="kt-backoff"${dataAt(row.startedAt - row.backoffMs)}>${titled(`back-off ${fmtSeconds(row.backoffMs / 1000)} before restart ${row.restart}`, row.startedAt - row.backoffMs)}` +
        `<rect x="${r1(LANE_X1 - w)}" y="30" width="${r1(w)}" height="16" fill="url(#kt-hatch)" class="kt-backoff-bar"/>` +
        `<text x="${LANE_X1}" y="62" text-anchor="end" class="kt-small kt-muted">back-off ${esc(fmtSeconds(row.backoffMs / 1000))}</text></g>`,
    );
  }
  if (row.backoffMs === null) parts.push(`<text x="${LANE_X1}" y="42" text-anchor="end" class="kt-small kt-muted">${row.startKnown ? 'first seen' : ''}</text>`);
  // Grid.
  const step = tickStep(scale.spanMs);
  for (let t = 0; t <= scale.spanMs + 1; t += step) {
    const x = r1(xOf(scale, t));
    parts.push(`<line x1="${x}" y1="8" x2="${x}" y2="70" class="kt-grid"/>`);
  }
  // Budget window behind everything else, its label above it.
  if (row.budget) {
    const x0 = xOf(scale, row.budget.fromMs);
    const x1 = xOf(scale, row.budget.toMs);
    parts.push(
      `<g class="kt-budget"${dataAt(abs(row.budget.fromMs))}>${titled(`${row.budget.label}: the probe tolerates this long without an answer`, abs(row.budget.fromMs))}` +
        `<rect x="${r1(x0)}" y="22" width="${r1(Math.max(1, x1 - x0))}" height="48" class="kt-budget-rect"/>` +
        `<text x="${r1(x1 - 8)}" y="17" text-anchor="end" class="kt-small kt-budget-text">${esc(row.budget.label)}</text></g>`,
    );
  }
  // The incarnation's life.
  const lifeEnd = row.endMs ?? row.killMs ?? row.spanMs;
  parts.push(`<rect x="${PLOT_X0}" y="33" width="${r1(Math.max(1, xOf(scale, lifeEnd) - PLOT_X0))}" height="6" rx="3" class="kt-life"><title>${esc(`up ${fmtSeconds(lifeEnd / 1000)}`)}</title></rect>`);
  // Steps.
  for (const s of row.steps) {
    const x0 = xOf(scale, s.fromMs);
    const x1 = xOf(scale, s.toMs);
    const w = Math.max(2, x1 - x0);
    const dur = fmtSeconds((s.toMs - s.fromMs) / 1000);
    const text = s.completed ? `${s.name} ${dur}` : `${s.name} ${dur} (killed)`;
    const inside = textWidth(text) + 8 <= w ? text : textWidth(s.name) + 8 <= w ? s.name : '';
    parts.push(
      `<g class="kt-step ${s.completed ? 'kt-step-done' : 'kt-step-killed'}" data-step="${esc(s.name)}"${dataAt(abs(s.fromMs))}>${titled(`step ${s.name}: ${dur}${s.completed ? '' : ', interrupted by the kill'}`, abs(s.fromMs))}` +
        `<rect x="${r1(x0)}" y="26" width="${r1(w)}" height="20" rx="3" class="kt-step-rect"/>` +
        (inside
          ? `<text x="${r1(x0 + 5)}" y="40" class="kt-step-text">${esc(inside)}</text>`
          : `<text x="${r1(x0)}" y="21" class="kt-small kt-step-over">${esc(`${s.name} ${dur}`)}</text>`) +
        `</g>`,
    );
  }
  // Probe failures.
  for (const p of row.probeFailures) {
    const x = r1(xOf(scale, p.atMs));
    parts.push(
      `<g class="kt-probe-failure"${dataAt(abs(p.atMs))}>${titled(p.text, abs(p.atMs))}<line x1="${x}" y1="50" x2="${x}" y2="64" class="kt-probe-line"/><circle cx="${x}" cy="50" r="3" class="kt-probe-dot"/></g>`,
    );
  }
  // Kill decision and end.
  if (row.killMs !== null && row.killedAt !== null) {
    const x = xOf(scale, row.killMs);
    const text = `killed ${clock(row.killedAt)}`;
    const anchorEnd = x + textWidth(text) > PLOT_X1 + 10;
    parts.push(
      `<g class="kt-kill"${dataAt(row.killedAt)}>${titled(`kill decision (${CAUSE_SHORT[row.cause]})`, row.killedAt)}` +
        `<line x1="${r1(x)}" y1="6" x2="${r1(x)}" y2="72" class="kt-kill-line"/>` +
        `<path d="M${r1(x - 5)} 1 L${r1(x + 5)} 1 L${r1(x)} 8 Z" class="kt-kill-head"/>` +
        `<text x="${r1(anchorEnd ? x - 4 : x + 4)}" y="84" ${anchorEnd ? 'text-anchor="end" ' : ''}class="kt-small kt-kill-text">${esc(text)}</text></g>`,
    );
  }
  if (row.endMs !== null && row.finishedAt !== null) {
    const x = xOf(scale, row.endMs);
    parts.push(`<g class="kt-end"${dataAt(row.finishedAt)}>${titled(`container ended after ${fmtSeconds(row.endMs / 1000)}`, row.finishedAt)}<rect x="${r1(x - 1.5)}" y="24" width="3" height="24" class="kt-end-mark"/></g>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

/** The drawing's styles, light by default and dark under `prefers-color-scheme: dark`. */
export const timelineCss = `
:root { --kt-bg:#ffffff; --kt-fg:#1f2328; --kt-muted:#59636e; --kt-grid:#e3e7eb; --kt-axis:#8c959f; --kt-life:#d0d7de;
  --kt-step:#2f6db3; --kt-step-text:#ffffff; --kt-killed:#c4581a; --kt-probe:#b42318; --kt-budget:#fff3c4; --kt-budget-stroke:#b88600;
  --kt-budget-text:#7a5a00; --kt-kill:#a1001f; --kt-end:#1f2328; --kt-hatch-bg:#f2f4f6; --kt-hatch:#8c959f; --kt-card:#f6f8fa; --kt-border:#d0d7de; }
@media (prefers-color-scheme: dark) {
  :root { --kt-bg:#0d1117; --kt-fg:#e6edf3; --kt-muted:#9da7b3; --kt-grid:#21262d; --kt-axis:#6e7681; --kt-life:#30363d;
    --kt-step:#4c8fdb; --kt-step-text:#0d1117; --kt-killed:#f0883e; --kt-probe:#ff7b72; --kt-budget:#3b2e0a; --kt-budget-stroke:#d29922;
    --kt-budget-text:#e3b341; --kt-kill:#ff6b81; --kt-end:#e6edf3; --kt-hatch-bg:#161b22; --kt-hatch:#6e7681; --kt-card:#161b22; --kt-border:#30363d; }
}
svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; fill: var(--kt-fg); }
.kt-small { font-size: 12px; }
.kt-muted { fill: var(--kt-muted); }
.kt-row-title { font-size: 16px; font-weight: 700; }
.kt-axis { stroke: var(--kt-axis); stroke-width: 1; }
.kt-grid { stroke: var(--kt-grid); stroke-width: 1; }
.kt-life { fill: var(--kt-life); }
.kt-step-done .kt-step-rect { fill: var(--kt-step); }
.kt-step-killed .kt-step-rect { fill: var(--kt-killed); }
.kt-step-over { fill: var(--kt-fg); }
.kt-step-text { font-size: 12px; fill: var(--kt-step-text); font-weight: 600; }
.kt-probe-line { stroke: var(--kt-probe); stroke-width: 2; }
.kt-probe-dot { fill: var(--kt-probe); }
.kt-budget-rect { fill: var(--kt-budget); stroke: var(--kt-budget-stroke); stroke-dasharray: 4 3; }
.kt-budget-text { fill: var(--kt-budget-text); }
.kt-kill-line { stroke: var(--kt-kill); stroke-width: 2.5; }
.kt-kill-head { fill: var(--kt-kill); }
.kt-kill-text { fill: var(--kt-kill); font-weight: 700; }
.kt-end-mark { fill: var(--kt-end); }
.kt-hatch-bg { fill: var(--kt-hatch-bg); }
.kt-hatch-line { stroke: var(--kt-hatch); stroke-width: 2; }
.kt-backoff-bar { stroke: var(--kt-hatch); stroke-width: 1; }
.kt-cause-liveness_probe, .kt-cause-startup_probe, .kt-cause-oom_killed { fill: var(--kt-kill); font-weight: 600; }
.kt-defs { position: absolute; }
svg:focus-visible, g:focus-visible { outline: 2px solid var(--kt-step); }
`;
