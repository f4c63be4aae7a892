import { looksLikeKlog, parseCriLine, parseKlogHeader } from '@killtrace/parsers';

/** What a file holds, decided from its first bytes. */
export type SniffedType = 'kubernetes-json' | 'kubelet-journal' | 'cri-log' | 'binary' | 'empty' | 'unknown';

const JOURNAL_SHORT = /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ [^\s:]+: /;
const JOURNAL_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S* \S+ [^\s:]+: /;
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
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const firstLine = trimmed.split('\n', 1)[0] ?? '';
    try {
      const entry = JSON.parse(firstLine) as Record<string, unknown>;
      if (entry && typeof entry === 'object' && ('MESSAGE' in entry || '__REALTIME_TIMESTAMP' in entry)) return 'kubelet-journal';
    } catch {
      // a pretty-printed or huge value: not a journal entry
    }
    return KUBERNETES_KEY.test(text) ? 'kubernetes-json' : 'unknown';
  }
  const nonEmpty = lines.map((l) => l.replace(/\r$/, '')).filter((l) => l.length > 0);
  const first = nonEmpty[0] ?? trimmed;
  if (nonEmpty.slice(0, 5).some((l) => parseCriLine(l) !== undefined) || (nonEmpty.length === 0 && parseCriLine(first) !== undefined)) return 'cri-log';
  for (const line of nonEmpty.slice(0, 20)) {
    if (JOURNAL_SHORT.test(line) || JOURNAL_ISO.test(line) || line.startsWith('-- Logs begin') || line.startsWith('-- Journal begins')) return 'kubelet-journal';
    if (looksLikeKlog(line) && parseKlogHeader(line) !== undefined) return 'kubelet-journal';
  }
  return 'unknown';
}
