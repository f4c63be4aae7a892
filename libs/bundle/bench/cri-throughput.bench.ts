/**
 * readBundle vs a plain `readline` over the same CRI log tree (both in this process, files warm in the page cache).
 *   npx tsx libs/bundle/bench/cri-throughput.bench.ts [dir] [megabytes]
 * Generates `<dir>` (default $TMPDIR/killtrace-cri-bench) with ~`megabytes` MB of CRI logs when missing.
 */
import { createReadStream, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { readBundle } from '../src/index.js';

const dir = process.argv[2] ?? join(tmpdir(), 'killtrace-cri-bench');
const megabytes = Number(process.argv[3] ?? 200);

function generate(): void {
  const pods = 20;
  const perFile = Math.ceil((megabytes * 1024 * 1024) / (pods * 2 * 2));
  let seed = 42;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let p = 0; p < pods; p++) {
    for (const container of ['app', 'sidecar']) {
      const d = join(dir, 'var/log/pods', `bench_pod-${p}-7d5f8b9c6-k2l9p_uid-${p}`, container);
      mkdirSync(d, { recursive: true });
      for (let n = 0; n < 2; n++) {
        const parts: string[] = [];
        let size = 0;
        let t = Date.UTC(2026, 9, 2, 6, 0, 0) + n * 3_600_000;
        while (size < perFile) {
          t += rand() * 50;
          const ts = new Date(t).toISOString().replace('Z', `${Math.floor(rand() * 1000)}Z`);
          const stream = rand() < 0.8 ? 'stdout' : 'stderr';
          const len = 40 + Math.floor(rand() * 160);
          const msg = `{"level":"info","msg":"request served","path":"/api/v1/items/${Math.floor(rand() * 1e6)}","pad":"${'x'.repeat(len)}"}`;
          const line = rand() < 0.02 ? `${ts} ${stream} P ${msg}\n${ts} ${stream} F  continued\n` : `${ts} ${stream} F ${msg}\n`;
          parts.push(line);
          size += line.length;
        }
        writeFileSync(join(d, `${n}.log`), parts.join(''));
      }
    }
  }
}

function listFiles(d: string): string[] {
  return readdirSync(d).flatMap((name) => {
    const p = join(d, name);
    return statSync(p).isDirectory() ? listFiles(p) : [p];
  });
}

async function plainReadline(files: string[]): Promise<number> {
  let lines = 0;
  for (const f of files) {
    const rl = createInterface({ input: createReadStream(f), crlfDelay: Infinity });
    for await (const _line of rl) lines++;
  }
  return lines;
}

if (!existsSync(dir)) generate();
const files = listFiles(dir);
const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
const mb = bytes / 1024 / 1024;
console.log(`${files.length} files, ${mb.toFixed(1)} MB`);
await plainReadline(files.slice(0, 2)); // warm up
for (let round = 0; round < 2; round++) {
  let t = performance.now();
  const lines = await plainReadline(files);
  const readlineSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  let signals = 0;
  let rssPeak = 0;
  const report = await readBundle({
    paths: [dir],
    onSignal: () => {
      signals++;
    },
    onProgress: () => {
      rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    },
  });
  const bundleSeconds = (performance.now() - t) / 1000;
  console.log(
    `round ${round + 1}: readline ${(mb / readlineSeconds).toFixed(0)} MB/s (${lines} lines, ${readlineSeconds.toFixed(2)} s) | ` +
      `readBundle ${(mb / bundleSeconds).toFixed(0)} MB/s (${signals} signals, ${report.stats.lines} lines, ${bundleSeconds.toFixed(2)} s) | ` +
      `ratio ${(readlineSeconds / bundleSeconds).toFixed(2)} | peak RSS ${(rssPeak / 1024 / 1024).toFixed(0)} MB`,
  );
}
