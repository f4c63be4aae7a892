import type { AnalysisResult } from './run-analysis.js';

/**
 * Why an analysis had no readable input at all, or undefined when it had some. Files that were recognised but gave
 * no evidence, while the reader reported problems with them (a truncated JSON file, a log whose every line is bad),
 * count as unreadable: the user gets exit 1 and the diagnostics, not "no restarts found". A readable input that
 * simply holds nothing (an empty event list) is not a failure, and neither is a partly readable one (its warnings
 * are shown, exit 0).
 */
export function noReadableInput(result: AnalysisResult): string | undefined {
  const { files, signals, diagnostics } = result.bundle.stats;
  const used = files.kubernetes + files.kubelet + files.kernel + files.containerLogs;
  if (used === 0) return 'no readable Kubernetes, kubelet or container log file in the input';
  const problems = diagnostics.error + diagnostics.warning;
  if (signals.total === 0 && problems > 0) {
    const first = result.diagnostics.find((d) => d.severity !== 'info');
    const where = first === undefined ? '' : ` (first: ${first.file ?? 'input'}${first.line === undefined ? '' : `:${first.line}`}: ${first.message})`;
    return `no readable evidence in the input: ${used} file(s) recognised, ${problems} problem(s) reported, no pod, event or log line usable${where}`;
  }
  return undefined;
}
