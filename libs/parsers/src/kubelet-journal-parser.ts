import type { Diagnostic, KubeletAction, KubeletSignal, ProbeType } from '@killtrace/schemas';
import { DiagnosticCollector } from './diagnostic-collector.js';
import { monthFromAbbreviation, parseRfc3339, yearlessNearest } from './k8s-time.js';
import { looksLikeKlog, parseKlogHeader, parseKlogPairs, unquoteGo } from './klog.js';
import type { KlogHeader } from './klog.js';
import { asObject } from './json-values.js';
import { stripContainerIdScheme } from './pod-parser.js';
import { validateSignal } from './validate.js';
import { YearPlacement, type YearPlacementOptions } from './year-placement.js';

export interface KubeletJournalParserOptions extends YearPlacementOptions {
  /** File name for diagnostics and signal sources. */
  file?: string;
  /** Host for formats without one (`cat`). */
  host?: string;
  /** Diagnostics listed per code before they are only counted (default 20). */
  diagnosticLimit?: number;
}

/** Counters for one journal. */
export interface KubeletJournalStats {
  lines: number;
  signals: number;
  /** Lines read but not about a restart (the vast majority). */
  ignored: number;
  /** Lines that looked like klog or journal entries but could not be parsed. */
  malformed: number;
}

interface Entry {
  header: KlogHeader;
  message: string;
  pairs: Record<string, string>;
  at: number;
  host: string | undefined;
  lineNo: number;
}

interface PendingMultiline extends Entry {
  key: string;
  lines: string[];
  /** Characters collected so far (a value is capped at MAX_MULTILINE_CHARS). */
  chars: number;
}

