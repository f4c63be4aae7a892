import { looksLikeKlog, parseCriLine, parseKlogHeader } from '@killtrace/parsers';

/** What a file holds, decided from its first bytes. */
export type SniffedType = 'kubernetes-json' | 'kubelet-journal' | 'kernel-log' | 'cri-log' | 'kubectl-logs' | 'binary' | 'empty' | 'unknown';

const JOURNAL_SHORT = /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ [^\s:]+: /;
const JOURNAL_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S* \S+ [^\s:]+: /;
/** The syslog identifier of a `short*` journal line. */
const JOURNAL_IDENT = /^(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S*) \S+ ([^\s:[]+)(?:\[\d+\])?: /;
/** `dmesg -T` (`[Tue Dec  1 08:12:03 2026] `) or plain `dmesg` (`[ 8123.456789] `). */
const DMESG = /^\[(?:[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]?\d \d\d:\d\d:\d\d \d{4}| *\d+\.\d+)\] /;
/** Kernel OOM-killer text without any prefix (`journalctl -k -o cat`). */
const OOM_TEXT = /invoked oom-killer: |^oom-kill:constraint=|Killed process \d+ \(/;
/** `kubectl logs --timestamps`: an RFC 3339 time (`.` fraction), a space, the text (no stream or P/F tag). */
const KUBECTL_LOG = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d) /;
const KUBERNETES_KEY = /"(?:kind|type|apiVersion|metadata|involvedObject|regarding|items)"\s*:/;

/**
 * Classifies a file by content: Kubernetes JSON (`{` / `[` with Kubernetes keys), a journal (`-o json` entries,
 * `short*` prefixes, or bare klog lines as `-o cat` writes), CRI log lines, binary (NUL bytes), empty, or unknown.
 * `head` is the (decompressed) start of the file.
 */
export function sniffContent(head: Buffer): SniffedType {
  if (head.length === 0) return 'empty';
  if (head.includes(0)) return 'binary';
  const text = head.toString('utf8').replace(/^\ufeff/, '');
  const trimmed = text.trimStart();
  if (trimmed.length === 0) return 'empty';
  const lines = text.split('\n', 50);
  // A complete last line is not guaranteed: ignore the last one when the head was cut.
  if (lines.length > 1) lines.pop();
  if (DMESG.test(trimmed)) return 'kernel-log';
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const firstLine = trimmed.split('\n', 1)[0] ?? '';
    try {
      const entry = JSON.parse(firstLine) as Record<string, unknown>;
      if (entry && typeof entry === 'object' && ('MESSAGE' in entry || '__REALTIME_TIMESTAMP' in entry)) {
        return entry._TRANSPORT === 'kernel' || entry.SYSLOG_IDENTIFIER === 'kernel' ? 'kernel-log' : 'kubelet-journal';
      }
    } catch {
      // a pretty-printed or huge value: not a journal entry
    }
    return KUBERNETES_KEY.test(text) ? 'kubernetes-json' : 'unknown';
  }
  const nonEmpty = lines.map((l) => l.replace(/\r$/, '')).filter((l) => l.length > 0);
  const first = nonEmpty[0] ?? trimmed;
  if (nonEmpty.slice(0, 5).some((l) => parseCriLine(l) !== undefined) || (nonEmpty.length === 0 && parseCriLine(first) !== undefined)) return 'cri-log';
  // A journal of the kernel alone (`journalctl -k`), or dmesg: read for OOM-killer lines. A journal mixing the
  // kubelet and the kernel stays a kubelet journal (its kernel lines are read too, see read-bundle.ts).
  const head20 = nonEmpty.slice(0, 20).filter((l) => !l.startsWith('-- '));
  if (head20.length > 0 && head20.every((l) => DMESG.test(l) || JOURNAL_IDENT.exec(l)?.[1] === 'kernel')) return 'kernel-log';
  const prefixed = (l: string): boolean => JOURNAL_SHORT.test(l) || JOURNAL_ISO.test(l) || (looksLikeKlog(l) && parseKlogHeader(l) !== undefined);
  if (nonEmpty.some((l) => OOM_TEXT.test(l)) && !nonEmpty.some(prefixed)) return 'kernel-log';
  for (const line of nonEmpty.slice(0, 20)) {
    if (JOURNAL_SHORT.test(line) || JOURNAL_ISO.test(line) || line.startsWith('-- Logs begin') || line.startsWith('-- Journal begins')) return 'kubelet-journal';
    if (looksLikeKlog(line) && parseKlogHeader(line) !== undefined) return 'kubelet-journal';
  }
  if (nonEmpty.length > 0 && nonEmpty.slice(0, 5).every((l) => KUBECTL_LOG.test(l))) return 'kubectl-logs';
  return 'unknown';
}
