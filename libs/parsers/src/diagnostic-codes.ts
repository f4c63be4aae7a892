import type { Diagnostic } from '@killtrace/schemas';

/**
 * Every diagnostic code the input layer (parsers and bundle reader) can report, with what it means.
 * One catalogue so codes stay unique and documented (a test checks both).
 */
export const INPUT_DIAGNOSTIC_CODES = {
  KT_INPUT_BAD_JSON: 'A JSON value could not be parsed; the reader resynchronised at the next top-level `{` at a line start.',
  KT_INPUT_TRUNCATED_JSON: 'The input ended (or a new value began) before a JSON value was complete.',
  KT_INPUT_VALUE_TOO_LARGE: 'A single JSON value exceeded the configured size cap and was skipped.',
  KT_INPUT_UNKNOWN_KIND: 'A JSON value is not a List/EventList/PodList, Event, Pod or watch wrapper.',
  KT_INPUT_BAD_ITEM: 'A Kubernetes object lacks a field the signal needs (name, time, ...); it was skipped.',
  KT_INPUT_BAD_FIELD: 'A field has an unusable value and was ignored or replaced by its Kubernetes default.',
  KT_INPUT_INVALID_SIGNAL: 'A parsed signal failed schema validation and was dropped (a parser bug or very odd input).',
  KT_INPUT_WATCH_ERROR: 'A watch stream contained an ERROR entry (for example an expired resourceVersion).',
  KT_INPUT_BAD_CRI_LINE: 'A container log line is not `<time> <stdout|stderr> <P|F> <text>`.',
  KT_INPUT_LINE_TRUNCATED: 'A line (or joined CRI line) exceeded the size cap and was truncated with a marker.',
  KT_INPUT_BAD_KLOG_LINE: 'A kubelet line looks like klog but its header or key/value pairs could not be parsed.',
  KT_INPUT_BAD_JOURNAL_LINE: 'A journal line has an unrecognised prefix or an unusable JSON entry.',
  KT_INPUT_UNTERMINATED_MULTILINE: 'A multi-line klog value (`key=<`) was not closed by ` >`; what was seen is kept.',
  KT_INPUT_DIAGNOSTICS_SUPPRESSED: 'More diagnostics of one code than the per-input limit; the rest were counted, not listed.',
  KT_INPUT_BAD_LOG_PATH: 'A file in a pod log tree is not `<ns>_<pod>_<uid>/<container>/<N>.log[.<date>][.gz]`.',
  KT_INPUT_BINARY_FILE: 'A file contains NUL bytes (binary data) and was skipped from that point on.',
  KT_INPUT_INVALID_UTF8: 'A file is not valid UTF-8; invalid bytes were replaced by U+FFFD.',
  KT_INPUT_EMPTY_FILE: 'A file is empty.',
  KT_INPUT_EMPTY_DIR: 'A directory holds no usable file.',
  KT_INPUT_UNREADABLE: 'A file or directory could not be opened or read (permissions, vanished, I/O error).',
  KT_INPUT_UNRECOGNIZED_FILE: 'A file is none of the bundle formats (Kubernetes JSON, kubelet journal, CRI log) and was skipped.',
  KT_INPUT_OUT_OF_ORDER: 'Timestamps in a file go backwards; signals keep their own times.',
  KT_INPUT_GZIP_ERROR: 'A gzip file is corrupt or truncated; lines before the damage were used.',
  KT_INPUT_KERNEL_NO_TIME: 'A kernel OOM kill has no wall-clock time (`journalctl -o cat`, plain `dmesg`), so it cannot be tied to a restart.',
  KT_INPUT_TIME_OUTLIER: 'A timestamp lies far outside the time span the rest of the bundle covers; it was bounded to that span.',
  KT_INPUT_CLOCK_SKEW: 'The kubelet journal and the events disagree on the time of the same kills; the estimated offset is reported.',
  KT_INPUT_STDIN: 'An input was read from a pipe or standard input (copied to a temporary file first, so it is read once).',
  KT_INPUT_NO_POD_DATA: 'Container logs or kubelet lines were read without any pod or event input.',
} as const;

export type InputDiagnosticCode = keyof typeof INPUT_DIAGNOSTIC_CODES;

/** Where a diagnostic points: file, 1-based line, character offset. */
export interface DiagnosticLocation {
  file?: string | undefined;
  line?: number | undefined;
  offset?: number | undefined;
}

/** Builds a diagnostic, leaving out location fields that are unknown. */
export function makeDiagnostic(
  severity: Diagnostic['severity'],
  code: InputDiagnosticCode,
  message: string,
  location: DiagnosticLocation = {},
): Diagnostic {
  const diagnostic: Diagnostic = { severity, code, message };
  if (location.file !== undefined) diagnostic.file = location.file;
  if (location.line !== undefined && Number.isInteger(location.line) && location.line >= 0) diagnostic.line = location.line;
  if (location.offset !== undefined && Number.isInteger(location.offset) && location.offset >= 0) diagnostic.offset = location.offset;
  return diagnostic;
}

/**
 * Caps how many diagnostics of each code one input produces (a bundle may hold millions of odd lines):
 * the first `limit` pass, the rest are counted and summarised by `summary()`.
 */
export class DiagnosticLimiter {
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly limit = 20,
    private readonly file?: string,
  ) {}

  /** Returns the diagnostic when still under the limit for its code, otherwise counts it and returns undefined. */
  admit(diagnostic: Diagnostic): Diagnostic | undefined {
    const n = (this.counts.get(diagnostic.code) ?? 0) + 1;
    this.counts.set(diagnostic.code, n);
    return n <= this.limit ? diagnostic : undefined;
  }

  /** One info diagnostic per code that went over the limit; `labels` name a code's problems (`malformed CRI lines`). */
  summary(labels: Readonly<Partial<Record<string, string>>> = {}): Diagnostic[] {
    const out: Diagnostic[] = [];
    for (const [code, n] of this.counts) {
      if (n > this.limit) {
        out.push(
          makeDiagnostic('info', 'KT_INPUT_DIAGNOSTICS_SUPPRESSED', `${n - this.limit} more ${labels[code] ?? `${code} diagnostics`} not listed (${n} in all)`, {
            file: this.file,
          }),
        );
      }
    }
    return out;
  }
}
