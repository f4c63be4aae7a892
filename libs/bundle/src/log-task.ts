import type { AppLogSignal, Diagnostic } from '@killtrace/schemas';
import { CriLogParser, CriTimeGuard, makeDiagnostic } from '@killtrace/parsers';
import type { EvidenceSpan, InputDiagnosticCode } from '@killtrace/parsers';
import { openSource } from './file-source.js';
import { readLines } from './line-reader.js';
import type { LineReadResult } from './line-reader.js';

/** The incarnation a container log belongs to. */
export interface LogIncarnation {
  namespace: string;
  pod: string;
  uid: string;
  container: string;
  restartCount: number;
}

/** One container log file to read. */
export interface LogTaskFile {
  /** The name diagnostics and signal sources use. */
  path: string;
  /** Where the bytes are read from (a pipe's temporary copy, or `path`). */
  readPath: string;
  gzip: boolean;
  /** On-disk size in bytes (for scheduling). */
  size: number;
  /** `kubectl logs --timestamps` lines, read as CRI `stdout F` lines. */
  kubectl: boolean;
}

/**
 * One incarnation's container logs: the files of each group are read with one CRI parser (P chunks continue across
 * rotation). Normally one group; the same incarnation found under two bundle paths makes two.
 */
export interface LogTask {
  /** Position in read order: outcomes are applied in this order whoever read them. */
  index: number;
  incarnation: LogIncarnation;
  groups: LogTaskFile[][];
}

/** What reading every container log needs besides the files: the same for every task of one bundle. */
export interface LogTaskSettings {
  /** Longest physical line kept (the joined CRI line may be 1 KiB longer). */
  maxLineChars: number;
  /** The evidence span of the pods and events: CRI times outside it are outliers (evidence-clock.ts). */
  span?: EvidenceSpan;
}

/** What reading one task found, besides its signals: applied to the bundle report in task order. */
export interface LogTaskOutcome {
  index: number;
  /**
   * In the order the single-threaded reader reports them. `KT_INPUT_TIME_OUTLIER` ones are the CRI outliers, at most
   * `MAX_OUTLIER_DIAGNOSTICS` per task: the report lists the first ones of the whole bundle.
   */
  diagnostics: Diagnostic[];
  /** Files read, and files skipped (unusable context). */
  files: number;
  skippedFiles: number;
  lines: number;
  bytes: number;
  /** App log signals delivered. */
  signals: number;
  criOutliers: number;
  criOutOfOrder: number;
}

/** CRI outlier lines listed one by one in a report (the rest are counted in a note). */
export const MAX_OUTLIER_DIAGNOSTICS = 20;

/**
 * Who gets the lines: a signal consumer, or (`onLine`) one that keeps only each line's guarded time and text, which
 * is fed without a signal object per line (step trackers: analysis workers, the CLI's one-thread read).
 */
export type LogTaskConsumer = ((signal: AppLogSignal) => void | Promise<void>) | { onLine: (at: number, text: string, line: number | undefined) => void };

/** Where a task's reading shows: on-disk bytes read and the file being read (progress). */
export interface LogTaskHooks {
  onRawBytes: (bytes: number) => void;
  onFile: (path: string) => void;
}

