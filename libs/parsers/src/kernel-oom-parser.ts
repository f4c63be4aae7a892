import type { Diagnostic, KernelOomSignal } from '@killtrace/schemas';
import { DiagnosticCollector } from './diagnostic-collector.js';
import { asObject } from './json-values.js';
import { monthFromAbbreviation, parseRfc3339, yearlessInYear } from './k8s-time.js';
import { validateSignal } from './validate.js';
import { YearPlacement, type YearPlacementOptions } from './year-placement.js';

/**
 * The kernel's OOM-killer report, as `journalctl -k` (short, short-precise, short-iso, cat, json) or `dmesg -T`
 * print it. One report is, in order (mm/oom_kill.c, mm/memcontrol.c):
 *
 *   `<comm> invoked oom-killer: gfp_mask=...`                           dump_header
 *   `memory: usage 524288kB, limit 524288kB, failcnt 42`                mem_cgroup_print_oom_meminfo (memcg OOMs)
 *   `oom-kill:constraint=CONSTRAINT_MEMCG,...,oom_memcg=/kubepods/...,task_memcg=/kubepods/...,task=java,pid=42,uid=0`
 *                                                                       dump_oom_summary / dump_oom_victim (4.19+)
 *   `Memory cgroup out of memory: Killed process 42 (java) total-vm:..kB, anon-rss:..kB, ...`   __oom_kill_process
 *
 * Kernels before 4.19 print `Task in <cgroup> killed as a result of limit of <cgroup>` (mem_cgroup_print_oom_info)
 * instead of the `oom-kill:` summary, and `Killed process ...` without the `<message>: ` prefix.
 */
export interface KernelOomParserOptions extends YearPlacementOptions {
  file?: string;
  /** Host for formats without one (`dmesg`, `cat`). */
  host?: string;
  diagnosticLimit?: number;
}

export interface KernelOomParserStats {
  lines: number;
  /** OOM kills found. */
  kills: number;
  /** Lines without a wall-clock time (`-o cat`, plain `dmesg`): an OOM kill on them cannot be placed. */
  untimed: number;
}

/** Pod uid and runtime container id from a kubelet-made cgroup path (cgroupfs or systemd driver, v1 or v2). */
export interface CgroupIdentity {
  podUid?: string;
  containerId?: string;
}

const POD_UID = /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})/;
const CONTAINER_ID = /(?:^|\/)(?:cri-containerd-|crio-|docker-|containerd-)?([0-9a-f]{64})(?:\.scope)?$/;

/**
 * Reads the pod uid and container id from a cgroup path: `/kubepods/burstable/pod<uid>/<id>` (cgroupfs) or
 * `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid with _>.slice/cri-containerd-<id>.scope`
 * (systemd; the kubelet's cgroup manager escapes the uid's dashes as underscores).
 */
export function parseKubepodsCgroup(path: string | undefined): CgroupIdentity {
  if (path === undefined || !path.includes('kubepods')) return {};
  const out: CgroupIdentity = {};
  const uid = POD_UID.exec(path);
  if (uid) out.podUid = (uid[1] as string).replace(/_/g, '-');
  const id = CONTAINER_ID.exec(path);
  if (id) out.containerId = id[1] as string;
  return out;
}

