import type { ContainerSpec, ContainerState, ContainerStatus, Diagnostic, PodSignal, ProbeSpec, TerminatedState } from '@killtrace/schemas';
import { makeDiagnostic } from './diagnostic-codes.js';
import type { DiagnosticLocation } from './diagnostic-codes.js';
import type { ObjectContext } from './event-parser.js';
import { describeContext } from './event-parser.js';
import { parseK8sTime } from './k8s-time.js';
import { asArray, asBoolean, asNumber, asObject, asString, asStringMap, compact } from './json-values.js';
import type { JsonObject } from './json-values.js';
import { validateSignal } from './validate.js';

/** Kubernetes probe defaults (SetDefaults_Probe): applied when a field is absent or 0. */
export const PROBE_DEFAULTS = {
  periodSeconds: 10,
  timeoutSeconds: 1,
  failureThreshold: 3,
  successThreshold: 1,
  initialDelaySeconds: 0,
} as const;

/** `containerd://abc` -> `abc` (any scheme). */
export function stripContainerIdScheme(id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  const i = id.indexOf('://');
  const bare = i >= 0 ? id.slice(i + 3) : id;
  return bare.length > 0 ? bare : undefined;
}

function portText(port: unknown): string {
  if (typeof port === 'number' || (typeof port === 'string' && port.length > 0)) return String(port);
  return '?';
}

interface Reporter {
  location: DiagnosticLocation;
  diagnostics: Diagnostic[];
  what: string;
}

function probeField(probe: JsonObject, field: keyof typeof PROBE_DEFAULTS, reporter: Reporter): number {
  const raw = probe[field];
  const fallback = PROBE_DEFAULTS[field];
  if (raw === undefined || raw === null || raw === 0) return fallback;
  const n = asNumber(raw);
  const minimum = field === 'initialDelaySeconds' ? 0 : 1;
  if (n === undefined || !Number.isInteger(n) || n < minimum) {
    reporter.diagnostics.push(
      makeDiagnostic('info', 'KT_INPUT_BAD_FIELD', `${reporter.what}: ${field} ${JSON.stringify(raw)} is not valid; using the default ${fallback}`, reporter.location),
    );
    return fallback;
  }
  return n;
}

/** One probe from a container spec, Kubernetes defaults applied, with a readable target (`GET :8080/livez`). */
export function parseProbe(value: unknown, reporter: Reporter): ProbeSpec | undefined {
  const probe = asObject(value);
  if (!probe) return undefined;
  let handler: ProbeSpec['handler'] = 'unknown';
  let target: string | undefined;
  const http = asObject(probe.httpGet);
  const tcp = asObject(probe.tcpSocket);
  const exec = asObject(probe.exec);
  const grpc = asObject(probe.grpc);
  if (http) {
    handler = 'http';
    const scheme = asString(http.scheme)?.toUpperCase() === 'HTTPS' ? 'https ' : '';
    const host = asString(http.host) ?? '';
    let path = asString(http.path) ?? '/';
    if (!path.startsWith('/')) path = `/${path}`;
    target = `GET ${scheme}${host}:${portText(http.port)}${path}`;
  } else if (tcp) {
    handler = 'tcp';
    target = `tcp ${asString(tcp.host) ?? ''}:${portText(tcp.port)}`;
  } else if (exec) {
    handler = 'exec';
    const command = asArray(exec.command).filter((part): part is string => typeof part === 'string');
    target = `exec ${command.join(' ')}`.trimEnd();
  } else if (grpc) {
    handler = 'grpc';
    const service = asString(grpc.service);
    target = `grpc :${portText(grpc.port)}${service ? ` ${service}` : ''}`;
  }
  return compact({
    handler,
    periodSeconds: probeField(probe, 'periodSeconds', reporter),
    timeoutSeconds: probeField(probe, 'timeoutSeconds', reporter),
    failureThreshold: probeField(probe, 'failureThreshold', reporter),
    successThreshold: probeField(probe, 'successThreshold', reporter),
    initialDelaySeconds: probeField(probe, 'initialDelaySeconds', reporter),
    target,
  });
}

function parseContainerSpec(value: unknown, init: boolean, reporter: Reporter): ContainerSpec | undefined {
  const c = asObject(value);
  const name = asString(c?.name);
  if (!c || !name) {
    reporter.diagnostics.push(makeDiagnostic('info', 'KT_INPUT_BAD_FIELD', `${reporter.what}: a container spec has no name; ignored`, reporter.location));
    return undefined;
  }
  const sub = { ...reporter, what: `${reporter.what} container ${name}` };
  return compact({
    name,
    image: asString(c.image),
    init,
    sidecar: init && asString(c.restartPolicy) === 'Always' ? true : undefined,
    liveness: parseProbe(c.livenessProbe, { ...sub, what: `${sub.what} livenessProbe` }),
    startup: parseProbe(c.startupProbe, { ...sub, what: `${sub.what} startupProbe` }),
    readiness: parseProbe(c.readinessProbe, { ...sub, what: `${sub.what} readinessProbe` }),
  });
}

