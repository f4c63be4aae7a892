import type { Diagnostic } from '@killtrace/schemas';
import { palette } from '@killtrace/render';
import type { AnalysisResult } from './run-analysis.js';

const SHOWN_DIAGNOSTICS = 20;

/** The "what was read" block: files, lines, signals, records, and what could not be used (file:line). */
export function renderReadSummary(result: AnalysisResult, color: boolean): string {
  const p = palette(color);
  const { stats } = result.bundle;
  const f = stats.files;
  const lines: string[] = [];
  lines.push(
    p.bold('Read: ') +
      `${f.kubernetes + f.kubelet + f.kernel + f.containerLogs} file(s) (${f.kubernetes} Kubernetes JSON, ${f.kubelet} kubelet journal, ${f.kernel > 0 ? `${f.kernel} kernel log, ` : ''}${f.containerLogs} container log)` +
      (f.skipped > 0 ? `, ${f.skipped} skipped` : '') +
      `; ${stats.lines.toLocaleString('en-US')} lines, ${(stats.bytes / 1024 / 1024).toFixed(1)} MB in ${(stats.durationMs / 1000).toFixed(1)} s.`,
  );
  lines.push(
    p.bold('Evidence: ') +
      `${stats.signals.pod} pod(s), ${stats.signals.event} event(s), ${stats.signals.kubelet} kubelet line(s), ${stats.signals.kernel_oom > 0 ? `${stats.signals.kernel_oom} kernel OOM kill(s), ` : ''}${stats.signals.app_log.toLocaleString('en-US')} application log line(s); ` +
      `${result.records.length} restart record(s).`,
  );
  const unexplained = result.gaps.reduce((n, g) => n + g.terminations - g.explained, 0);
  if (unexplained > 0) {
    lines.push(
      p.yellow(
        result.gaps.every((g) => g.countedBy === 'kill_events')
          ? `Not explained: ${unexplained} kill(s) counted by aggregated Killing events between their first and last occurrence have no time of their own in the input (only the first and the last have records):`
          : `Not explained: ${unexplained} older restart(s) counted by the pod status${result.gaps.some((g) => g.countedBy === 'kill_events') ? ' or by aggregated Killing events' : ''} left too little evidence in the input (their log files are rotated away, and no journal line or event names them):`,
      ),
    );
    for (const g of result.gaps.slice(0, 5)) lines.push(`  ${g.namespace}/${g.pod} · ${g.container}: ${g.explained} of ${g.terminations} restart(s) explained`);
    if (result.gaps.length > 5) lines.push(p.dim(`  … and ${result.gaps.length - 5} more container(s)`));
    lines.push(p.dim('  A kubelet journal covering those times (journalctl -u kubelet) explains kills; an exit by the application keeps only its exit status, and Kubernetes keeps that for the last one.'));
  }
  const { unmatched, outsidePods } = result.kernelOoms;
  if (unmatched.length > 0) {
    lines.push(p.yellow(`Kernel OOM kills not tied to a restart: ${unmatched.length}:`));
    for (const u of unmatched.slice(0, 5)) {
      const why = u.reason === 'pod_unknown' ? 'no pod with this uid in the input (add pods.json, events or its /var/log/pods directory)' : 'its container or incarnation is not identifiable from the input';
      lines.push(`  ${new Date(u.at).toISOString()} ${u.process} in pod uid ${u.podUid ?? '?'}${u.containerId ? ` container ${u.containerId.slice(0, 12)}` : ''}: ${why}`);
    }
    if (unmatched.length > 5) lines.push(p.dim(`  … and ${unmatched.length - 5} more`));
  }
  if (outsidePods > 0) lines.push(p.dim(`${outsidePods} kernel OOM kill(s) outside any pod (system services) were read and not counted as restarts.`));
  const notes = result.bundle.notes;
  if (notes.length > 0) {
    lines.push(p.bold('Notes about the input:'));
    for (const n of notes) lines.push(`  ${n.text}`);
  }
  const reference = result.bundle.reference;
  if (f.kubelet > 0 && reference.basis !== 'pods-events' && reference.basis !== 'option') {
    lines.push(p.yellow(`Kubelet journal timestamps have no year: assumed ${reference.year} (${reference.basis}); pass --year to set it.`));
  }
  const d = stats.diagnostics;
  const total = d.error + d.warning + d.info;
  if (d.error + d.warning > 0) {
    lines.push(p.bold('Could not use: ') + `${d.error} error(s), ${d.warning} warning(s), ${d.info} note(s)`);
    for (const diagnostic of result.diagnostics.filter((x) => x.severity !== 'info').slice(0, SHOWN_DIAGNOSTICS)) lines.push(`  ${formatDiagnostic(diagnostic)}`);
    const hidden = result.diagnostics.filter((x) => x.severity !== 'info').length - SHOWN_DIAGNOSTICS + result.diagnosticsDropped;
    if (hidden > 0) lines.push(p.dim(`  … and ${hidden} more (use --output json to see them all)`));
  } else if (total > 0) {
    lines.push(p.dim(`${d.info} note(s) about the input (use --output json to see them).`));
  }
  return lines.join('\n');
}

/** `file:line: severity CODE message`. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.file ? `${d.file}${d.line !== undefined ? `:${d.line}` : d.offset !== undefined ? ` @${d.offset}` : ''}: ` : '';
  return `${where}${d.severity} ${d.code} ${d.message}`;
}
