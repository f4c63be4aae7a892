import type { AppLogSignal, Diagnostic, PodRef } from '@killtrace/schemas';
import { appLogSignalSchema } from '@killtrace/schemas';
import { makeDiagnostic } from './diagnostic-codes.js';
import { DiagnosticCollector } from './diagnostic-collector.js';
import { parseRfc3339 } from './k8s-time.js';

/** One physical CRI log line: `<RFC3339Nano> <stdout|stderr> <P|F> <text>`. */
export interface CriLine {
  at: number;
  stream: 'stdout' | 'stderr';
  /** `P`: a chunk of a longer line, continued by the next chunk of the same stream. */
  partial: boolean;
  text: string;
}

/** What `scanCriLine` found, in module scratch fields: the hot path builds no object per line. */
const scan = { at: 0, stream: 'stdout' as 'stdout' | 'stderr', partial: false, textStart: 0 };

/** Scans one CRI line into `scan`; false when the line is not in the CRI format. */
function scanCriLine(line: string): boolean {
  const sp1 = line.indexOf(' ');
  if (sp1 < 20 || sp1 > 40) return false;
  let stream: 'stdout' | 'stderr';
  if (line.startsWith('stdout ', sp1 + 1)) stream = 'stdout';
  else if (line.startsWith('stderr ', sp1 + 1)) stream = 'stderr';
  else return false;
  const tagStart = sp1 + 8;
  const tag = line.charCodeAt(tagStart);
  if (tag !== 80 && tag !== 70) return false; // 'P' | 'F'
  // The tag may carry more `:`-separated fields; the text starts after the next space (or the line ends).
  let textStart = line.indexOf(' ', tagStart);
  if (textStart < 0) textStart = line.length;
  else if (textStart - tagStart > 1 && line.charCodeAt(tagStart + 1) !== 58) return false;
  else textStart++;
  const at = parseRfc3339(line, sp1);
  if (at === undefined) return false;
  scan.at = at;
  scan.stream = stream;
  scan.partial = tag === 80;
  scan.textStart = textStart;
  return true;
}

/**
 * Parses one CRI line without regular expressions (hot path: a bundle may hold gigabytes of these). Returns
 * undefined when the line is not in the CRI format. A trailing `\r` is kept as part of the text (CRI never adds one).
 */
export function parseCriLine(line: string): CriLine | undefined {
  if (!scanCriLine(line)) return undefined;
  return { at: scan.at, stream: scan.stream, partial: scan.partial, text: line.slice(scan.textStart) };
}

/** Receives a logical line without an object for it: its time, stream, text and the line number of its first chunk. */
export type CriLineSink = (at: number, stream: 'stdout' | 'stderr', text: string, line: number) => void | Promise<void>;

/** A logical line: P chunks joined with their F. */
export interface JoinedCriLine {
  /** Time of the first chunk (when the application began writing the line). */
  at: number;
  stream: 'stdout' | 'stderr';
  text: string;
  /** 1-based line number of the first chunk. */
  line: number;
  /** The line exceeded the cap and was cut (the text ends with a marker). */
  truncated: boolean;
  /** The input ended (`end()`) before the chunk sequence's `F`: the application was cut off mid-line. */
  unterminated: boolean;
}

interface Pending {
  at: number;
  line: number;
  parts: string[];
  length: number;
  total: number;
}

export interface CriLineJoinerOptions {
  /** Largest joined line kept, in characters (default 1 Mi); longer lines are cut and marked. */
  maxLineChars?: number;
  file?: string;
  /** Diagnostics listed per code before they are only counted (default 20). */
  diagnosticLimit?: number;
}

/** Appended to a cut line: the original size stays visible. */
export function truncationMarker(totalChars: number): string {
  return ` [killtrace: truncated, ${totalChars} chars in all]`;
}

/**
 * Joins CRI `P` chunks up to the next `F`, per stream (stdout and stderr interleave independently). Joined lines
 * are capped (truncated with a marker, never grown without bound). Malformed lines become diagnostics (with their
 * line number), collected until `takeDiagnostics()`.
 */
export class CriLineJoiner {
  private readonly maxLineChars: number;
  private readonly file: string | undefined;
  private readonly pending: { stdout: Pending | undefined; stderr: Pending | undefined } = { stdout: undefined, stderr: undefined };
  private readonly diagnostics: DiagnosticCollector;
  /** Lines that were not CRI lines. */
  malformedLines = 0;
  /** Joined lines that were cut at the cap. */
  truncatedLines = 0;

