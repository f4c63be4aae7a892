/**
 * Turn a simulation into the files an operator collects: `events.json`, `pods.json`, the kubelet journal and the
 * kubelet's log directory (`pods/<ns>_<pod>_<uid>/<container>/<N>.log`, rotated files included).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { coreV1Event, eventsV1Event, type StoredEvent } from './event-recorder.js';
import { journalPrefix, klogHeader, klogValue, rfc3339Nano, rotationStamp } from './format.js';
import type { CriLine, JournalEntry, LogFileSim, Simulation } from './simulator.js';
import type { JournalFormat } from './types.js';

export interface BundleFile {
  /** Relative to the bundle directory, `/`-separated. */
  path: string;
  content: string | Buffer;
}

/** Render one klog entry to its physical lines (multi-line values use klog's `key=<` block). */
export function klogLines(e: JournalEntry, pid: number): string[] {
  const head = klogHeader(e.severity, e.at, pid, e.site);
  if (e.raw) return [head + e.msg];
  const lines: string[] = [];
  let current = `${head}${JSON.stringify(e.msg)}`;
  for (const [k, v] of e.kv) {
    if (typeof v === 'string' && v.includes('\n')) {
      lines.push(`${current} ${k}=<`);
      for (const part of v.split('\n')) lines.push(`\t${part}`);
      current = ' >';
    } else {
      current += ` ${k}=${klogValue(v)}`;
    }
  }
  lines.push(current);
  return lines;
}

export function renderJournal(entries: JournalEntry[], host: string, pid: number, format: JournalFormat): string {
  let out = '';
  for (const e of entries) {
    const prefix = journalPrefix(format, e.at, host, pid);
    for (const line of klogLines(e, pid)) out += `${prefix}${line}\n`;
  }
  return out;
}

/** CRI lines of one text line: split into `P` chunks longer than `max` bytes, last chunk `F`. */
export function criLines(l: CriLine, max: number): string {
  const text = l.text;
  if (Buffer.byteLength(text) <= max) return `${rfc3339Nano(l.at, l.ns)} ${l.stream} F ${text}\n`;
  let out = '';
  let i = 0;
  let chunk = 0;
  while (i < text.length) {
    const piece = text.slice(i, i + max);
    i += max;
    const tag = i >= text.length ? 'F' : 'P';
    out += `${rfc3339Nano(l.at + chunk, (l.ns + chunk * 137) % 1000)} ${l.stream} ${tag} ${piece}\n`;
    chunk++;
  }
  return out;
}

/** The files of one incarnation's log: `N.log`, and `N.log.<stamp>` (older ones gzipped) when rotated. */
export function renderLogFile(file: LogFileSim, maxLine: number, rotateBytes?: number): BundleFile[] {
  const base = `pods/${file.dir}/${file.restartCount}.log`;
  if (!rotateBytes) return [{ path: base, content: file.lines.map((l) => criLines(l, maxLine)).join('') }];
  const parts: Array<{ content: string; rotatedAt: number }> = [];
  let current = '';
  for (const l of file.lines) {
    current += criLines(l, maxLine);
    if (current.length > rotateBytes) {
      // The kubelet checks sizes every 10 s; the rotated name is the rotation time.
      parts.push({ content: current, rotatedAt: Math.min(l.at + 10_000_000, file.endedAt) });
      current = '';
    }
  }
  const kept = parts.slice(-4);
  const files: BundleFile[] = kept.map((p, i) =>
    i === kept.length - 1
      ? { path: `${base}.${rotationStamp(p.rotatedAt)}`, content: p.content }
      : { path: `${base}.${rotationStamp(p.rotatedAt)}.gz`, content: gzipSync(Buffer.from(p.content)) },
  );
  files.push({ path: base, content: current });
  return files;
}

function sortEvents(events: StoredEvent[]): StoredEvent[] {
  return [...events].sort((a, b) => (a.namespace === b.namespace ? (a.name < b.name ? -1 : 1) : a.namespace < b.namespace ? -1 : 1));
}

export function renderBundle(sim: Simulation): BundleFile[] {
  const b = sim.scenario.bundle ?? {};
  const files: BundleFile[] = [];
  const flavour = b.events ?? 'core';
  if (flavour === 'core') {
    files.push({ path: 'events.json', content: `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: sortEvents(sim.events).map((e) => coreV1Event(e)), metadata: { resourceVersion: '' } }, null, 4)}\n` });
  } else if (flavour === 'events.k8s.io') {
    files.push({ path: 'events.json', content: `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: sortEvents(sim.events).map((e) => eventsV1Event(e)), metadata: { resourceVersion: '' } }, null, 4)}\n` });
  } else if (flavour === 'watch') {
    const writes = sim.allEvents.flatMap((ev) => ev.writes.map((w) => ({ ev, w }))).filter((x) => x.w.at <= sim.endUs);
    writes.sort((a, b) => a.w.at - b.w.at);
    files.push({ path: 'events.json', content: writes.map(({ ev, w }) => `${JSON.stringify({ type: w.type, object: coreV1Event(ev, w) }, null, 4)}\n`).join('') });
  }
  if (b.pods !== false) {
    files.push({ path: 'pods.json', content: `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: sim.pods, metadata: { resourceVersion: '' } }, null, 4)}\n` });
  }
  const nodes = sim.scenario.nodes;
  if (nodes && nodes.length > 0) {
    // `kubectl get nodes -o json`: a List of Node objects, as the API server returns them (labels are what matters).
    const items = nodes.map((n) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: n.name, uid: n.uid, labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux', ...n.labels } }, status: { nodeInfo: { kubeletVersion: 'v1.30.4' } } }));
    files.push({ path: 'nodes.json', content: `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } }, null, 4)}\n` });
  }
  const jf = b.kubelet ?? 'short-precise';
  if (jf !== 'none') {
    const nodes = [...sim.journals.keys()].sort();
    for (const node of nodes) {
      const name = nodes.length === 1 ? 'kubelet.log' : `kubelet-${node}.log`;
      files.push({ path: name, content: renderJournal(sim.journals.get(node) ?? [], node, sim.pids.get(node) ?? 2211, jf) });
    }
  }
  if (b.logs !== false) {
    for (const f of sim.logs) if (f.kept) files.push(...renderLogFile(f, b.criMaxLineBytes ?? 16384, b.rotateBytes));
  }
  return files;
}

export function writeFiles(dir: string, files: BundleFile[]): void {
  for (const f of files) {
    const target = join(dir, ...f.path.split('/'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, f.content);
  }
}

/** Write a simulation's bundle into `dir` (created if needed); returns the written relative paths. */
export function writeBundle(dir: string, sim: Simulation): string[] {
  const files = renderBundle(sim);
  writeFiles(dir, files);
  return files.map((f) => f.path);
}
