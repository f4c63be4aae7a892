/**
 * The client-go event recorder as the kubelet runs it (tools/record EventCorrelator): aggregation of similar
 * events, de-duplication into `count`, and the per source+object token-bucket spam filter. Fed in time order.
 */
import { US_PER_S, hex, isoSeconds } from './format.js';

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  resourceVersion?: string;
  fieldPath?: string;
}

/** One call of `recorder.Eventf` (or of the events.k8s.io recorder when `newApi` is set). */
export interface EventEmission {
  at: number;
  source: { component: string; host?: string };
  involved: InvolvedObject;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** Emitted through events.k8s.io/v1 (scheduler): `eventTime` set, no core/v1 aggregation or spam filter. */
  newApi?: { action: string; reportingInstance: string };
  /** Set by the recorder: whether this occurrence reached the API server. */
  written?: boolean;
  /** Set by the recorder: the stored object it went to. */
  object?: StoredEvent;
}

export interface EventWrite {
  type: 'ADDED' | 'MODIFIED';
  at: number;
  count: number;
  lastAt: number;
  message: string;
  resourceVersion: string;
}

/** An Event object as the API server holds it at the end. */
export interface StoredEvent {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  createdAt: number;
  involved: InvolvedObject;
  reason: string;
  message: string;
  source: { component: string; host?: string };
  firstAt: number;
  lastAt: number;
  count: number;
  type: 'Normal' | 'Warning';
  reportingComponent: string;
  reportingInstance: string;
  newApi?: { action: string; reportingInstance: string };
  writes: EventWrite[];
}

const MAX_EVENTS = 10;
const MAX_INTERVAL_US = 600 * US_PER_S;
const BURST = 25;
const REFILL_US = 300 * US_PER_S;
export const COMBINED_PREFIX = '(combined from similar events): ';

function objectKey(o: InvolvedObject): string {
  return [o.kind, o.namespace, o.name, o.uid, o.apiVersion].join('\u0000');
}

export class EventRecorder {
  private readonly aggregates = new Map<string, { keys: string[]; last: number }>();
  private readonly observed = new Map<string, { count: number; firstAt: number; name: string }>();
  private readonly buckets = new Map<string, { tokens: number; last: number }>();
  private readonly byName = new Map<string, StoredEvent>();
  readonly stored: StoredEvent[] = [];
  private resourceVersion = 610000;

  constructor(private readonly random: () => number) {}

  private nextRv(): string {
    this.resourceVersion += 1 + Math.floor(this.random() * 40);
    return String(this.resourceVersion);
  }

  private eventName(involvedName: string, at: number): string {
    return `${involvedName}.${(BigInt(at) * 1000n + BigInt(Math.floor(this.random() * 1000))).toString(16)}`;
  }

  record(e: EventEmission): void {
    if (e.newApi) {
      this.create(e, e.message, 1, e.at, this.eventName(e.involved.name, e.at));
      e.written = true;
      return;
    }
    const src = `${e.source.component}\u0000${e.source.host ?? ''}`;
    const aggKey = `${src}\u0000${objectKey(e.involved)}\u0000${e.type}\u0000${e.reason}`;
    const eventKey = `${aggKey}\u0000${e.involved.fieldPath ?? ''}\u0000${e.message}`;

    // EventAggregator: similar events (same reason, different messages) within 10 minutes.
    let agg = this.aggregates.get(aggKey);
    if (!agg || e.at - agg.last > MAX_INTERVAL_US) agg = { keys: [], last: e.at };
    if (!agg.keys.includes(e.message)) agg.keys.push(e.message);
    agg.last = e.at;
    this.aggregates.set(aggKey, agg);
    let message = e.message;
    let key = eventKey;
    if (agg.keys.length >= MAX_EVENTS) {
      agg.keys.shift();
      message = COMBINED_PREFIX + e.message;
      key = aggKey;
    }

    // eventLogger.eventObserve: identical events become count+1 on the same object (cache updated even if dropped).
    const seen = this.observed.get(key);
    const count = seen ? seen.count + 1 : 1;
    const firstAt = seen ? seen.firstAt : e.at;
    const name = seen ? seen.name : this.eventName(e.involved.name, e.at);
    this.observed.set(key, { count, firstAt, name });

    // EventSourceObjectSpamFilter: token bucket per source + involved object.
    const spamKey = `${src}\u0000${objectKey(e.involved)}`;
    const bucket = this.buckets.get(spamKey) ?? { tokens: BURST, last: e.at };
    bucket.tokens = Math.min(BURST, bucket.tokens + (e.at - bucket.last) / REFILL_US);
    bucket.last = e.at;
    this.buckets.set(spamKey, bucket);
    if (bucket.tokens < 1) {
      e.written = false;
      return;
    }
    bucket.tokens -= 1;
    e.written = true;

