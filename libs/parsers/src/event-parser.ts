import type { Diagnostic, EventSignal } from '@killtrace/schemas';
import { makeDiagnostic } from './diagnostic-codes.js';
import { parseK8sTime } from './k8s-time.js';
import { asNumber, asObject, asString, compact } from './json-values.js';
import type { JsonObject } from './json-values.js';
import { validateSignal } from './validate.js';

/** Where an object came from: the file, the line its JSON value starts on, and its index in a List. */
export interface ObjectContext {
  file?: string | undefined;
  line?: number | undefined;
  offset?: number | undefined;
  /** Index in the enclosing List's `items`, for diagnostics. */
  index?: number | undefined;
}

export function describeContext(ctx: ObjectContext): string {
  return ctx.index === undefined ? '' : ` (item ${ctx.index})`;
}

const FIELD_PATH = /^spec\.(?:initContainers|containers|ephemeralContainers)\{([^}]+)\}/;

/** `spec.containers{app}` / `spec.initContainers{init}` -> the container name. */
export function containerFromFieldPath(fieldPath: string | undefined): string | undefined {
  if (fieldPath === undefined) return undefined;
  return FIELD_PATH.exec(fieldPath)?.[1];
}

/** True for a core/v1 or events.k8s.io/v1 Event object. */
export function isEventObject(obj: JsonObject): boolean {
  return obj.kind === 'Event' || (obj.kind === undefined && (obj.involvedObject !== undefined || obj.regarding !== undefined) && obj.reason !== undefined);
}

/**
 * One core/v1 or events.k8s.io/v1 Event object -> EventSignal. `count` is the number of occurrences the object
 * stands for (`series.count`, `count`, `deprecatedCount`), `lastAt` the best "last occurrence" time
 * (series.lastObservedTime, lastTimestamp / deprecatedLastTimestamp, eventTime, metadata.creationTimestamp).
 */
export function parseEvent(value: unknown, ctx: ObjectContext = {}): { signal?: EventSignal; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const location = { file: ctx.file, line: ctx.line, offset: ctx.offset };
  const obj = asObject(value);
  if (!obj) {
    diagnostics.push(makeDiagnostic('warning', 'KT_INPUT_BAD_ITEM', `event${describeContext(ctx)} is not an object`, location));
    return { diagnostics };
  }
  const metadata = asObject(obj.metadata) ?? {};
  const isNew = obj.regarding !== undefined || (typeof obj.apiVersion === 'string' && obj.apiVersion.startsWith('events.k8s.io/'));
  const involvedRaw = asObject(isNew ? (obj.regarding ?? obj.involvedObject) : (obj.involvedObject ?? obj.regarding));
  const involvedName = asString(involvedRaw?.name);
  const eventName = asString(metadata.name) ?? '(unnamed)';
  if (!involvedRaw || !involvedName) {
    diagnostics.push(
      makeDiagnostic('warning', 'KT_INPUT_BAD_ITEM', `event ${eventName}${describeContext(ctx)} has no involvedObject/regarding name; skipped`, location),
    );
    return { diagnostics };
  }
  const series = asObject(obj.series);
  const eventTime = parseK8sTime(obj.eventTime);
  const lastTimestamp = parseK8sTime(obj.lastTimestamp) ?? parseK8sTime(obj.deprecatedLastTimestamp);
  const firstTimestamp = parseK8sTime(obj.firstTimestamp) ?? parseK8sTime(obj.deprecatedFirstTimestamp);
  const created = parseK8sTime(metadata.creationTimestamp);
  let lastAt = parseK8sTime(series?.lastObservedTime) ?? lastTimestamp ?? eventTime ?? created ?? firstTimestamp;
  // lastTimestamp has second precision; a single occurrence's eventTime (microseconds) is the same moment, finer.
  if (lastAt !== undefined && eventTime !== undefined && lastAt === lastTimestamp && Math.floor(eventTime / 1000) * 1000 === lastAt) {
    lastAt = eventTime;
  }
  if (lastAt === undefined) {
    diagnostics.push(makeDiagnostic('warning', 'KT_INPUT_BAD_ITEM', `event ${eventName}${describeContext(ctx)} has no usable timestamp; skipped`, location));
    return { diagnostics };
  }
  const firstAt = firstTimestamp ?? eventTime ?? created;
  const counts = [asNumber(series?.count), asNumber(obj.count), asNumber(obj.deprecatedCount)].filter(
    (n): n is number => n !== undefined && Number.isInteger(n) && n > 0,
  );
  const count = counts.length > 0 ? Math.max(...counts) : 1;
  const source = asObject(obj.source) ?? asObject(obj.deprecatedSource);
  const reportingComponent = asString(obj.reportingComponent) ?? asString(obj.reportingController) ?? asString(source?.component);
  const host = asString(source?.host) ?? (reportingComponent === 'kubelet' ? asString(obj.reportingInstance) : undefined);
  const fieldPath = asString(involvedRaw.fieldPath);
  const messageRaw = isNew ? (obj.note ?? obj.message) : (obj.message ?? obj.note);
  const candidate: EventSignal = compact({
    kind: 'event' as const,
    uid: asString(metadata.uid),
    resourceVersion: asString(metadata.resourceVersion),
    involved: compact({
      kind: asString(involvedRaw.kind) ?? 'Unknown',
      namespace: asString(involvedRaw.namespace) ?? asString(metadata.namespace),
      name: involvedName,
      uid: asString(involvedRaw.uid),
      fieldPath,
    }),
    container: containerFromFieldPath(fieldPath),
    reason: typeof obj.reason === 'string' ? obj.reason : '',
    message: typeof messageRaw === 'string' ? messageRaw : '',
    type: asString(obj.type) ?? 'Normal',
    count,
    firstAt: firstAt !== undefined && firstAt <= lastAt ? firstAt : undefined,
    lastAt,
    reportingComponent,
    host,
    source: ctx.file !== undefined || ctx.line !== undefined ? compact({ file: ctx.file, line: ctx.line }) : undefined,
  });
  const signal = validateSignal(candidate, location, diagnostics);
  return signal ? { signal, diagnostics } : { diagnostics };
}
