import type { Diagnostic, NodeSignal } from '@killtrace/schemas';
import { makeDiagnostic } from './diagnostic-codes.js';
import type { ObjectContext } from './event-parser.js';
import { describeContext } from './event-parser.js';
import { asObject, asString, asStringMap } from './json-values.js';
import type { JsonObject } from './json-values.js';
import { validateSignal } from './validate.js';

/** A Node object (`kubectl get nodes -o json` item): kind Node. */
export function isNodeObject(obj: JsonObject): boolean {
  return obj.kind === 'Node';
}

/** One Node object -> NodeSignal (name and labels: what node-class.ts groups by). */
export function parseNode(value: unknown, ctx: ObjectContext = {}): { signal?: NodeSignal; diagnostics: Diagnostic[] } {
  const location = { file: ctx.file, line: ctx.line, offset: ctx.offset };
  const metadata = asObject(asObject(value)?.metadata);
  const name = asString(metadata?.name);
  if (!metadata || !name) {
    return { diagnostics: [makeDiagnostic('warning', 'KT_INPUT_BAD_ITEM', `a Node object${describeContext(ctx)} has no metadata.name; skipped`, location)] };
  }
  const signal: NodeSignal = { kind: 'node', node: { name, labels: asStringMap(metadata.labels) }, ...(ctx.file ? { source: { file: ctx.file, ...(ctx.line !== undefined ? { line: ctx.line } : {}) } } : {}) };
  const diagnostics: Diagnostic[] = [];
  return { signal: validateSignal(signal, location, diagnostics), diagnostics };
}
