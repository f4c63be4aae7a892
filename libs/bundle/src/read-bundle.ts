import type { Dirent } from 'node:fs';
import { mkdtemp, readdir, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import type { ContainerStatus, Diagnostic, Signal } from '@killtrace/schemas';
import {
  JsonStreamSplitter,
  KernelOomParser,
  KubeletJournalParser,
  classifyKubernetesValue,
  comparePodLogPaths,
  estimateJournalSkew,
  incarnationOfContainerId,
  incarnationOfKubectlLogs,
  parseContainerLogName,
  parseKubectlLogName,
  evidenceSpan,
  isOutlier,
  makeDiagnostic,
  parseKubernetesDocument,
  parsePodLogPath,
  utcYear,
} from '@killtrace/parsers';
import type { ContainerLogName, EvidenceSpan, InputDiagnosticCode, PodLogPath, SharedMoment } from '@killtrace/parsers';
import type { BundleProgress, BundleReport, BundleStats, InputNote, ReadBundleOptions, ReferenceClock } from './bundle-options.js';
import { gunzipHead, isGzipMagic, openSource, readHead } from './file-source.js';
import { readLines } from './line-reader.js';
import { MAX_OUTLIER_DIAGNOSTICS, readLogTask, spanText } from './log-task.js';
import type { LogTask, LogTaskFile, LogTaskHooks, LogTaskOutcome, LogTaskSettings } from './log-task.js';
import { spoolPipe, STDIN_NAME } from './pipe-spool.js';
import type { LineReadResult } from './line-reader.js';
import { sniffContent } from './sniff.js';
import type { SniffedType } from './sniff.js';

type Role = 'auto' | 'kubernetes' | 'kubelet' | 'kernel' | 'cri' | 'kubectl-logs';

/** `kubectl logs [--previous] --timestamps` output and whose it is (`--logs-of`). */
interface KubectlLogsOf {
  namespace?: string;
  pod: string;
  container: string;
  previous: boolean;
}

interface Candidate {
  /** The name diagnostics and signal sources use (`<stdin>` for `-`). */
  path: string;
  /** Where the bytes are read from: `path`, or the temporary copy of a pipe. */
  readPath: string;
  role: Role;
  logsOf?: KubectlLogsOf;
}

interface PlannedFile {
  path: string;
  readPath: string;
  role: Role;
  size: number;
  gzip: boolean;
  mtimeMs: number;
}

interface PlannedLog extends PlannedFile {
  log: PodLogPath;
  /** `kubectl logs --timestamps` lines (`<time> <text>`), read as CRI `stdout F` lines. */
  kubectl?: boolean;
}

/** A container log whose pod uid or incarnation the pod status must tell (`/var/log/containers` names, `--logs-of`). */
interface UnresolvedLog extends PlannedFile {
  named?: ContainerLogName;
  logsOf?: KubectlLogsOf;
}

function errorText(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string') {
    return `${error.code}: ${error instanceof Error ? error.message : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Every timestamp a pod or event signal carries (the bundle's evidence span, the year of year-less lines). */
function signalTimes(signal: Signal): number[] {
  if (signal.kind === 'event') return signal.firstAt !== undefined ? [signal.firstAt, signal.lastAt] : [signal.lastAt];
  if (signal.kind !== 'pod') return [];
  const p = signal.pod;
  const times: (number | undefined)[] = [p.startTime, p.deletionTimestamp, p.readySince, signal.observedAt];
  for (const s of [...p.statuses, ...p.initStatuses]) {
    times.push(s.lastTerminated?.finishedAt, s.lastTerminated?.startedAt);
    if (s.state.kind === 'running') times.push(s.state.startedAt);
    if (s.state.kind === 'terminated') times.push(s.state.finishedAt, s.state.startedAt);
  }
  return times.filter((t): t is number => t !== undefined);
}

/** Before this, a timestamp is a zero value (`0001-01-01T00:00:00Z`, epoch 0), never a real time in a cluster. */
const ZERO_TIME_BEFORE = Date.UTC(2000, 0, 1);

/**
 * A pod signal with the status times that cannot be true dropped: after the evidence span (dated ahead) or zero
 * values. Times long before the span stay: a container may well have run for months before it died.
 */
function boundPodTimes(signal: Extract<Signal, { kind: 'pod' }>, span: EvidenceSpan | undefined): { signal: Extract<Signal, { kind: 'pod' }>; dropped: number } {
  let dropped = 0;
  const keep = (t: number | undefined): number | undefined => {
    if (t === undefined || (t >= ZERO_TIME_BEFORE && (span === undefined || t <= span.high))) return t;
    dropped++;
    return undefined;
  };
  const fixTerminated = <T extends { startedAt?: number; finishedAt?: number }>(t: T): T => {
    const startedAt = keep(t.startedAt);
    const finishedAt = keep(t.finishedAt);
    const out = { ...t };
    if (startedAt === undefined) delete out.startedAt;
    else out.startedAt = startedAt;
    if (finishedAt === undefined) delete out.finishedAt;
    else out.finishedAt = finishedAt;
    return out;
  };
  const fixStatus = (st: ContainerStatus): ContainerStatus => {
    const out: ContainerStatus = { ...st };
    if (st.lastTerminated) out.lastTerminated = fixTerminated(st.lastTerminated);
    if (st.state.kind === 'terminated') out.state = fixTerminated(st.state);
    else if (st.state.kind === 'running') {
      const startedAt = keep(st.state.startedAt);
      out.state = startedAt === undefined ? { kind: 'running' } : { kind: 'running', startedAt };
    }
    return out;
  };
  const pod = { ...signal.pod, statuses: signal.pod.statuses.map(fixStatus), initStatuses: signal.pod.initStatuses.map(fixStatus) };
  return dropped === 0 ? { signal, dropped } : { signal: { ...signal, pod }, dropped };
}

/** Files probed (real path, stat, first bytes) ahead of the one being classified. */
const PROBE_AHEAD = 16;

type FileProbe = { real: string; size: number; mtimeMs: number; head: Buffer } | { real: string; error: unknown };

/** A file's real path, size, modification time and first bytes (or why it cannot be read); never rejects. */
async function probeFile(readPath: string): Promise<FileProbe> {
  const real = await realpath(readPath).catch(() => readPath);
  try {
    const s = await stat(readPath);
    return { real, size: s.size, mtimeMs: s.mtimeMs, head: await readHead(readPath) };
  } catch (error) {
    return { real, error };
  }
}

/** `ns/pod/container` of a kill decision, the key shared by journal lines and Killing events. */
function momentKey(namespace: string | undefined, pod: string, container: string | undefined): string {
  return `${namespace ?? ''}/${pod}/${container ?? ''}`;
}

/**
 * Reads an analysis bundle (CONTRACT.md section 2) and streams its signals to `onSignal` without holding logs in
 * memory. Order: pods and events files, then kubelet journals, then container logs (incarnations by restart count,
 * each one's rotated files oldest first, then `N.log`; `.gz` decompressed as a stream).
 *
 * Year-less kubelet timestamps: unless `referenceYear`/`referenceTime` are given, the newest pod/event timestamp
 * read in the first phase is the reference (reported via `onReference` and in the report); with no pods or events,
 * the journal file's modification time is used.
 *
 * Never throws for bad input (everything becomes a diagnostic); rethrows what `onSignal` throws.
 */
export async function readBundle(options: ReadBundleOptions): Promise<BundleReport> {
  const scratch: { dir?: string } = {};
  try {
    return await readBundleInto(options, scratch);
  } finally {
    if (scratch.dir !== undefined) await rm(scratch.dir, { recursive: true, force: true });
  }
}

/** `readBundle`, keeping the copies of pipes in `scratch.dir` (removed by the caller). */
async function readBundleInto(options: ReadBundleOptions, scratch: { dir?: string }): Promise<BundleReport> {
  const started = performance.now();
  const maxLineChars = options.maxLineChars ?? 1024 * 1024;
  const maxDiagnostics = options.maxDiagnostics ?? 1000;
  const progressInterval = options.progressIntervalMs ?? 250;
  const stats: BundleStats = {
    files: { kubernetes: 0, kubelet: 0, kernel: 0, containerLogs: 0, skipped: 0 },
    lines: 0,
    bytes: 0,
    signals: { pod: 0, event: 0, kubelet: 0, app_log: 0, kernel_oom: 0, node: 0, total: 0 },
    diagnostics: { error: 0, warning: 0, info: 0 },
    kubeletLinesIgnored: 0,
    durationMs: 0,
  };
  const kept: Diagnostic[] = [];
  let dropped = 0;

  const report = (d: Diagnostic): void => {
    stats.diagnostics[d.severity]++;
    if (kept.length < maxDiagnostics) kept.push(d);
    else dropped++;
    options.onDiagnostic?.(d);
  };
  const diag = (severity: Diagnostic['severity'], code: InputDiagnosticCode, message: string, file?: string, line?: number, offset?: number): void =>
    report(makeDiagnostic(severity, code, message, { file, line, offset }));
  const emit = (signal: Signal): void | Promise<void> => {
    stats.signals[signal.kind]++;
    stats.signals.total++;
    return options.onSignal(signal);
  };

  // ---- progress
  let bytesRead = 0;
  let bytesTotal = 0;
  let lastProgress = -Infinity;
  let currentFile = '';
  let phase: BundleProgress['phase'] = 'kubernetes';
  const progress = (force = false): void => {
    if (!options.onProgress) return;
    const now = performance.now();
    if (!force && now - lastProgress < progressInterval) return;
    lastProgress = now;
    options.onProgress({ bytesRead, bytesTotal, file: currentFile, phase });
  };
  const onRawBytes = (n: number): void => {
    bytesRead += n;
    progress();
  };

  // ---- 1. collect candidates
  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  const walk = async (dir: string, role: Role, root: boolean): Promise<number> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      diag('warning', 'KT_INPUT_UNREADABLE', `cannot read directory: ${errorText(error)}`, dir);
      return 0;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    let files = 0;
    for (const entry of entries) {
      const path = join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const s = await stat(path);
          isDir = s.isDirectory();
          isFile = s.isFile();
        } catch (error) {
          diag('info', 'KT_INPUT_UNREADABLE', `broken symbolic link: ${errorText(error)}`, path);
          continue;
        }
      }
      if (isDir) {
        let real = path;
        try {
          real = await realpath(path);
        } catch {
          // keep the path
        }
        if (seen.has(`dir:${real}`)) continue;
        seen.add(`dir:${real}`);
        files += await walk(path, role, false);
      } else if (isFile) {
        files++;
        candidates.push({ path, readPath: path, role });
      }
    }
    if (root && files === 0) diag('warning', 'KT_INPUT_EMPTY_DIR', 'directory holds no files', dir);
    return files;
  };
  const spool = async (path: string, role: Role): Promise<void> => {
    scratch.dir ??= await mkdtemp(join(tmpdir(), 'killtrace-pipe-'));
    const spoolDir = scratch.dir;
    const name = path === '-' ? STDIN_NAME : path;
    const readPath = join(spoolDir, `${candidates.length}.input`);
    const result = await spoolPipe(path, readPath, options.pipeIdleTimeoutMs ?? 60_000, () => undefined);
    if (result.error) diag('error', 'KT_INPUT_UNREADABLE', `cannot read pipe: ${errorText(result.error)}`, name);
    if (result.timedOut) diag('warning', 'KT_INPUT_STDIN', `no data for ${Math.round((options.pipeIdleTimeoutMs ?? 60_000) / 1000)} s: stopped reading the pipe (${result.bytes} bytes used)`, name);
    if (!result.error) candidates.push({ path: name, readPath, role });
  };
  const addPath = async (path: string, role: Role): Promise<void> => {
    if (path === '-') return spool(path, role);
    try {
      const s = await stat(path);
      if (s.isFIFO() || s.isSocket() || s.isCharacterDevice()) return await spool(path, role);
      if (s.isDirectory()) {
        const real = await realpath(path).catch(() => path);
        seen.add(`dir:${real}`);
        await walk(path, role, true);
      } else candidates.push({ path, readPath: path, role });
    } catch (error) {
      diag('error', 'KT_INPUT_UNREADABLE', `cannot open: ${errorText(error)}`, path);
    }
  };
  for (const p of options.paths ?? []) await addPath(p, 'auto');
  for (const p of options.inputs?.pods ?? []) await addPath(p, 'kubernetes');
  for (const p of options.inputs?.events ?? []) await addPath(p, 'kubernetes');
  for (const p of options.inputs?.kubelet ?? []) await addPath(p, 'kubelet');
  for (const p of options.inputs?.kernel ?? []) await addPath(p, 'kernel');
  for (const of of options.inputs?.kubectlLogs ?? []) {
    const before = candidates.length;
    await addPath(of.path, 'kubectl-logs');
    for (const c of candidates.slice(before)) c.logsOf = { pod: of.pod, container: of.container, previous: of.previous, ...(of.namespace !== undefined ? { namespace: of.namespace } : {}) };
  }
  for (const p of options.inputs?.logs ?? []) await addPath(p, 'cri');

  // ---- 2. classify by content
  const kubernetesFiles: PlannedFile[] = [];
  const kubeletFiles: PlannedFile[] = [];
  const kernelFiles: PlannedFile[] = [];
  const logFiles: PlannedLog[] = [];
  const unresolvedLogs: UnresolvedLog[] = [];
  const realFiles = new Set<string>();
  const skip = (severity: Diagnostic['severity'], code: InputDiagnosticCode, message: string, path: string): void => {
    stats.files.skipped++;
    diag(severity, code, message, path);
  };
  // Each file's real path, size and first bytes, a few files ahead of the one classified: a bundle of a thousand
  // small files otherwise waits on one file-system round trip after another.
  const probes = new Map<number, Promise<FileProbe>>();
  for (let index = 0; index < candidates.length; index++) {
    const { path, readPath, role, logsOf } = candidates[index] as Candidate;
    for (let k = index; k < Math.min(candidates.length, index + PROBE_AHEAD); k++) {
      if (!probes.has(k)) probes.set(k, probeFile((candidates[k] as Candidate).readPath));
    }
    const probe = await (probes.get(index) as Promise<FileProbe>);
    probes.delete(index);
    if (realFiles.has(probe.real)) continue;
    realFiles.add(probe.real);
    if ('error' in probe) {
      skip('error', 'KT_INPUT_UNREADABLE', `cannot read file: ${errorText(probe.error)}`, path);
      continue;
    }
    const { size, mtimeMs, head } = probe;
    const gzip = isGzipMagic(head);
    const content = gzip ? gunzipHead(head) : head;
    const sniffed: SniffedType = size === 0 ? 'empty' : sniffContent(content);
    if (sniffed === 'empty') {
      skip('warning', 'KT_INPUT_EMPTY_FILE', gzip ? 'compressed file is empty or unreadable' : 'file is empty', path);
      continue;
    }
    if (sniffed === 'binary') {
      skip('warning', 'KT_INPUT_BINARY_FILE', 'file holds binary data (NUL bytes); skipped', path);
      continue;
    }
    const planned: PlannedFile = { path, readPath, role, size, gzip, mtimeMs };
    const log = parsePodLogPath(path);
    const named = log ? undefined : parseContainerLogName(path);
    const kubectlName = role === 'auto' && sniffed === 'kubectl-logs' ? parseKubectlLogName(path) : undefined;
    if (role === 'kubectl-logs' && logsOf) {
      unresolvedLogs.push({ ...planned, logsOf });
    } else if (kubectlName) {
      unresolvedLogs.push({ ...planned, logsOf: kubectlName });
    } else if (role === 'auto' && sniffed === 'kubectl-logs') {
      skip('info', 'KT_INPUT_UNRECOGNIZED_FILE', 'looks like kubectl logs --timestamps output, but its name does not say whose: name it [<namespace>_]<pod>_<container>[_previous].log or use --logs-of', path);
    } else if (!log && named && (role === 'cri' || (role === 'auto' && sniffed === 'cri-log'))) {
      unresolvedLogs.push({ ...planned, named });
    } else if (role === 'kubernetes' || (role === 'auto' && sniffed === 'kubernetes-json')) {
      kubernetesFiles.push(planned);
    } else if (role === 'kubelet' || (role === 'auto' && sniffed === 'kubelet-journal')) {
      kubeletFiles.push(planned);
    } else if (role === 'kernel' || (role === 'auto' && sniffed === 'kernel-log')) {
      kernelFiles.push(planned);
    } else if (role === 'cri' || (role === 'auto' && sniffed === 'cri-log')) {
      if (!log) {
        skip(role === 'cri' ? 'warning' : 'info', 'KT_INPUT_BAD_LOG_PATH', 'not in the `<ns>_<pod>_<uid>/<container>/<N>.log` layout, so its pod is unknown; skipped', path);
      } else if (sniffed !== 'cri-log' && role === 'auto') {
        skip('info', 'KT_INPUT_UNRECOGNIZED_FILE', 'named like a container log but holds no CRI log lines; skipped', path);
      } else {
        logFiles.push({ ...planned, log });
      }
    } else {
      skip('info', 'KT_INPUT_UNRECOGNIZED_FILE', 'not a Kubernetes JSON file, kubelet journal, kernel log or CRI log; skipped', path);
    }
  }
  for (const f of [...kubernetesFiles, ...kubeletFiles, ...kernelFiles, ...logFiles, ...unresolvedLogs]) bytesTotal += f.size;
  const sortLogs = (): PlannedLog[] => logFiles.sort((a, b) => {
    const ka = `${a.log.namespace}\u0000${a.log.pod}\u0000${a.log.uid}\u0000${a.log.container}`;
    const kb = `${b.log.namespace}\u0000${b.log.pod}\u0000${b.log.uid}\u0000${b.log.container}`;
    return ka < kb ? -1 : ka > kb ? 1 : comparePodLogPaths(a.log, b.log) || (a.path < b.path ? -1 : 1);
  });
  sortLogs();

  const readFailure = (result: LineReadResult, file: PlannedFile): void => {
    if (result.invalidUtf8) diag('warning', 'KT_INPUT_INVALID_UTF8', 'invalid UTF-8 replaced by U+FFFD', file.path);
    if (result.binaryAt !== undefined) diag('warning', 'KT_INPUT_BINARY_FILE', 'NUL byte: binary data; the rest of the file was skipped', file.path, undefined, result.binaryAt);
    if (result.error) {
      diag('warning', file.gzip ? 'KT_INPUT_GZIP_ERROR' : 'KT_INPUT_UNREADABLE', `read failed: ${errorText(result.error)}; lines before it were used`, file.path);
    }
  };

  // ---- 3. pods and events: held until all are read, so one timestamp far from the others can be bounded
  const kubernetesSignals: Signal[] = [];
  const notes: InputNote[] = [];
  const note = (code: InputNote['code'], count: number, text: string): void => {
    if (count > 0) notes.push({ code, count, text });
  };
  for (const file of kubernetesFiles) {
    currentFile = file.path;
    stats.files.kubernetes++;
    const splitter = new JsonStreamSplitter({ file: file.path, maxValueChars: options.maxJsonValueChars });
    const decoder = new StringDecoder('utf8');
    let first = true;
    let invalidUtf8 = false;
    let stop = false;
    const handle = async (out: ReturnType<JsonStreamSplitter['push']>): Promise<void> => {
      for (const d of out.diagnostics) report(d);
      for (const v of out.values) {
        if (stop) return;
        if (first) {
          first = false;
          const kind = classifyKubernetesValue(v.value);
          if (kind === 'unknown' && file.role === 'auto') {
            diag('info', 'KT_INPUT_UNRECOGNIZED_FILE', 'JSON file whose first value is not a List, Event, Pod or watch entry; skipped', file.path, v.line, v.offset);
            stop = true;
            return;
          }
        }
        const doc = parseKubernetesDocument(v.value, { file: file.path, line: v.line, offset: v.offset });
        for (const d of doc.diagnostics) report(d);
        for (const s of doc.signals) kubernetesSignals.push(s);
      }
    };
    try {
      for await (const chunk of openSource(file.readPath, file.gzip, onRawBytes)) {
        if (chunk.includes(0)) {
          diag('warning', 'KT_INPUT_BINARY_FILE', 'NUL byte: binary data; the rest of the file was skipped', file.path);
          break;
        }
        stats.bytes += chunk.length;
        const text = decoder.write(chunk);
        if (!invalidUtf8 && text.includes('\ufffd') && !chunk.includes(Buffer.from('\ufffd'))) invalidUtf8 = true;
        for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) stats.lines++;
        await handle(splitter.push(text));
        if (stop) break;
      }
      if (!stop) {
        await handle(splitter.push(decoder.end()));
        await handle(splitter.end());
      }
    } catch (error) {
      diag('warning', file.gzip ? 'KT_INPUT_GZIP_ERROR' : 'KT_INPUT_UNREADABLE', `read failed: ${errorText(error)}; values before it were used`, file.path);
    }
    if (invalidUtf8) diag('warning', 'KT_INPUT_INVALID_UTF8', 'invalid UTF-8 replaced by U+FFFD', file.path);
  }

  // ---- 3b. the evidence span; events dated far outside it keep their other timestamp, or are dropped
  const span = evidenceSpan(kubernetesSignals.flatMap(signalTimes));
  let eventsBounded = 0;
  let eventsDropped = 0;
  let podTimesDropped = 0;
  const killingMoments: SharedMoment[] = [];
  /** Pod uid and container statuses by `ns/name`, to place logs whose names do not say (`/var/log/containers`, `--logs-of`). */
  const podsByName = new Map<string, { uid: string; statuses: ContainerStatus[] }>();
  for (const s of kubernetesSignals) {
    let signal: Signal | undefined = s;
    if (s.kind === 'pod') {
      podsByName.set(`${s.pod.namespace}/${s.pod.name}`, { uid: s.pod.uid, statuses: [...s.pod.statuses, ...s.pod.initStatuses] });
      const bounded = boundPodTimes(s, span);
      if (bounded.dropped > 0) {
        podTimesDropped += bounded.dropped;
        diag('warning', 'KT_INPUT_TIME_OUTLIER', `pod ${s.pod.namespace}/${s.pod.name}: ${bounded.dropped} container status time(s) dated after everything else in the input, or zero; left out`, s.source?.file, s.source?.line);
        signal = bounded.signal;
      }
    }
    if (s.kind === 'event') {
      const lastBad = isOutlier(span, s.lastAt);
      const firstBad = s.firstAt !== undefined && isOutlier(span, s.firstAt);
      if (lastBad && s.firstAt !== undefined && !firstBad) {
        signal = { ...s, lastAt: s.firstAt };
        eventsBounded++;
      } else if (lastBad) {
        signal = undefined;
        eventsDropped++;
      } else if (firstBad) {
        const { firstAt: _dropped, ...rest } = s;
        signal = rest;
        eventsBounded++;
      }
      if (lastBad || firstBad) {
        diag('warning', 'KT_INPUT_TIME_OUTLIER', `event ${s.reason} of ${s.involved.namespace ?? ''}/${s.involved.name} is dated ${new Date(lastBad ? s.lastAt : (s.firstAt as number)).toISOString()}, far outside the ${spanText(span as EvidenceSpan)} the rest of the input covers; ${signal ? 'its other timestamp is used' : 'it was dropped'}`, s.source?.file, s.source?.line);
      }
      if (signal?.kind === 'event' && signal.reason === 'Killing' && signal.container !== undefined && /failed (liveness|startup) probe/.test(signal.message)) {
        const key = momentKey(signal.involved.namespace, signal.involved.name, signal.container);
        killingMoments.push({ key, at: signal.lastAt });
        if (signal.firstAt !== undefined && signal.firstAt !== signal.lastAt) killingMoments.push({ key, at: signal.firstAt });
      }
    }
    if (signal) {
      const r = emit(signal);
      if (r !== undefined) await r;
    }
  }
  kubernetesSignals.length = 0;
  note('event_time_outlier', eventsBounded, `${eventsBounded} event(s) had a timestamp far outside the time the rest of the input covers: their other timestamp was used`);
  note('pod_time_dropped', podTimesDropped, `${podTimesDropped} container status time(s) were dated after everything else in the input (or zero) and were left out`);
  note('event_dropped', eventsDropped, `${eventsDropped} event(s) were dated far outside the time the rest of the input covers (${span ? spanText(span) : ''}) and were left out`);
  const newest = span !== undefined && Number.isFinite(span.newest) ? span.newest : undefined;

  // ---- 3c. container logs named without uid or incarnation: the pod status tells them
  for (const f of unresolvedLogs) {
    const want = f.named ?? f.logsOf;
    if (!want) continue;
    let key = want.namespace !== undefined ? `${want.namespace}/${want.pod}` : undefined;
    if (key === undefined) {
      const matches = [...podsByName.keys()].filter((k) => k.endsWith(`/${want.pod}`));
      key = matches.length === 1 ? matches[0] : undefined;
    }
    const pod = key !== undefined ? podsByName.get(key) : undefined;
    const status = pod?.statuses.find((st) => st.name === want.container);
    const restartCount = status === undefined ? undefined : f.named ? incarnationOfContainerId(status, f.named.containerId) : incarnationOfKubectlLogs(status, f.logsOf?.previous === true);
    if (!pod || !status || restartCount === undefined || key === undefined) {
      const what = f.named ? `container id ${f.named.containerId.slice(0, 12)}` : f.logsOf?.previous ? 'the previous container (kubectl logs --previous)' : 'the current container';
      const why = !pod ? `no pod ${want.namespace !== undefined ? `${want.namespace}/` : ''}${want.pod} in the pods input (add kubectl get pods -o json)` : !status ? `pod ${key ?? ''} has no container ${want.container}` : `the pod status does not name ${what}`;
      skip('warning', 'KT_INPUT_BAD_LOG_PATH', `cannot tell which pod incarnation this log belongs to: ${why}; skipped`, f.path);
      continue;
    }
    const namespace = key.slice(0, key.indexOf('/'));
    logFiles.push({ ...f, log: { namespace, pod: want.pod, uid: pod.uid, container: want.container, restartCount, gzip: f.gzip }, ...(f.logsOf ? { kubectl: true } : {}) });
  }
  if (unresolvedLogs.length > 0) sortLogs();

  // ---- 4. the reference clock for year-less kubelet lines
  let reference: ReferenceClock;
  if (options.referenceYear !== undefined || options.referenceTime !== undefined) {
    const year = options.referenceYear ?? utcYear(options.referenceTime as number);
    reference = options.referenceTime !== undefined ? { year, time: options.referenceTime, basis: 'option' } : { year, basis: 'option' };
  } else if (newest !== undefined) {
    reference = { year: utcYear(newest), time: newest, basis: 'pods-events' };
  } else {
    const mtime = [...kubeletFiles, ...kernelFiles].map((f) => f.mtimeMs).find((t) => t > 0);
    reference = mtime !== undefined ? { year: utcYear(mtime), time: mtime, basis: 'file-mtime' } : { year: 1970, basis: 'none' };
  }
  options.onReference?.(reference);

  // ---- 5. kubelet journals: held until all are read, to measure their clock against the events
  phase = 'kubelet';
  const journalSignals: Signal[] = [];
  for (const file of kubeletFiles) {
    currentFile = file.path;
    stats.files.kubelet++;
    const parser = new KubeletJournalParser({ referenceYear: reference.year, referenceTime: reference.time, file: file.path });
    // A whole node journal mixes the kubelet and the kernel: its OOM-killer lines are evidence too.
    const kernel = new KernelOomParser({ referenceYear: reference.year, referenceTime: reference.time, file: file.path });
    const emitAll = (signals: Signal[]): void => {
      for (const s of signals) journalSignals.push(s);
    };
    const result = await readLines(
      openSource(file.readPath, file.gzip, onRawBytes),
      (line, lineNo) => {
        const signals: Signal[] = parser.push(line, lineNo);
        const kills = kernel.push(line, lineNo);
        if (kills.length > 0) signals.push(...kills);
        if (signals.length > 0) return emitAll(signals);
      },
      { maxLineChars },
    );
    emitAll([...parser.end(), ...kernel.end()]);
    for (const d of kernel.takeDiagnostics()) report(d);
    for (const d of kernel.summary()) report(d);
    stats.lines += result.lines;
    stats.bytes += result.bytes;
    stats.kubeletLinesIgnored += parser.stats.ignored;
    for (const d of parser.takeDiagnostics()) report(d);
    for (const d of parser.summary()) report(d);
    if (result.truncatedLines > 0) diag('info', 'KT_INPUT_LINE_TRUNCATED', `${result.truncatedLines} line(s) longer than ${maxLineChars} characters were truncated`, file.path);
    readFailure(result, file);
  }

  // ---- 5a. the journal's clock against the events: the kill decision and its Killing event are one moment
  const decisions: SharedMoment[] = [];
  for (const s of journalSignals) if (s.kind === 'kubelet' && s.action === 'kill_decision' && s.container !== undefined) decisions.push({ key: momentKey(s.pod.namespace, s.pod.name, s.container), at: s.at });
  const skew = estimateJournalSkew(decisions, killingMoments);
  let shift = 0;
  if (skew?.timeZoneMs !== undefined) {
    shift = skew.timeZoneMs;
    const text = `the kubelet journal's times are ${formatOffset(-shift)} off the events' at ${skew.pairs} kill(s) recorded by both: a journal printed in local time (journalctl -o short*); its times were moved by ${formatOffset(shift)} (use -o short-iso or -o json to avoid this)`;
    note('journal_timezone', skew.pairs, text);
    diag('warning', 'KT_INPUT_CLOCK_SKEW', text);
  } else if (skew !== undefined && Math.abs(skew.offsetMs) >= 2000) {
    const text = `the kubelet journal's clock is about ${formatOffset(-skew.offsetMs)} off the events' (median of ${skew.pairs} kill decision(s) matched to Killing events); times were kept as written`;
    note('journal_skew', skew.pairs, text);
    diag('warning', 'KT_INPUT_CLOCK_SKEW', text);
  }
  for (const s of journalSignals) {
    const r = emit(shift !== 0 && (s.kind === 'kubelet' || s.kind === 'kernel_oom') ? { ...s, at: s.at + shift } : s);
    if (r !== undefined) await r;
  }
  journalSignals.length = 0;
  if (reference.basis === 'option') note('year', 1, `year-less journal timestamps were placed in ${reference.year}, as --year says`);
  else if (reference.basis === 'pods-events' && stats.files.kubelet + kernelFiles.length > 0) note('year', 1, `year-less journal timestamps were placed in the year nearest to the newest pod/event time (${new Date(reference.time as number).toISOString()})`);

  // ---- 5b. kernel logs (journalctl -k, dmesg -T): OOM kills
  phase = 'kernel';
  for (const file of kernelFiles) {
    currentFile = file.path;
    stats.files.kernel++;
    const parser = new KernelOomParser({ referenceYear: reference.year, referenceTime: reference.time, file: file.path });
    const emitAll = async (signals: Signal[]): Promise<void> => {
      for (const s of signals) {
        const r = emit(s);
        if (r !== undefined) await r;
      }
    };
    const result = await readLines(
      openSource(file.readPath, file.gzip, onRawBytes),
      (line, lineNo) => {
        const kills = parser.push(line, lineNo);
        if (kills.length > 0) return emitAll(kills);
      },
      { maxLineChars },
    );
    await emitAll(parser.end());
    stats.lines += result.lines;
    stats.bytes += result.bytes;
    for (const d of parser.takeDiagnostics()) report(d);
    for (const d of parser.summary()) report(d);
    readFailure(result, file);
  }

  // ---- 6. container logs, one incarnation at a time (log-task.ts), here or in workers; outcomes in read order
  phase = 'container-logs';
  const tasks: LogTask[] = [];
  const taskByKey = new Map<string, LogTask>();
  let i = 0;
  while (i < logFiles.length) {
    const firstLog = logFiles[i] as PlannedLog;
    const group: LogTaskFile[] = [];
    while (i < logFiles.length) {
      const f = logFiles[i] as PlannedLog;
      if (f.log.uid !== firstLog.log.uid || f.log.container !== firstLog.log.container || f.log.restartCount !== firstLog.log.restartCount || f.log.pod !== firstLog.log.pod || f.log.namespace !== firstLog.log.namespace) break;
      group.push({ path: f.path, readPath: f.readPath, gzip: f.gzip, size: f.size, kubectl: f.kubectl === true });
      i++;
    }
    const { namespace, pod, uid, container, restartCount } = firstLog.log;
    const key = `${namespace}\u0000${pod}\u0000${uid}\u0000${container}\u0000${restartCount}`;
    const known = taskByKey.get(key);
    if (known) known.groups.push(group);
    else {
      const task: LogTask = { index: tasks.length, incarnation: { namespace, pod, uid, container, restartCount }, groups: [group] };
      tasks.push(task);
      taskByKey.set(key, task);
    }
  }
  taskByKey.clear();
  let criOutliers = 0;
  let criOutOfOrder = 0;
  let outliersListed = 0;
  const applyOutcome = (outcome: LogTaskOutcome): void => {
    stats.files.containerLogs += outcome.files;
    stats.files.skipped += outcome.skippedFiles;
    stats.lines += outcome.lines;
    stats.bytes += outcome.bytes;
    stats.signals.app_log += outcome.signals;
    stats.signals.total += outcome.signals;
    criOutliers += outcome.criOutliers;
    criOutOfOrder += outcome.criOutOfOrder;
    for (const d of outcome.diagnostics) {
      if (d.code === 'KT_INPUT_TIME_OUTLIER' && ++outliersListed > MAX_OUTLIER_DIAGNOSTICS) continue;
      report(d);
    }
  };
  const settings: LogTaskSettings = { maxLineChars, span };
  const hooks: LogTaskHooks = { onRawBytes, onFile: (path) => void (currentFile = path) };
  if (options.containerLogReader && tasks.length > 0) {
    let next = 0;
    const early = new Map<number, LogTaskOutcome>();
    await options.containerLogReader(tasks, settings, hooks, (outcome) => {
      early.set(outcome.index, outcome);
      for (let ready = early.get(next); ready !== undefined; ready = early.get(next)) {
        early.delete(next);
        applyOutcome(ready);
        next++;
      }
    });
    if (next !== tasks.length) throw new Error(`container log reader finished ${next} of ${tasks.length} incarnations`);
  } else {
    for (const task of tasks) applyOutcome(await readLogTask(task, settings, options.onSignal, hooks));
  }

  note('cri_time_outlier', criOutliers, `${criOutliers} container log line(s) were dated far outside the time the rest of the input covers (${span ? spanText(span) : ''}): each was given the time of the line before it`);
  note('cri_out_of_order', criOutOfOrder, `${criOutOfOrder} container log line(s) were dated before the line above them: they were kept in file order, with the earlier line's time`);

  if (stats.signals.pod + stats.signals.event === 0 && stats.signals.kubelet + stats.signals.app_log > 0) {
    diag('info', 'KT_INPUT_NO_POD_DATA', 'no pod or event input: restarts can only be inferred from kubelet lines and container logs');
  }
  if (candidates.length > 0 && kubernetesFiles.length + kubeletFiles.length + kernelFiles.length + logFiles.length + unresolvedLogs.length === 0) {
    diag('warning', 'KT_INPUT_EMPTY_DIR', `none of the ${candidates.length} file(s) is a bundle input`, (options.paths ?? [])[0]);
  }
  phase = 'done';
  progress(true);
  stats.durationMs = performance.now() - started;
  return { stats, reference, notes, diagnostics: kept, diagnosticsDropped: dropped };
}

/** `+2 h`, `-30 min`, `+12 s`. */
function formatOffset(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  const a = Math.abs(ms);
  if (a >= 3_600_000 && a % 3_600_000 === 0) return `${sign}${a / 3_600_000} h`;
  if (a >= 60_000) return `${sign}${Math.round(a / 60_000)} min`;
  return `${sign}${Math.round(a / 1000)} s`;
}
