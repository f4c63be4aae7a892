import type { Diagnostic, Signal } from '@killtrace/schemas';
import { signalSchema } from '@killtrace/schemas';
import type { DiagnosticLocation } from './diagnostic-codes.js';
import { makeDiagnostic } from './diagnostic-codes.js';

/** Outcome of one parser step: zero or more signals, zero or more diagnostics. */
export interface ParseOutput<S = Signal> {
  signals: S[];
  diagnostics: Diagnostic[];
}

/**
 * Validates a parser's output at the edge with the shared zod schema (defaults applied). An invalid signal is
 * dropped with a KT_INPUT_INVALID_SIGNAL diagnostic: parsers never hand the core something off-contract.
 */
export function validateSignal<S extends Signal>(
  candidate: S,
  location: DiagnosticLocation,
  diagnostics: { push(diagnostic: Diagnostic): unknown },
): S | undefined {
  const result = signalSchema.safeParse(candidate);
  if (result.success) return result.data as S;
  const issues = result.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
  diagnostics.push(makeDiagnostic('warning', 'KT_INPUT_INVALID_SIGNAL', `dropped an invalid ${candidate.kind} signal: ${issues}`, location));
  return undefined;
}
