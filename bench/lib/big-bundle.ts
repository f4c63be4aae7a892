/**
 * A large, realistic analysis bundle for benchmarks: the simulator decides the cluster story (many pods, crash
 * loops, OOM kills, app exits, healthy pods; Events, pod status, journals), and a fast streaming writer fills each
 * kept incarnation's CRI log with application lines (80-300 bytes) between its start and end, some files rotated
 * (`N.log.<date>.gz`, `N.log.<date>`, `N.log`).
 */
import { once } from 'node:events';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { renderBundle, writeFiles } from '../../test/scenarios/bundle.js';
import { rng, rotationStamp } from '../../test/scenarios/format.js';
import { simulate, type CriLine, type LogFileSim } from '../../test/scenarios/simulator.js';
import type { IncarnationDesc, PodDesc, Scenario } from '../../test/scenarios/types.js';

export interface BigBundleOptions {
  logMb: number;
  pods?: number;
  seed?: number;
}

export interface BigBundleInfo {
  dir: string;
  /** Every container log file written (plain and `.gz`). */
  logFiles: string[];
  /** Uncompressed bytes of all container log lines. */
  logBytes: number;
  logLines: number;
  rotatedFiles: number;
  terminations: number;
  seconds: number;
}

function behaviour(i: number): IncarnationDesc[] {
  const k = i % 5;
  const init = [
    { at: 0.2, text: '{"level":"info","msg":"service starting"}' },
    { at: 0.8, text: '{"level":"info","msg":"loading dataset"}', step: 'load' },
    { at: 20, text: '{"level":"info","msg":"building cache"}', step: 'cache' },
  ];
  if (k === 0) return [{ log: init, respondsAfter: null, failure: 'timeout' }];
  if (k === 1) return [{ log: init, end: { kind: 'oom', at: 50 } }, { log: init, respondsAfter: 25 }];
  if (k === 2) return [{ log: [...init, { at: 30, text: '{"level":"error","msg":"fatal: schema mismatch"}' }], end: { kind: 'exit', at: 30.2, exitCode: 1 }, repeat: 4 }, { log: init, respondsAfter: 25 }];
  return [{ log: [...init, { at: 24, text: '{"level":"info","msg":"ready"}', ready: true }], respondsAfter: 24 }];
}

export function benchScenario(pods: number, seed: number): Scenario {
  const list: PodDesc[] = [];
  for (let i = 0; i < pods; i++) {
    const app = `svc-${String(i % 40).padStart(2, '0')}`;
    list.push({
      namespace: `team-${i % 7}`,
      name: `${app}-6d5c4b3a2-${(i * 7919).toString(36).padStart(5, 'x').slice(-5)}`,
      node: `worker-${i % 12}`,
      owner: { kind: 'ReplicaSet', name: `${app}-6d5c4b3a2` },
      labels: { app },
      createdAt: (i % 30) * 7,
      containers: [
        {
          name: 'app',
          image: `registry.example.com/${app}:1.${i % 9}.0`,
          livenessProbe: { httpGet: { path: '/livez', port: 8080 }, initialDelaySeconds: 15, periodSeconds: 10 },
          incarnations: behaviour(i),
        },
      ],
    });
  }
  return { name: 'bench', start: '2026-10-02T06:00:00Z', durationSeconds: 1800, seed, pods: list, bundle: { noise: true } };
}

/** Fast CRI timestamp: cached per second, 9-digit fraction with trailing zeros trimmed. */
function makeStamper(): (us: number, ns: number) => string {
  let cachedSec = -1;
  let prefix = '';
  return (us, ns) => {
    const sec = Math.floor(us / 1_000_000);
    if (sec !== cachedSec) {
      cachedSec = sec;
      prefix = new Date(sec * 1000).toISOString().slice(0, 19);
    }
    const frac = `${String(us - sec * 1_000_000).padStart(6, '0')}${String(ns).padStart(3, '0')}`.replace(/0+$/, '');
    return frac ? `${prefix}.${frac}Z` : `${prefix}Z`;
  };
}

const WORDS = ['request', 'served', 'cache', 'miss', 'hit', 'upstream', 'latency', 'batch', 'flushed', 'rows', 'shard', 'rebalance', 'tenant', 'session', 'token', 'refresh', 'queue', 'depth', 'retry', 'backoff', 'checkpoint', 'compaction', 'segment', 'index'];

function bodyPool(random: () => number): string[] {
  const pool: string[] = [];
  for (let i = 0; i < 2048; i++) {
    // Total CRI line 80-300 bytes: ~40 bytes of prefix, 40-260 of text.
    const target = 40 + Math.floor(random() * random() * 220) + Math.floor(random() * 40);
    const level = random() < 0.85 ? 'info' : random() < 0.7 ? 'warn' : 'error';
    let msg = '';
    while (msg.length < target - 60) msg += `${WORDS[Math.floor(random() * WORDS.length)] ?? 'x'} `;
    pool.push(`{"level":"${level}","msg":"${msg.trim()}","trace_id":"${Math.floor(random() * 2 ** 48).toString(16).padStart(12, '0')}","dur_ms":${Math.floor(random() * 900)}}`);
  }
  return pool;
}