  constructor(options: CriLineJoinerOptions = {}) {
    this.maxLineChars = options.maxLineChars ?? 1024 * 1024;
    this.file = options.file;
    this.diagnostics = new DiagnosticCollector(options.file, options.diagnosticLimit, { KT_INPUT_BAD_CRI_LINE: 'malformed CRI lines' });
  }

  /** Feeds one physical line (without its newline). Returns a complete logical line, if this one completed it. */
  push(line: string, lineNo: number): JoinedCriLine | undefined {
    const cri = parseCriLine(line);
    if (cri === undefined) {
      if (line.length === 0) return undefined;
      this.malformedLines++;
      this.diagnostics.report('warning', 'KT_INPUT_BAD_CRI_LINE', `not a CRI log line: ${JSON.stringify(line.slice(0, 80))}`, lineNo);
      return undefined;
    }
    return this.pushParsed(cri, lineNo);
  }

  /**
   * `push` for a consumer of plain values: a complete `F` line with nothing pending on its stream (nearly every
   * line) goes to `sink` without any object built for it; the rest takes `push`'s way.
   */
  pushTo(line: string, lineNo: number, sink: CriLineSink): void | Promise<void> {
    if (!scanCriLine(line)) {
      this.push(line, lineNo);
      return undefined;
    }
    const { at, stream, partial, textStart } = scan;
    if (!partial && this.pending[stream] === undefined && line.length - textStart <= this.maxLineChars) return sink(at, stream, line.slice(textStart), lineNo);
    const joined = this.pushParsed({ at, stream, partial, text: line.slice(textStart) }, lineNo);
    return joined === undefined ? undefined : sink(joined.at, joined.stream, joined.text, joined.line);
  }

  /** Feeds an already parsed line. */
  pushParsed(cri: CriLine, lineNo: number): JoinedCriLine | undefined {
    const pending = this.pending[cri.stream];
    if (pending === undefined) {
      if (!cri.partial) {
        if (cri.text.length <= this.maxLineChars) {
          return { at: cri.at, stream: cri.stream, text: cri.text, line: lineNo, truncated: false, unterminated: false };
        }
        this.truncatedLines++;
        return { at: cri.at, stream: cri.stream, text: cri.text.slice(0, this.maxLineChars) + truncationMarker(cri.text.length), line: lineNo, truncated: true, unterminated: false };
      }
      const p: Pending = { at: cri.at, line: lineNo, parts: [], length: 0, total: 0 };
      this.append(p, cri.text);
      this.pending[cri.stream] = p;
      return undefined;
    }
    this.append(pending, cri.text);
    if (cri.partial) return undefined;
    this.pending[cri.stream] = undefined;
    return this.finish(pending, cri.stream, false);
  }

  /** Ends the input: flushes P chunks never closed by an F (the container stopped mid-line), stderr last. */
  end(): JoinedCriLine[] {
    const out: JoinedCriLine[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const p = this.pending[stream];
      if (p) out.push(this.finish(p, stream, true));
      this.pending[stream] = undefined;
    }
    out.sort((a, b) => a.line - b.line);
    return out;
  }

  /** Diagnostics collected so far (malformed lines, then a summary when over the limit); clears them. */
  takeDiagnostics(): Diagnostic[] {
    return this.diagnostics.take();
  }

  /** Summary diagnostics for this input: suppressed malformed lines, truncated lines. Call after `end()`. */
  summary(): Diagnostic[] {
    const out = this.diagnostics.summary();
    if (this.truncatedLines > 0) {
      out.push(makeDiagnostic('info', 'KT_INPUT_LINE_TRUNCATED', `${this.truncatedLines} log line(s) longer than ${this.maxLineChars} characters were truncated`, { file: this.file }));
    }
    return out;
  }

  private append(p: Pending, text: string): void {
    p.total += text.length;
    const room = this.maxLineChars - p.length;
    if (room <= 0) return;
    const kept = text.length <= room ? text : text.slice(0, room);
    p.parts.push(kept);
    p.length += kept.length;
  }

  private finish(p: Pending, stream: 'stdout' | 'stderr', unterminated: boolean): JoinedCriLine {
    const truncated = p.total > this.maxLineChars;
    if (truncated) this.truncatedLines++;
    const joined = p.parts.length === 1 ? (p.parts[0] as string) : p.parts.join('');
    return { at: p.at, stream, text: truncated ? joined + truncationMarker(p.total) : joined, line: p.line, truncated, unterminated };
  }
}

/** Identifies the incarnation a CRI log file belongs to (from its path). */
export interface CriLogContext {
  pod: PodRef & { uid: string };
  container: string;
  restartCount: number;
  file?: string;
}

