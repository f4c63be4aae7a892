import type { EventSignal, PodSignal } from '@killtrace/schemas';
import { makeDiagnostic } from './diagnostic-codes.js';
import { isEventObject, parseEvent } from './event-parser.js';
import type { ObjectContext } from './event-parser.js';
import { asArray, asObject, asString } from './json-values.js';
import type { JsonObject } from './json-values.js';
import { isPodObject, parsePod } from './pod-parser.js';
import type { ParseOutput } from './validate.js';

/** What a top-level JSON value is, as far as Killtrace cares. */
export type KubernetesValueKind = 'list' | 'array' | 'event' | 'pod' | 'watch' | 'unknown';

const WATCH_TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);
const LIST_KINDS = new Set(['List', 'EventList', 'PodList']);

/**
 * Classifies a parsed JSON value: a List/EventList/PodList, a bare array of Events or Pods (`kubectl ... -o json |
 * jq .items`), an Event, a Pod, a watch wrapper `{type, object}`.
 */
export function classifyKubernetesValue(value: unknown): KubernetesValueKind {
  if (Array.isArray(value)) {
    const first = value.find((item) => asObject(item) !== undefined);
    const firstObj = asObject(first);
    return value.length === 0 || (firstObj !== undefined && (isEventObject(firstObj) || isPodObject(firstObj) || looksLikePod(firstObj) || firstObj.involvedObject !== undefined || firstObj.regarding !== undefined)) ? 'array' : 'unknown';
  }
  const obj = asObject(value);
  if (!obj) return 'unknown';
  if (typeof obj.type === 'string' && WATCH_TYPES.has(obj.type) && asObject(obj.object) && obj.kind === undefined) return 'watch';
  if (typeof obj.kind === 'string' && LIST_KINDS.has(obj.kind) && Array.isArray(obj.items)) return 'list';
  if (isEventObject(obj)) return 'event';
  if (isPodObject(obj)) return 'pod';
  return 'unknown';
}

function looksLikePod(obj: JsonObject): boolean {
  return asObject(obj.spec)?.containers !== undefined && asObject(obj.metadata) !== undefined;
}

function parseObject(obj: JsonObject, hint: 'event' | 'pod' | undefined, ctx: ObjectContext, out: ParseOutput<PodSignal | EventSignal>, ignored: Map<string, number>): void {
  let kind: 'event' | 'pod' | undefined;
  if (isEventObject(obj)) kind = 'event';
  else if (isPodObject(obj)) kind = 'pod';
  else if (obj.kind === undefined) kind = hint ?? (looksLikePod(obj) ? 'pod' : obj.involvedObject !== undefined || obj.regarding !== undefined ? 'event' : undefined);
  if (kind === undefined) {
    const k = asString(obj.kind) ?? '(no kind)';
    ignored.set(k, (ignored.get(k) ?? 0) + 1);
    return;
  }
  const result = kind === 'event' ? parseEvent(obj, ctx) : parsePod(obj, ctx);
  out.diagnostics.push(...result.diagnostics);
  if (result.signal) out.signals.push(result.signal);
}

/**
 * Dispatches one parsed JSON value (a List/EventList/PodList, a single Event or Pod, or a watch wrapper) into
 * EventSignals and PodSignals. Bad items are reported with their index; the rest are still parsed. Unknown kinds
 * give one warning per value. Never throws.
 */
export function parseKubernetesDocument(value: unknown, ctx: ObjectContext = {}): ParseOutput<PodSignal | EventSignal> {
  const out: ParseOutput<PodSignal | EventSignal> = { signals: [], diagnostics: [] };
  const location = { file: ctx.file, line: ctx.line, offset: ctx.offset };
  const ignored = new Map<string, number>();
  const obj = asObject(value);
  const kind = classifyKubernetesValue(value);
  if (kind === 'array') {
    asArray(value).forEach((item, index) => {
      const itemObj = asObject(item);
      if (!itemObj) {
        out.diagnostics.push(makeDiagnostic('warning', 'KT_INPUT_BAD_ITEM', `item ${index} of the array is not an object; skipped`, location));
        return;
      }
      parseObject(itemObj, undefined, { ...ctx, index }, out, ignored);
    });
  } else if (!obj || kind === 'unknown') {
    const what = obj ? `kind ${JSON.stringify(obj.kind ?? null)}` : Array.isArray(value) ? 'a JSON array' : `a JSON ${value === null ? 'null' : typeof value}`;
    out.diagnostics.push(makeDiagnostic('warning', 'KT_INPUT_UNKNOWN_KIND', `ignored a JSON value that is ${what}, not a List, an array of Events or Pods, an Event, a Pod or a watch entry`, location));
    return out;
  } else if (kind === 'watch') {
    const type = (obj as JsonObject).type as string;
    const inner = asObject((obj as JsonObject).object) ?? {};
    if (type === 'BOOKMARK') return out;
    if (type === 'ERROR') {
      const message = asString(inner.message) ?? JSON.stringify(inner).slice(0, 200);
      out.diagnostics.push(makeDiagnostic('warning', 'KT_INPUT_WATCH_ERROR', `watch ERROR entry: ${message}`, location));
      return out;
    }
    parseObject(inner, undefined, ctx, out, ignored);
  } else if (kind === 'list' && obj) {
    const hint = obj.kind === 'EventList' ? 'event' : obj.kind === 'PodList' ? 'pod' : undefined;
    asArray(obj.items).forEach((item, index) => {
      const itemObj = asObject(item);
      if (!itemObj) {
        out.diagnostics.push(makeDiagnostic('warning', 'KT_INPUT_BAD_ITEM', `item ${index} of the ${String(obj.kind)} is not an object; skipped`, location));
        return;
      }
      parseObject(itemObj, hint, { ...ctx, index }, out, ignored);
    });
  } else if (obj) {
    parseObject(obj, undefined, ctx, out, ignored);
  }
  if (ignored.size > 0) {
    const kinds = [...ignored].map(([k, n]) => `${n} ${k}`).join(', ');
    out.diagnostics.push(makeDiagnostic('info', 'KT_INPUT_UNKNOWN_KIND', `ignored objects that are neither Events nor Pods: ${kinds}`, location));
  }
  return out;
}
