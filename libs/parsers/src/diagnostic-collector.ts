import type { Diagnostic } from '@killtrace/schemas';
import { DiagnosticLimiter, makeDiagnostic, type InputDiagnosticCode } from './diagnostic-codes.js';

/**
 * The diagnostics of one input file, shared by the line parsers (CRI logs, kubelet journal, kernel log): each
 * problem is listed with the file and line while its code is under the limit and counted beyond it; `take()` hands
 * over what was listed since the last call, `summary()` says how many were not listed.
 */
export class DiagnosticCollector {
  private readonly limiter: DiagnosticLimiter;
  private listed: Diagnostic[] = [];

  /**
   * @param labels how the summary names a code's problems (`malformed CRI lines`); default `<CODE> diagnostics`.
   */
  constructor(
    private readonly file: string | undefined,
    limit = 20,
    private readonly labels: Readonly<Partial<Record<InputDiagnosticCode, string>>> = {},
  ) {
    this.limiter = new DiagnosticLimiter(limit, file);
  }

  /** One problem at `line` of the file: listed while its code is under the limit, then only counted. */
  report(severity: Diagnostic['severity'], code: InputDiagnosticCode, message: string, line?: number): void {
    const admitted = this.limiter.admit(makeDiagnostic(severity, code, message, { file: this.file, ...(line === undefined ? {} : { line }) }));
    if (admitted) this.listed.push(admitted);
  }

  /** A diagnostic made elsewhere (e.g. by validateSignal), listed whatever the limit. */
  push(diagnostic: Diagnostic): void {
    this.listed.push(diagnostic);
  }

  /** The diagnostics listed since the last call; clears them. */
  take(): Diagnostic[] {
    const out = this.listed;
    this.listed = [];
    return out;
  }

  /** One info diagnostic per code that went over the limit, naming how many were not listed. */
  summary(): Diagnostic[] {
    return this.limiter.summary(this.labels);
  }
}