async function writeStream(path: string, chunks: AsyncIterable<string> | Iterable<string>, gzip: boolean): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const out = createWriteStream(path);
  if (gzip) {
    await pipeline(Readable.from(chunks), createGzip({ level: 1 }), out);
    return;
  }
  for await (const c of chunks) if (!out.write(c)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

/** Generate the bundle into `dir`. */
export async function writeBigBundle(dir: string, opts: BigBundleOptions): Promise<BigBundleInfo> {
  const began = performance.now();
  const seed = opts.seed ?? 42;
  const pods = opts.pods ?? Math.max(60, Math.min(600, Math.round(opts.logMb / 2)));
  const sim = simulate(benchScenario(pods, seed));
  const files = renderBundle(sim).filter((f) => !f.path.startsWith('pods/'));
  writeFiles(dir, files);

  const random = rng(seed);
  const pool = bodyPool(random);
  const stamp = makeStamper();
  const kept = sim.logs.filter((l) => l.kept);
  const targetBytes = opts.logMb * 1024 * 1024;
  const perFile = targetBytes / kept.length;
  const info: BigBundleInfo = { dir, logFiles: [], logBytes: 0, logLines: 0, rotatedFiles: 0, terminations: sim.truth.length, seconds: 0 };
  let p = 0;

  for (const [fi, file] of kept.entries()) {
    const base = join(dir, 'pods', ...file.dir.split('/'), `${file.restartCount}.log`);
    const lines = await fillLines(file, perFile, pool, () => p++, stamp);
    info.logBytes += lines.bytes;
    info.logLines += lines.count;
    if (fi % 10 === 3) {
      // Rotated twice: oldest gzipped, newer rotated file plain, then the live file.
      const parts = splitThirds(lines.chunks);
      const t1 = file.startedAt + (file.endedAt - file.startedAt) / 3;
      const t2 = file.startedAt + ((file.endedAt - file.startedAt) * 2) / 3;
      const gz = `${base}.${rotationStamp(t1)}.gz`;
      const plain = `${base}.${rotationStamp(t2)}`;
      await writeStream(gz, parts[0] ?? [], true);
      await writeStream(plain, parts[1] ?? [], false);
      await writeStream(base, parts[2] ?? [], false);
      info.logFiles.push(gz, plain, base);
      info.rotatedFiles += 2;
    } else {
      await writeStream(base, lines.chunks, false);
      info.logFiles.push(base);
    }
  }
  info.seconds = (performance.now() - began) / 1000;
  return info;
}

/** The incarnation's simulated lines merged with filler lines, as ~1 MiB string chunks. */
async function fillLines(
  file: LogFileSim,
  bytes: number,
  pool: string[],
  next: () => number,
  stamp: (us: number, ns: number) => string,
): Promise<{ chunks: string[]; bytes: number; count: number }> {
  const avg = averageLine(pool);
  const count = Math.max(1, Math.round(bytes / avg));
  const span = Math.max(1, file.endedAt - file.startedAt - 2_000);
  const step = span / count;
  const chunks: string[] = [];
  let buf = '';
  let total = 0;
  let n = 0;
  const sim = file.lines;
  let si = 0;
  const emit = (l: CriLine) => {
    const line = `${stamp(l.at, l.ns)} ${l.stream} F ${l.text}\n`;
    buf += line;
    total += line.length;
    n++;
    if (buf.length > 1 << 18) {
      chunks.push(buf);
      buf = '';
    }
  };
  for (let i = 0; i < count; i++) {
    const at = Math.floor(file.startedAt + 1_000 + i * step);
    while (si < sim.length && (sim[si]?.at ?? Infinity) <= at) emit(sim[si++]!);
    const k = next();
    emit({ at, ns: k % 1000, stream: k % 17 === 0 ? 'stderr' : 'stdout', text: pool[k % pool.length] ?? '' });
  }
  while (si < sim.length) emit(sim[si++]!);
  if (buf) chunks.push(buf);
  return { chunks, bytes: total, count: n };
}

/** Average CRI line length for this pool (text + `<timestamp> stdout F ` + newline). */
function averageLine(pool: string[]): number {
  return pool.reduce((sum, t) => sum + t.length, 0) / Math.max(1, pool.length) + 41;
}

/** Split chunks into three parts at line boundaries. */
function splitThirds(chunks: string[]): [string[], string[], string[]] {
  if (chunks.length >= 3) {
    const third = Math.floor(chunks.length / 3);
    return [chunks.slice(0, third), chunks.slice(third, 2 * third), chunks.slice(2 * third)];
  }
  const text = chunks.join('');
  const a = text.indexOf('\n', Math.floor(text.length / 3)) + 1;
  const b = text.indexOf('\n', Math.floor((text.length * 2) / 3)) + 1;
  return [[text.slice(0, a)], [text.slice(a, b)], [text.slice(b)]];
}