function parseTerminated(value: unknown): TerminatedState | undefined {
  const t = asObject(value);
  if (!t) return undefined;
  const exitCode = asNumber(t.exitCode);
  if (exitCode === undefined || !Number.isInteger(exitCode)) return undefined;
  const signal = asNumber(t.signal);
  return compact({
    exitCode,
    signal: signal !== undefined && Number.isInteger(signal) && signal !== 0 ? signal : undefined,
    reason: asString(t.reason),
    message: asString(t.message),
    startedAt: parseK8sTime(t.startedAt),
    finishedAt: parseK8sTime(t.finishedAt),
    containerId: stripContainerIdScheme(asString(t.containerID)),
  });
}

function parseState(value: unknown): ContainerState {
  const state = asObject(value);
  const running = asObject(state?.running);
  if (running) return compact({ kind: 'running' as const, startedAt: parseK8sTime(running.startedAt) });
  const terminated = parseTerminated(state?.terminated);
  if (terminated) return { kind: 'terminated', ...terminated };
  const waiting = asObject(state?.waiting);
  if (waiting) return compact({ kind: 'waiting' as const, reason: asString(waiting.reason), message: asString(waiting.message) });
  return { kind: 'unknown' };
}

function parseStatus(value: unknown, reporter: Reporter): ContainerStatus | undefined {
  const s = asObject(value);
  const name = asString(s?.name);
  if (!s || !name) {
    reporter.diagnostics.push(makeDiagnostic('info', 'KT_INPUT_BAD_FIELD', `${reporter.what}: a container status has no name; ignored`, reporter.location));
    return undefined;
  }
  let restartCount = s.restartCount === undefined ? 0 : (asNumber(s.restartCount) ?? -1);
  if (!Number.isInteger(restartCount) || restartCount < 0) {
    reporter.diagnostics.push(
      makeDiagnostic('info', 'KT_INPUT_BAD_FIELD', `${reporter.what}: container ${name} restartCount ${JSON.stringify(s.restartCount)} is not valid; using 0`, reporter.location),
    );
    restartCount = 0;
  }
  return compact({
    name,
    restartCount,
    containerId: stripContainerIdScheme(asString(s.containerID)),
    image: asString(s.image),
    ready: asBoolean(s.ready) ?? false,
    started: asBoolean(s.started),
    state: parseState(s.state),
    lastTerminated: parseTerminated(asObject(s.lastState)?.terminated),
  });
}

/** True for a Pod object. */
export function isPodObject(obj: JsonObject): boolean {
  return obj.kind === 'Pod';
}

/**
 * One Pod object -> PodSignal: container specs (probes with defaults), init containers, owners, labels, status
 * (phase, reason, container and init container statuses with the last termination), Ready condition time.
 */
export function parsePod(value: unknown, ctx: ObjectContext = {}): { signal?: PodSignal; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const location = { file: ctx.file, line: ctx.line, offset: ctx.offset };
  const obj = asObject(value);
  const metadata = asObject(obj?.metadata);
  const name = asString(metadata?.name);
  const namespace = asString(metadata?.namespace) ?? 'default';
  const uid = asString(metadata?.uid);
  if (!obj || !metadata || !name || !uid) {
    diagnostics.push(
      makeDiagnostic('warning', 'KT_INPUT_BAD_ITEM', `pod${name ? ` ${namespace}/${name}` : ''}${describeContext(ctx)} has no metadata.name/uid; skipped`, location),
    );
    return { diagnostics };
  }
  const reporter: Reporter = { location, diagnostics, what: `pod ${namespace}/${name}` };
  const spec = asObject(obj.spec) ?? {};
  const status = asObject(obj.status) ?? {};
  const containers = [
    ...asArray(spec.initContainers).map((c) => parseContainerSpec(c, true, reporter)),
    ...asArray(spec.containers).map((c) => parseContainerSpec(c, false, reporter)),
  ].filter((c): c is ContainerSpec => c !== undefined);
  const owners = asArray(metadata.ownerReferences)
    .map((o) => asObject(o))
    .filter((o): o is JsonObject => o !== undefined && asString(o.kind) !== undefined && asString(o.name) !== undefined)
    .map((o) => ({ kind: o.kind as string, name: o.name as string }));
  const conditions = asArray(status.conditions).map((c) => asObject(c));
  const readyCondition =
    conditions.find((c) => c?.type === 'Ready' && c.status === 'True') ?? conditions.find((c) => c?.type === 'ContainersReady' && c.status === 'True');
  const candidate: PodSignal = compact({
    kind: 'pod' as const,
    resourceVersion: asString(metadata.resourceVersion),
    pod: compact({
      namespace,
      name,
      uid,
      nodeName: asString(spec.nodeName),
      labels: asStringMap(metadata.labels),
      owners,
      phase: asString(status.phase),
      reason: asString(status.reason),
      message: asString(status.message),
      startTime: parseK8sTime(status.startTime),
      deletionTimestamp: parseK8sTime(metadata.deletionTimestamp),
      containers,
      statuses: asArray(status.containerStatuses)
        .map((s) => parseStatus(s, reporter))
        .filter((s): s is ContainerStatus => s !== undefined),
      initStatuses: asArray(status.initContainerStatuses)
        .map((s) => parseStatus(s, reporter))
        .filter((s): s is ContainerStatus => s !== undefined),
      readySince: parseK8sTime(readyCondition?.lastTransitionTime),
    }),
    source: ctx.file !== undefined || ctx.line !== undefined ? compact({ file: ctx.file, line: ctx.line }) : undefined,
  });
  const signal = validateSignal(candidate, location, diagnostics);
  return signal ? { signal, diagnostics } : { diagnostics };
}