const contextSchema = appLogSignalSchema.pick({ pod: true, container: true, restartCount: true });

/**
 * CRI log lines -> AppLogSignals for one incarnation (feed its rotated files oldest first, then `N.log`, then call
 * `end()`). Signals are built from parts validated once (the context, checked with zod in the constructor) and per
 * line by construction (a finite time from parseRfc3339, a literal stream, a string text): zod-parsing every line
 * would cost more than reading it, so app log signals are not re-validated one by one.
 */
export class CriLogParser {
  private readonly joiner: CriLineJoiner;
  private readonly pod: AppLogSignal['pod'];
  private readonly container: string;
  private readonly restartCount: number;
  private file: string | undefined;
  private lastAt = -Infinity;
  /** Logical lines whose time is before the previous line's. */
  outOfOrder = 0;
  /** The context failed validation: every push returns undefined (see `contextDiagnostic`). */
  readonly contextDiagnostic: Diagnostic | undefined;

  constructor(context: CriLogContext, options: CriLineJoinerOptions = {}) {
    const checked = contextSchema.safeParse(context);
    this.contextDiagnostic = checked.success
      ? undefined
      : makeDiagnostic('warning', 'KT_INPUT_INVALID_SIGNAL', `unusable log file context: ${checked.error.issues[0]?.message ?? 'invalid'}`, { file: context.file });
    this.pod = Object.freeze({ namespace: context.pod.namespace, name: context.pod.name, uid: context.pod.uid });
    this.container = context.container;
    this.restartCount = context.restartCount;
    this.file = context.file ?? options.file;
    this.joiner = new CriLineJoiner({ ...options, file: this.file });
  }

  /** Switches to the next file of the same incarnation (rotated -> live): P chunks may continue across it. */
  setFile(file: string): void {
    this.file = file;
  }

  /** Feeds one physical line; returns the AppLogSignal it completed, if any. */
  push(line: string, lineNo: number): AppLogSignal | undefined {
    if (this.contextDiagnostic) return undefined;
    const joined = this.joiner.push(line, lineNo);
    return joined === undefined ? undefined : this.toSignal(joined);
  }

  /**
   * `push` without the signal: `sink` gets each completed line's (time, text, line number of its first chunk); the
   * same lines, times and counts as `push`, with no object per line (readers that keep only time and text).
   */
  pushTo(line: string, lineNo: number, sink: (at: number, text: string, line: number) => void | Promise<void>): void | Promise<void> {
    if (this.contextDiagnostic) return undefined;
    this.sink = sink;
    return this.joiner.pushTo(line, lineNo, this.forward);
  }

  private sink: ((at: number, text: string, line: number) => void | Promise<void>) | undefined;
  /** One closure for every `pushTo`, not one per line. */
  private readonly forward: CriLineSink = (at, _stream, text, first) => {
    if (at < this.lastAt) this.outOfOrder++;
    else this.lastAt = at;
    return this.sink?.(at, text, first);
  };

  /** The file lines come from now (`setFile`). */
  get currentFile(): string | undefined {
    return this.file;
  }

  /** Flushes unterminated P chunks. */
  end(): AppLogSignal[] {
    if (this.contextDiagnostic) return [];
    return this.joiner.end().map((j) => this.toSignal(j));
  }

  /** Malformed-line diagnostics collected so far; clears them. */
  takeDiagnostics(): Diagnostic[] {
    return this.joiner.takeDiagnostics();
  }

  /** Summary diagnostics (suppressed malformed lines, truncations, out-of-order times). Call after `end()`. */
  summary(): Diagnostic[] {
    const out = this.joiner.summary();
    if (this.outOfOrder > 0) {
      out.push(makeDiagnostic('info', 'KT_INPUT_OUT_OF_ORDER', `${this.outOfOrder} log line(s) are timestamped before the line preceding them`, { file: this.file }));
    }
    return out;
  }

  /** Lines that were not CRI lines, so far. */
  get malformedLines(): number {
    return this.joiner.malformedLines;
  }

  private toSignal(j: JoinedCriLine): AppLogSignal {
    if (j.at < this.lastAt) this.outOfOrder++;
    else this.lastAt = j.at;
    const signal: AppLogSignal = {
      kind: 'app_log',
      at: j.at,
      pod: this.pod,
      container: this.container,
      restartCount: this.restartCount,
      stream: j.stream,
      text: j.text,
    };
    if (this.file !== undefined) signal.source = { file: this.file, line: j.line };
    return signal;
  }
}