const SHORT = /^([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? (\S+) ([^\s[:]+)(?:\[\d+\])?:(?: (.*))?$/s;
const ISO = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)) (\S+) ([^\s[:]+)(?:\[\d+\])?:(?: (.*))?$/s;
/** `dmesg -T`: `[Tue Dec  1 08:12:03 2026] text`. */
const DMESG_T = /^\[[A-Z][a-z]{2} ([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\d{4})\] ?(.*)$/s;
/** `dmesg --time-format iso`: `2026-12-01T08:12:03,123456+00:00 text`. */
const DMESG_ISO = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)) (.*)$/s;
/** Plain `dmesg` (seconds since boot) or a syslog copy of the printk time: `[12345.678901] text`. */
const MONOTONIC = /^\[ *\d+\.\d+\] ?(.*)$/s;

const INVOKED = /^(.+?) invoked oom-killer: /;
const MEMINFO = /^memory: usage (\d+)kB, limit (\d+)kB, failcnt \d+/;
const KILLED = /^(?:([^:]+): )?Killed process (\d+) \((.*)\) total-vm:\d+kB, anon-rss:(\d+)kB/;
const TASK_IN = /^Task in (\S+) killed as a result of limit of (\S+)/;
const SUMMARY_KEYS = /(?:^|,)(constraint|nodemask|cpuset|mems_allowed|oom_memcg|task_memcg|task|pid|uid)=/g;

interface Summary {
  constraint?: string;
  limitCgroup?: string;
  cgroup?: string;
  task?: string;
  pid?: number;
}

interface Report {
  memoryLimitBytes?: number;
  memoryUsageBytes?: number;
  summary?: Summary;
  at?: number;
  host?: string;
  lineNo: number;
}

/** Parses the `key=value,...` list after `oom-kill:` (values may hold commas: `mems_allowed=0,2`). */
function parseSummary(text: string): Summary {
  const found: Array<{ key: string; valueStart: number; keyStart: number }> = [];
  SUMMARY_KEYS.lastIndex = 0;
  for (let m = SUMMARY_KEYS.exec(text); m !== null; m = SUMMARY_KEYS.exec(text)) {
    found.push({ key: m[1] as string, keyStart: m.index, valueStart: m.index + m[0].length });
  }
  const values: Record<string, string> = {};
  for (let i = 0; i < found.length; i += 1) {
    const f = found[i] as (typeof found)[number];
    const end = i + 1 < found.length ? (found[i + 1] as (typeof found)[number]).keyStart : text.length;
    values[f.key] = text.slice(f.valueStart, end).trim();
  }
  const out: Summary = {};
  if (values.constraint) out.constraint = values.constraint;
  if (values.oom_memcg && values.oom_memcg !== '(null)') out.limitCgroup = values.oom_memcg;
  if (values.task_memcg && values.task_memcg !== '(null)') out.cgroup = values.task_memcg;
  if (values.task) out.task = values.task;
  const pid = Number(values.pid);
  if (values.pid !== undefined && Number.isInteger(pid) && pid >= 0) out.pid = pid;
  return out;
}

/**
 * Incremental parser of kernel logs into KernelOomSignals: one per `Killed process` line (or per `oom-kill:`
 * summary whose kill line never came), with the cgroup, limit and usage the same report printed before it.
 * Every other kernel line is counted and ignored; only lines that cannot be placed in time are diagnosed.
 */
export class KernelOomParser {
  readonly stats: KernelOomParserStats = { lines: 0, kills: 0, untimed: 0 };
  private readonly diagnostics: DiagnosticCollector;
  private report: Report | undefined;
  private readonly years: YearPlacement;

  constructor(private readonly options: KernelOomParserOptions) {
    this.diagnostics = new DiagnosticCollector(options.file, options.diagnosticLimit);
    this.years = new YearPlacement(options);
  }

  /** True while an OOM report has begun and its kill line has not come yet (a follower holds its position there). */
  get pending(): boolean {
    return this.report !== undefined;
  }

  /** Feeds one line (without its newline); returns the OOM kills it completed. */
  push(line: string, lineNo: number): KernelOomSignal[] {
    this.stats.lines += 1;
    const out: KernelOomSignal[] = [];
    const entry = this.unwrap(line.endsWith('\r') ? line.slice(0, -1) : line);
    if (entry === undefined) return out;
    this.handle(entry.message, entry.at, entry.host, lineNo, out);
    return out;
  }

  /** Ends the input: a summary whose kill line was cut off still counts as a kill. */
  end(): KernelOomSignal[] {
    const out: KernelOomSignal[] = [];
    this.flushSummary(out);
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

  /** Splits a line into its message and wall-clock time, whatever the format. */
  private unwrap(line: string): { message: string; at: number | undefined; host: string | undefined } | undefined {
    if (line.length === 0) return undefined;
    let host = this.options.host;
    const c = line.charCodeAt(0);
    if (c === 123) {
      let entry: Record<string, unknown> | undefined;
      try {
        entry = asObject(JSON.parse(line));
      } catch {
        return undefined;
      }
      if (!entry || typeof entry.MESSAGE !== 'string') return undefined;
      const usec = entry.__REALTIME_TIMESTAMP;
      const n = typeof usec === 'string' ? Number(usec) : typeof usec === 'number' ? usec : NaN;
      if (typeof entry._HOSTNAME === 'string') host = entry._HOSTNAME;
      const at = Number.isFinite(n) && n > 0 ? n / 1000 : undefined;
      if (at !== undefined) this.noteAnchor(at);
      return { message: stripMonotonic(entry.MESSAGE), at, host };
    }
    if (c === 45 && line.startsWith('-- ')) return undefined;
    if (c === 91) {
      const t = DMESG_T.exec(line);
      if (t) {
        const month = monthFromAbbreviation(t[1] as string);
        const at = month === undefined ? undefined : yearlessInYear({ month, day: Number(t[2]), hour: Number(t[3]), minute: Number(t[4]), second: Number(t[5]), fractionMs: 0 }, Number(t[6]));
        if (at !== undefined) this.noteAnchor(at);
        return { message: t[7] as string, at, host };
      }
      const m = MONOTONIC.exec(line);
      if (m) return { message: m[1] as string, at: undefined, host };
    }
    if (c >= 48 && c <= 57) {
      const iso = ISO.exec(line);
      if (iso) {
        const at = parseRfc3339((iso[1] as string).replace(',', '.'));
        if (at !== undefined) this.noteAnchor(at);
        return { message: stripMonotonic(iso[4] ?? ''), at, host: iso[2] };
      }
      const d = DMESG_ISO.exec(line);
      if (d) {
        const at = parseRfc3339((d[1] as string).replace(',', '.'));
        if (at !== undefined) this.noteAnchor(at);
        return { message: d[2] as string, at, host };
      }
    }
    if (c >= 65 && c <= 90 && line.charCodeAt(3) === 32 && monthFromAbbreviation(line.slice(0, 3)) !== undefined) {
      const m = SHORT.exec(line);
      if (m) {
        const fraction = m[6] ?? '';
        const at = this.years.place({
          month: monthFromAbbreviation(m[1] as string) as number,
          day: Number((m[2] as string).trim()),
          hour: Number(m[3]),
          minute: Number(m[4]),
          second: Number(m[5]),
          fractionMs: fraction ? (Number(fraction) * 1000) / 10 ** fraction.length : 0,
        });
        return { message: stripMonotonic(m[9] ?? ''), at, host: m[7] };
      }
    }
    return { message: stripMonotonic(line), at: undefined, host }; // -o cat
  }

  private noteAnchor(at: number): void {
    this.years.follow(at);
  }

  private handle(message: string, at: number | undefined, host: string | undefined, lineNo: number, out: KernelOomSignal[]): void {
    // Cheap first test: nearly every kernel line is about something else.
    const o = message.indexOf('oom');
    const k = message.indexOf('Killed process');
    const mem = message.startsWith('memory: usage ');
    const task = message.startsWith('Task in ');
    if (o < 0 && k < 0 && !mem && !task) return;
    if (INVOKED.test(message)) {
      this.flushSummary(out);
      this.report = { lineNo, at, host };
      return;
    }
    if (mem) {
      const m = MEMINFO.exec(message);
      if (m) {
        this.ensureReport(lineNo, at, host);
        const r = this.report as Report;
        r.memoryUsageBytes = Number(m[1]) * 1024;
        r.memoryLimitBytes = Number(m[2]) * 1024;
      }
      return;
    }
    if (task) {
      const m = TASK_IN.exec(message);
      if (m) {
        this.ensureReport(lineNo, at, host);
        const r = this.report as Report;
        r.summary = { ...r.summary, cgroup: m[1] as string, limitCgroup: m[2] as string, constraint: r.summary?.constraint ?? 'CONSTRAINT_MEMCG' };
      }
      return;
    }
    if (message.startsWith('oom-kill:')) {
      this.ensureReport(lineNo, at, host);
      const r = this.report as Report;
      r.summary = { ...r.summary, ...parseSummary(message.slice('oom-kill:'.length)) };
      r.at = at ?? r.at;
      return;
    }
    if (k >= 0) {
      const m = KILLED.exec(message);
      if (!m) return;
      const pid = Number(m[2]);
      const r = this.report;
      const summary = r?.summary && (r.summary.pid === undefined || r.summary.pid === pid) ? r.summary : undefined;
      this.report = undefined;
      this.build(
        {
          at: at ?? r?.at,
          host: host ?? r?.host,
          process: m[3] as string,
          pid,
          anonRssBytes: Number(m[4]) * 1024,
          summary,
          memoryLimitBytes: r?.memoryLimitBytes,
          memoryUsageBytes: r?.memoryUsageBytes,
          text: message,
        },
        lineNo,
        out,
      );
    }
  }

  private ensureReport(lineNo: number, at: number | undefined, host: string | undefined): void {
    if (!this.report) this.report = { lineNo, at, host };
  }

  /** A summary that no kill line followed (cut-off log, or a new report began) is still a kill. */
  private flushSummary(out: KernelOomSignal[]): void {
    const r = this.report;
    this.report = undefined;
    const s = r?.summary;
    if (!r || !s || s.task === undefined) return;
    this.build(
      { at: r.at, host: r.host, process: s.task, pid: s.pid ?? 0, summary: s, memoryLimitBytes: r.memoryLimitBytes, memoryUsageBytes: r.memoryUsageBytes, text: `oom-kill: task=${s.task}` },
      r.lineNo,
      out,
    );
  }

  private build(
    kill: {
      at: number | undefined;
      host: string | undefined;
      process: string;
      pid: number;
      anonRssBytes?: number;
      summary: Summary | undefined;
      memoryLimitBytes: number | undefined;
      memoryUsageBytes: number | undefined;
      text: string;
    },
    lineNo: number,
    out: KernelOomSignal[],
  ): void {
    if (kill.at === undefined) {
      this.stats.untimed += 1;
      this.diagnostics.report('warning', 'KT_INPUT_KERNEL_NO_TIME', `OOM kill of ${kill.process} (pid ${kill.pid}) has no wall-clock time (journalctl -o cat or plain dmesg): use journalctl -k -o short-precise or dmesg -T`, lineNo);
      return;
    }
    const candidate: KernelOomSignal = { kind: 'kernel_oom', at: kill.at, process: kill.process, pid: kill.pid, text: kill.text };
    const s = kill.summary;
    const identity = parseKubepodsCgroup(s?.cgroup);
    const limitIdentity = parseKubepodsCgroup(s?.limitCgroup);
    const podUid = identity.podUid ?? limitIdentity.podUid;
    const containerId = identity.containerId ?? limitIdentity.containerId;
    if (kill.host !== undefined) candidate.host = kill.host;
    if (podUid !== undefined) candidate.podUid = podUid;
    if (containerId !== undefined) candidate.containerId = containerId;
    if (s?.cgroup !== undefined) candidate.cgroup = s.cgroup;
    if (s?.limitCgroup !== undefined) candidate.limitCgroup = s.limitCgroup;
    if (s?.constraint !== undefined) candidate.constraint = s.constraint;
    if (kill.memoryLimitBytes !== undefined) candidate.memoryLimitBytes = kill.memoryLimitBytes;
    if (kill.memoryUsageBytes !== undefined) candidate.memoryUsageBytes = kill.memoryUsageBytes;
    if (kill.anonRssBytes !== undefined) candidate.anonRssBytes = kill.anonRssBytes;
    candidate.source = this.options.file !== undefined ? { file: this.options.file, line: lineNo } : { line: lineNo };
    const signal = validateSignal(candidate, { file: this.options.file, line: lineNo }, this.diagnostics);
    if (signal) {
      this.stats.kills += 1;
      out.push(signal);
    }
  }
}

/** Drops a printk time copied into the message (`[12345.678901] `), as syslog relays write it. */
function stripMonotonic(message: string): string {
  if (message.charCodeAt(0) !== 91) return message;
  const m = MONOTONIC.exec(message);
  return m ? (m[1] as string) : message;
}