    const existing = this.byName.get(name);
    if (existing) {
      existing.count = count;
      existing.lastAt = e.at;
      existing.message = message;
      existing.resourceVersion = this.nextRv();
      existing.writes.push({ type: 'MODIFIED', at: e.at, count, lastAt: e.at, message, resourceVersion: existing.resourceVersion });
      e.object = existing;
    } else {
      // First write, or the patch found nothing because the first occurrence was dropped: create.
      e.object = this.create(e, message, count, firstAt, name);
    }
  }

  private create(e: EventEmission, message: string, count: number, firstAt: number, name: string): StoredEvent {
    const ev: StoredEvent = {
      name,
      namespace: e.involved.namespace || 'default',
      uid: uuidLike(this.random),
      resourceVersion: this.nextRv(),
      createdAt: e.at,
      involved: e.involved,
      reason: e.reason,
      message,
      source: e.source,
      firstAt,
      lastAt: e.at,
      count,
      type: e.type,
      reportingComponent: e.source.component,
      reportingInstance: e.newApi?.reportingInstance ?? e.source.host ?? '',
      ...(e.newApi ? { newApi: e.newApi } : {}),
      writes: [],
    };
    ev.writes.push({ type: 'ADDED', at: e.at, count, lastAt: e.at, message, resourceVersion: ev.resourceVersion });
    this.byName.set(name, ev);
    this.stored.push(ev);
    e.object = ev;
    return ev;
  }
}

function uuidLike(random: () => number): string {
  const h = hex(random, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The object as `kubectl get events -o json` prints it (core/v1). */
export function coreV1Event(ev: StoredEvent, write?: EventWrite): Record<string, unknown> {
  const count = write?.count ?? ev.count;
  const lastAt = write?.lastAt ?? ev.lastAt;
  const message = write?.message ?? ev.message;
  const rv = write?.resourceVersion ?? ev.resourceVersion;
  const meta = { name: ev.name, namespace: ev.namespace, uid: ev.uid, resourceVersion: rv, creationTimestamp: isoSeconds(ev.createdAt) };
  if (ev.newApi) {
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: meta,
      involvedObject: ev.involved,
      reason: ev.reason,
      message,
      source: {},
      firstTimestamp: null,
      lastTimestamp: null,
      type: ev.type,
      eventTime: microIso(ev.createdAt),
      action: ev.newApi.action,
      reportingComponent: ev.reportingComponent,
      reportingInstance: ev.reportingInstance,
    };
  }
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: meta,
    involvedObject: ev.involved,
    reason: ev.reason,
    message,
    source: ev.source,
    firstTimestamp: isoSeconds(ev.firstAt),
    lastTimestamp: isoSeconds(lastAt),
    count,
    type: ev.type,
    eventTime: null,
    reportingComponent: ev.reportingComponent,
    reportingInstance: ev.reportingInstance,
  };
}

/** The same object through `events.k8s.io/v1`. */
export function eventsV1Event(ev: StoredEvent): Record<string, unknown> {
  const meta = { name: ev.name, namespace: ev.namespace, uid: ev.uid, resourceVersion: ev.resourceVersion, creationTimestamp: isoSeconds(ev.createdAt) };
  if (ev.newApi) {
    return {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: meta,
      eventTime: microIso(ev.createdAt),
      reportingController: ev.reportingComponent,
      reportingInstance: ev.reportingInstance,
      action: ev.newApi.action,
      reason: ev.reason,
      regarding: ev.involved,
      note: ev.message,
      type: ev.type,
    };
  }
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: meta,
    regarding: ev.involved,
    note: ev.message,
    reason: ev.reason,
    type: ev.type,
    reportingController: ev.reportingComponent,
    reportingInstance: ev.reportingInstance,
    deprecatedSource: ev.source,
    deprecatedFirstTimestamp: isoSeconds(ev.firstAt),
    deprecatedLastTimestamp: isoSeconds(ev.lastAt),
    deprecatedCount: ev.count,
    eventTime: null,
  };
}

function microIso(us: number): string {
  const s = Math.floor(us / US_PER_S);
  const micros = us - s * US_PER_S;
  return `${new Date(s * 1000).toISOString().slice(0, 19)}.${String(micros).padStart(6, '0')}Z`;
}