function errorText(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string') {
    return `${error.code}: ${error instanceof Error ? error.message : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** `2026-12-01T08:00:00.123456789Z text` as `kubectl logs --timestamps` prints it -> a CRI line. */
function kubectlLineToCri(line: string): string {
  const space = line.indexOf(' ');
  if (space < 20 || line.charCodeAt(4) !== 45 || line.charCodeAt(10) !== 84) return line;
  return `${line.slice(0, space)} stdout F ${line.slice(space + 1)}`;
}

/** `2026-11-30 .. 2026-12-01`: the believable span, for messages. */
export function spanText(span: EvidenceSpan): string {
  const day = (t: number): string => (Number.isFinite(t) ? new Date(t).toISOString().slice(0, 10) : '?');
  return `${day(span.oldest)} .. ${day(span.newest)}`;
}

/**
 * Reads one incarnation's container logs into `onSignal` (times kept inside the evidence span and in file order) and
 * returns its diagnostics and counters. The same code runs in the main thread and in analysis workers, so both give
 * the same signals and the same report. Rethrows what `onSignal` throws.
 */
export async function readLogTask(task: LogTask, settings: LogTaskSettings, consumer: LogTaskConsumer, hooks: LogTaskHooks): Promise<LogTaskOutcome> {
  const onSignal = typeof consumer === 'function' ? consumer : undefined;
  const onLine = typeof consumer === 'function' ? undefined : consumer.onLine;
  const { maxLineChars, span } = settings;
  const out: LogTaskOutcome = { index: task.index, diagnostics: [], files: 0, skippedFiles: 0, lines: 0, bytes: 0, signals: 0, criOutliers: 0, criOutOfOrder: 0 };
  const diag = (severity: Diagnostic['severity'], code: InputDiagnosticCode, message: string, file?: string, line?: number, offset?: number): void => {
    out.diagnostics.push(makeDiagnostic(severity, code, message, { file, line, offset }));
  };
  const readFailure = (result: LineReadResult, file: LogTaskFile): void => {
    if (result.invalidUtf8) diag('warning', 'KT_INPUT_INVALID_UTF8', 'invalid UTF-8 replaced by U+FFFD', file.path);
    if (result.binaryAt !== undefined) diag('warning', 'KT_INPUT_BINARY_FILE', 'NUL byte: binary data; the rest of the file was skipped', file.path, undefined, result.binaryAt);
    if (result.error) diag('warning', file.gzip ? 'KT_INPUT_GZIP_ERROR' : 'KT_INPUT_UNREADABLE', `read failed: ${errorText(result.error)}; lines before it were used`, file.path);
  };
  const log = task.incarnation;
  for (const group of task.groups) {
    const first = group[0];
    if (first === undefined) continue;
    const parser = new CriLogParser(
      { pod: { namespace: log.namespace, name: log.pod, uid: log.uid }, container: log.container, restartCount: log.restartCount, file: first.path },
      { maxLineChars: maxLineChars + 1024 },
    );
    if (parser.contextDiagnostic) {
      out.diagnostics.push(parser.contextDiagnostic);
      out.skippedFiles += group.length;
      continue;
    }
    const guard = new CriTimeGuard(span);
    /** Counts and lists what `guard` changed about the line just timed (off the per-line path: rare). */
    const noteAdjusted = (at: number, file: string | undefined, line: number | undefined): void => {
      if (guard.adjusted === 'outlier') {
        out.criOutliers++;
        if (out.criOutliers <= MAX_OUTLIER_DIAGNOSTICS) {
          diag('warning', 'KT_INPUT_TIME_OUTLIER', `line dated ${new Date(at).toISOString()}, far outside the ${span ? spanText(span) : ''} the rest of the input covers: given the previous line's time`, file, line);
        }
      } else if (guard.adjusted === 'out_of_order') out.criOutOfOrder++;
    };
    /** The time to use for a line (`guard`), counting and listing what it changed. */
    const guarded = (at: number, file: string | undefined, line: number | undefined): number => {
      out.signals++;
      const time = guard.time(at);
      if (guard.adjusted !== undefined) noteAdjusted(at, file, line);
      return time;
    };
    const deliver = (s: AppLogSignal): void | Promise<void> => {
      const at = guarded(s.at, s.source?.file, s.source?.line);
      if (onLine) return onLine(at, s.text, s.source?.line);
      if (guard.adjusted === undefined) return (onSignal as (signal: AppLogSignal) => void | Promise<void>)(s);
      return (onSignal as (signal: AppLogSignal) => void | Promise<void>)({ ...s, at });
    };
    // The tracker path, per line: the guard's time and a count; the file name is looked up only for a diagnostic.
    const line = onLine
      ? (at: number, text: string, first: number): void => {
          out.signals++;
          const time = guard.time(at);
          if (guard.adjusted !== undefined) noteAdjusted(at, parser.currentFile, first);
          onLine(time, text, first);
        }
      : undefined;
    for (const file of group) {
      hooks.onFile(file.path);
      out.files++;
      parser.setFile(file.path);
      const result = await readLines(
        openSource(file.readPath, file.gzip, hooks.onRawBytes),
        line
          ? file.kubectl
            ? (text, lineNo) => parser.pushTo(kubectlLineToCri(text), lineNo, line)
            : (text, lineNo) => parser.pushTo(text, lineNo, line)
          : (text, lineNo) => {
              const s = parser.push(file.kubectl ? kubectlLineToCri(text) : text, lineNo);
              if (s !== undefined) return deliver(s);
            },
        { maxLineChars },
      );
      out.lines += result.lines;
      out.bytes += result.bytes;
      if (result.lines === 0 && result.binaryAt === undefined && !result.error) diag('warning', 'KT_INPUT_EMPTY_FILE', 'no lines (after decompression)', file.path);
      if (result.truncatedLines > 0) diag('info', 'KT_INPUT_LINE_TRUNCATED', `${result.truncatedLines} line(s) longer than ${maxLineChars} characters were truncated`, file.path);
      readFailure(result, file);
      out.diagnostics.push(...parser.takeDiagnostics());
    }
    for (const s of parser.end()) {
      const r = deliver(s);
      if (r !== undefined) await r;
    }
    out.diagnostics.push(...parser.takeDiagnostics(), ...parser.summary());
  }
  return out;
}