const SHORT = /^([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? (\S+) ([^\s[:]+)(?:\[\d+\])?:(?: (.*))?$/s;
const ISO = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)) (\S+) ([^\s[:]+)(?:\[\d+\])?:(?: (.*))?$/s;

const INTERESTING_EXACT = new Set([
  'Probe failed',
  'Probe errored',
  'SyncLoop (probe)',
  'Message for Container of pod',
  'Killing container with a grace period',
  'PreStop hook not completed in grace period',
  'SyncLoop (PLEG): event for pod',
  'Error syncing pod, skipping',
]);

function isInteresting(message: string): boolean {
  return (
    INTERESTING_EXACT.has(message) ||
    message.startsWith('Eviction manager:') ||
    message.startsWith('Shutdown manager killing pod') ||
    /\boom\b/i.test(message)
  );
}

const MAX_MULTILINE_CHARS = 64 * 1024;

function probeTypeOf(value: string | undefined): ProbeType | undefined {
  const v = value?.toLowerCase();
  return v === 'liveness' || v === 'readiness' || v === 'startup' ? v : undefined;
}

function decodeJournalMessage(message: unknown): string | undefined {
  if (typeof message === 'string') return message;
  if (Array.isArray(message) && message.every((b) => typeof b === 'number' && Number.isInteger(b) && b >= 0 && b <= 255)) {
    return new TextDecoder('utf-8').decode(Uint8Array.from(message as number[]));
  }
  return undefined;
}

/**
 * Incremental parser of `journalctl -u kubelet` output in `short`, `short-iso`, `short-precise`, `cat` and `-o json`
 * forms (auto-detected per line). Joins multi-line `key=<` values, prefers the klog header's microseconds over the
 * journal prefix, and turns restart-relevant klog lines into KubeletSignals. Other lines are counted, not diagnosed;
 * malformed klog/journal lines give at most `diagnosticLimit` diagnostics per code, then a summary.
 */
export class KubeletJournalParser {
  readonly stats: KubeletJournalStats = { lines: 0, signals: 0, ignored: 0, malformed: 0 };
  private readonly options: KubeletJournalParserOptions;
  private readonly diagnostics: DiagnosticCollector;
  private pending: PendingMultiline | undefined;
  private readonly years: YearPlacement;
  /** Last `"Eviction manager: attempting to reclaim" resourceName=...`, attached to the evictions that follow. */
  private reclaiming: string | undefined;

  constructor(options: KubeletJournalParserOptions) {
    this.options = options;
    this.diagnostics = new DiagnosticCollector(options.file, options.diagnosticLimit);
    this.years = new YearPlacement(options);
  }

  /** Feeds one journal line (without its newline); returns the signals it completed. */
  push(line: string, lineNo: number): KubeletSignal[] {
    const out: KubeletSignal[] = [];
    this.stats.lines++;
    try {
      this.pushLine(line.endsWith('\r') ? line.slice(0, -1) : line, lineNo, out);
    } catch (error) {
      // Defensive: a parser bug must not stop a bundle.
      this.diagnostics.report('warning', 'KT_INPUT_BAD_JOURNAL_LINE', `could not parse line: ${error instanceof Error ? error.message : String(error)}`, lineNo);
    }
    this.stats.signals += out.length;
    return out;
  }

  /** Ends the input: flushes an unterminated multi-line entry. */
  end(): KubeletSignal[] {
    const out: KubeletSignal[] = [];
    if (this.pending) {
      this.diagnostics.report('info', 'KT_INPUT_UNTERMINATED_MULTILINE', `multi-line value ${this.pending.key}=< not closed before the end of the input`, this.pending.lineNo);
      this.flushPending(out);
    }
    this.stats.signals += out.length;
    return out;
  }

  /** Diagnostics collected so far; clears them. */
  takeDiagnostics(): Diagnostic[] {
    return this.diagnostics.take();
  }

  /** Summary diagnostics (codes over the limit). Call after `end()`. */
  summary(): Diagnostic[] {
    return this.diagnostics.summary();
  }

  private pushLine(line: string, lineNo: number, out: KubeletSignal[]): void {
    if (line.length === 0) return;
    let message: string;
    let prefixAt: number | undefined;
    let host: string | undefined = this.options.host;
    const first = line.charCodeAt(0);
    if (first === 123) {
      // '{': journalctl -o json
      let entry: Record<string, unknown> | undefined;
      try {
        entry = asObject(JSON.parse(line));
      } catch {
        entry = undefined;
      }
      const decoded = entry ? decodeJournalMessage(entry.MESSAGE) : undefined;
      if (!entry || decoded === undefined) {
        this.stats.malformed++;
        this.diagnostics.report('warning', 'KT_INPUT_BAD_JOURNAL_LINE', 'not a journal JSON entry with a MESSAGE', lineNo);
        return;
      }
      message = decoded;
      const usec = entry.__REALTIME_TIMESTAMP;
      const n = typeof usec === 'string' ? Number(usec) : typeof usec === 'number' ? usec : NaN;
      if (Number.isFinite(n) && n > 0) prefixAt = n / 1000;
      if (typeof entry._HOSTNAME === 'string') host = entry._HOSTNAME;
      if (prefixAt !== undefined) this.noteAnchor(prefixAt);
    } else if (first === 45 && line.startsWith('-- ')) {
      // `-- Logs begin at ...`, `-- Reboot --`, `-- No entries --`
      this.stats.ignored++;
      return;
    } else if (first >= 48 && first <= 57 && line.charCodeAt(4) === 45) {
      const m = ISO.exec(line);
      if (!m) {
        this.stats.malformed++;
        this.diagnostics.report('info', 'KT_INPUT_BAD_JOURNAL_LINE', 'unrecognised journal line prefix', lineNo);
        return;
      }
      prefixAt = parseRfc3339((m[1] as string).replace(',', '.'));
      host = m[2];
      message = m[4] ?? '';
      if (prefixAt !== undefined) this.noteAnchor(prefixAt);
    } else if (first >= 65 && first <= 90 && line.charCodeAt(3) === 32 && monthFromAbbreviation(line.slice(0, 3)) !== undefined) {
      const m = SHORT.exec(line);
      if (!m) {
        this.stats.malformed++;
        this.diagnostics.report('info', 'KT_INPUT_BAD_JOURNAL_LINE', 'unrecognised journal line prefix', lineNo);
        return;
      }
      const fraction = m[6] ?? '';
      prefixAt = this.years.place({
        month: monthFromAbbreviation(m[1] as string) as number,
        day: Number((m[2] as string).trim()),
        hour: Number(m[3]),
        minute: Number(m[4]),
        second: Number(m[5]),
        fractionMs: fraction ? (Number(fraction) * 1000) / 10 ** fraction.length : 0,
      });
      host = m[7];
      message = m[9] ?? '';
    } else {
      message = line; // -o cat
    }
    this.handleMessage(message, prefixAt, host, lineNo, out);
  }

  private noteAnchor(at: number): void {
    this.years.follow(at);
  }

  private handleMessage(message: string, prefixAt: number | undefined, host: string | undefined, lineNo: number, out: KubeletSignal[]): void {
    if (this.pending) {
      if (message.charCodeAt(0) === 9) {
        const p = this.pending;
        if (p.chars < MAX_MULTILINE_CHARS) {
          p.lines.push(message.slice(1));
          p.chars += message.length;
        }
        return;
      }
      if (message.startsWith(' >')) {
        const p = this.pending;
        const rest = parseKlogPairs(message, 2);
        Object.assign(p.pairs, rest.pairs);
        this.flushPending(out);
        return;
      }
      this.diagnostics.report('info', 'KT_INPUT_UNTERMINATED_MULTILINE', `multi-line value ${this.pending.key}=< not closed by " >"`, this.pending.lineNo);
      this.flushPending(out);
    }
    if (!looksLikeKlog(message)) {
      this.stats.ignored++;
      return;
    }
    const header = parseKlogHeader(message);
    if (!header) {
      this.stats.malformed++;
      this.diagnostics.report('info', 'KT_INPUT_BAD_KLOG_LINE', 'line starts like klog but its header does not parse', lineNo);
      return;
    }
    if (message.charCodeAt(header.bodyStart) !== 34) {
      this.stats.ignored++; // unstructured klog text (older kubelets): not interpreted
      return;
    }
    const quoted = unquoteGo(message, header.bodyStart);
    if (!quoted) {
      this.stats.malformed++;
      this.diagnostics.report('info', 'KT_INPUT_BAD_KLOG_LINE', 'unterminated quoted klog message', lineNo);
      return;
    }
    if (!isInteresting(quoted.value)) {
      this.stats.ignored++;
      return;
    }
    const at = this.entryTime(header, prefixAt);
    if (at === undefined) {
      this.stats.malformed++;
      this.diagnostics.report('info', 'KT_INPUT_BAD_KLOG_LINE', 'klog header date does not exist', lineNo);
      return;
    }
    const parsed = parseKlogPairs(message, quoted.end);
    if (parsed.error !== undefined) {
      this.stats.malformed++;
      this.diagnostics.report('info', 'KT_INPUT_BAD_KLOG_LINE', `klog key/value pairs: ${parsed.error}`, lineNo);
    }
    const entry: Entry = { header, message: quoted.value, pairs: parsed.pairs, at, host, lineNo };
    if (parsed.multilineKey !== undefined) {
      this.pending = { ...entry, key: parsed.multilineKey, lines: [], chars: 0 };
      return;
    }
    this.emit(entry, out);
  }

  /** The klog header's microseconds are preferred; the journal prefix supplies the year (and, when the two clocks
   *  disagree by more than rounding, e.g. another time zone, the prefix wins with the header's sub-second part). */
  private entryTime(header: KlogHeader, prefixAt: number | undefined): number | undefined {
    if (prefixAt === undefined) return this.years.place(header.time);
    const k = yearlessNearest(header.time, prefixAt);
    if (k !== undefined && Math.abs(k - prefixAt) <= 2000) return k;
    const prefixSecond = Math.floor(prefixAt / 1000);
    const sameSecond = ((prefixSecond % 60) + 60) % 60 === header.time.second;
    return sameSecond ? prefixSecond * 1000 + header.time.fractionMs : prefixAt;
  }

  private flushPending(out: KubeletSignal[]): void {
    const p = this.pending;
    this.pending = undefined;
    if (!p) return;
    p.pairs[p.key] = p.lines.join('\n');
    this.emit(p, out);
  }

  private emit(entry: Entry, out: KubeletSignal[]): void {
    const { pairs, message } = entry;
    const podKey = pairs.pod;
    if (message.startsWith('Eviction manager: attempting to reclaim')) {
      this.reclaiming = pairs.resourceName;
      this.stats.ignored++;
      return;
    }
    const slash = podKey?.indexOf('/') ?? -1;
    const pod = podKey !== undefined && slash > 0 ? { namespace: podKey.slice(0, slash), name: podKey.slice(slash + 1) } : undefined;
    let action: KubeletAction | undefined;
    let probeType: ProbeType | undefined;
    let output: string | undefined;
    let containerId: string | undefined;
    let uid = pairs.podUID;
    let gracePeriodSeconds: number | undefined;
    let containers: (string | undefined)[] = [pairs.containerName];
    switch (message) {
      case 'Probe failed':
        if (pairs.probeResult === undefined || pairs.probeResult === 'failure') action = 'probe_failed';
        probeType = probeTypeOf(pairs.probeType);
        output = pairs.output;
        break;
      case 'Probe errored':
        action = 'probe_errored';
        probeType = probeTypeOf(pairs.probeType);
        output = pairs.err;
        break;
      case 'SyncLoop (probe)':
        if (pairs.status === 'unhealthy') action = 'probe_unhealthy';
        else if (pairs.status === 'ready' || pairs.status === 'started') action = 'probe_ready';
        probeType = probeTypeOf(pairs.probe);
        break;
      case 'Message for Container of pod': {
        action = 'kill_decision';
        output = pairs.containerMessage;
        const m = output === undefined ? null : /failed (liveness|startup) probe/.exec(output);
        probeType = m ? (m[1] as ProbeType) : undefined;
        containerId = this.statusId(pairs.containerStatusID);
        break;
      }
      case 'PreStop hook not completed in grace period':
        action = 'prestop_timeout';
        containerId = stripContainerIdScheme(pairs.containerID);
        gracePeriodSeconds = this.number(pairs.gracePeriod);
        break;
      case 'Killing container with a grace period':
        action = 'killing';
        containerId = stripContainerIdScheme(pairs.containerID);
        gracePeriodSeconds = this.number(pairs.gracePeriod);
        break;
      case 'SyncLoop (PLEG): event for pod': {
        const event = this.json(pairs.event);
        if (event?.Type === 'ContainerDied') action = 'container_died';
        else if (event?.Type === 'ContainerStarted') action = 'container_started';
        if (typeof event?.Data === 'string') containerId = event.Data;
        if (typeof event?.ID === 'string') uid = event.ID;
        break;
      }
      case 'Error syncing pod, skipping': {
        const err = pairs.err ?? '';
        if (!err.includes('CrashLoopBackOff')) break;
        action = 'crash_loop_back_off';
        output = err;
        const names = [...err.matchAll(/for \\?"([^"\\]+)\\?" with CrashLoopBackOff/g)].map((m) => m[1]);
        if (names.length === 0) names.push(/container=(\S+?) pod=/.exec(err)?.[1]);
        containers = names;
        break;
      }
      default:
        if (message.startsWith('Eviction manager:')) {
          if (!message.includes('cannot evict')) action = 'evicted';
          output = this.reclaiming !== undefined ? `reclaiming ${this.reclaiming}` : undefined;
        } else if (message.startsWith('Shutdown manager killing pod')) {
          action = 'node_shutdown';
          gracePeriodSeconds = this.number(pairs.gracePeriod ?? pairs.gracePeriodOverride);
        } else {
          action = 'oom';
        }
    }
    if (action === undefined || pod === undefined) {
      this.stats.ignored++;
      return;
    }
    for (const container of containers) {
      const candidate: KubeletSignal = { kind: 'kubelet', at: entry.at, action, pod: uid !== undefined ? { ...pod, uid } : { ...pod }, text: message };
      if (entry.host !== undefined) candidate.host = entry.host;
      if (container !== undefined) candidate.container = container;
      if (containerId !== undefined) candidate.containerId = containerId;
      if (probeType !== undefined) candidate.probeType = probeType;
      if (output !== undefined) candidate.output = output;
      if (gracePeriodSeconds !== undefined) candidate.gracePeriodSeconds = gracePeriodSeconds;
      candidate.source = this.options.file !== undefined ? { file: this.options.file, line: entry.lineNo } : { line: entry.lineNo };
      const signal = validateSignal(candidate, { file: this.options.file, line: entry.lineNo }, this.diagnostics);
      if (signal) out.push(signal);
    }
  }

  private statusId(value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    const obj = this.json(value);
    if (obj) return typeof obj.ID === 'string' && obj.ID.length > 0 ? obj.ID : undefined;
    return stripContainerIdScheme(value);
  }

  private json(value: string | undefined): Record<string, unknown> | undefined {
    if (value === undefined || !value.startsWith('{')) return undefined;
    try {
      return asObject(JSON.parse(value));
    } catch {
      return undefined;
    }
  }

  private number(value: string | undefined): number | undefined {
    if (value === undefined) return undefined;
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
}
