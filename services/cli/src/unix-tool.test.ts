import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { restartRecordSchema, type RestartRecord } from '@killtrace/schemas';

// These tests run the real command (bin/killtrace.js over dist/, built by `tsc --build`) in a shell, because
// pipes, FIFOs, process substitution and a reader that goes away only exist between processes.
const BIN = fileURLToPath(new URL('../bin/killtrace.js', import.meta.url));
const MIXED = fileURLToPath(new URL('../../../examples/shop-inventory-mixed', import.meta.url));
const KERNEL = fileURLToPath(new URL('../../../test/fixtures/inputs/kernel-oom', import.meta.url));

const temp: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'killtrace-unix-'));
  temp.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temp) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a bash command line with `killtrace` meaning the real CLI. */
function sh(script: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', `killtrace() { node ${JSON.stringify(BIN)} "$@"; }\n${script}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function ndjson(text: string): RestartRecord[] {
  return text
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => restartRecordSchema.parse(JSON.parse(l)));
}

const ids = (records: RestartRecord[]): string[] => records.map((r) => `${r.kubernetes.pod.name}/${r.kubernetes.container.name}/${r.killtrace.restart.count}/${r.killtrace.cause}`).sort();

describe('killtrace analyze as a Unix tool', () => {
  it('reads --events - from stdin and --pods/--kubelet from process substitution, with the same records as the directory', async () => {
    const whole = await sh(`killtrace analyze ${MIXED} -o ndjson`);
    expect(whole.code).toBe(0);
    const piped = await sh(
      `cat ${MIXED}/events.json | killtrace analyze --events - --pods <(cat ${MIXED}/pods.json) --kubelet <(cat ${MIXED}/kubelet-worker-4.log) <(cat ${MIXED}/kubelet-worker-5.log) --logs ${MIXED}/pods -o ndjson`,
    );
    expect(piped.stderr).not.toContain('Error');
    expect(piped.code).toBe(0);
    expect(ids(ndjson(piped.stdout))).toEqual(ids(ndjson(whole.stdout)));
    expect(ndjson(piped.stdout).length).toBeGreaterThan(3);
  });

  it('reads bare JSON arrays of events and pods (kubectl get ... -o json | jq .items), from a pipe too', async () => {
    const items = (file: string): string => `node -e 'process.stdout.write(JSON.stringify(JSON.parse(require("fs").readFileSync(${JSON.stringify(file)}, "utf8")).items, null, 1))'`;
    const whole = await sh(`killtrace analyze ${MIXED}/events.json ${MIXED}/pods.json -o ndjson`);
    const dir = tempDir();
    const arrays = await sh(`${items(`${MIXED}/pods.json`)} > ${dir}/pods-items.json; ${items(`${MIXED}/events.json`)} | killtrace analyze --events - ${dir}/pods-items.json -o ndjson`);
    expect(arrays.code).toBe(0);
    expect(arrays.stderr).not.toContain('KT_INPUT_UNKNOWN_KIND');
    expect(ids(ndjson(arrays.stdout))).toEqual(ids(ndjson(whole.stdout)));
    expect(ndjson(arrays.stdout).length).toBeGreaterThan(0);
  });

  it('names stdin <stdin> in diagnostics and never reads it twice', async () => {
    const r = await sh(`printf '{"kind":"List","items":[{"kind":"Event"' | killtrace analyze --events - -o json`);
    const out = JSON.parse(r.stdout) as { diagnostics: Array<{ file?: string; code: string }> };
    expect(out.diagnostics).toEqual(expect.arrayContaining([expect.objectContaining({ file: '<stdin>', code: 'KT_INPUT_TRUNCATED_JSON' })]));
    const twice = await sh(`echo '{}' | killtrace analyze --events - --pods -`);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('standard input (-) can be given only once');
  });

  it('gives up a FIFO no one writes to after --pipe-timeout, with a warning naming it, instead of hanging', async () => {
    const dir = tempDir();
    const fifo = join(dir, 'events.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const r = await sh(`killtrace analyze --events ${fifo} --pipe-timeout 0.3 --kernel ${KERNEL}/dmesg-T.txt`);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${fifo}: warning KT_INPUT_STDIN no data for 0 s: stopped reading the pipe (0 bytes used)`);
  });

  it('reads a FIFO whose writer comes late', async () => {
    const dir = tempDir();
    const fifo = join(dir, 'kernel.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const r = await sh(`(sleep 0.2; cat ${KERNEL}/kernel-journal.txt > ${fifo}) & killtrace analyze --kernel ${fifo} --logs ${KERNEL}/var/log/pods -o ndjson; wait`);
    expect(r.code).toBe(0);
    const records = ndjson(r.stdout);
    expect(records.map((x) => [x.killtrace.cause, x.killtrace.decided_by, x.killtrace.oom?.process])).toEqual([['oom_killed', 'kernel', 'redis-server']]);
  });

  it('exits quietly when the reader goes away (killtrace analyze B | head -1)', async () => {
    // Enough records that the output is far larger than a pipe's buffer.
    const dir = tempDir();
    const pods = JSON.parse(readFileSync(`${MIXED}/pods.json`, 'utf8')) as { items: Array<{ metadata: { name: string; uid: string } }> };
    const items = [];
    for (let i = 0; i < 300; i += 1) {
      for (const p of pods.items) items.push({ ...p, metadata: { ...p.metadata, name: `${p.metadata.name}-${i}`, uid: `${p.metadata.uid.slice(0, 24)}${String(i).padStart(12, '0')}` } });
    }
    writeFileSync(join(dir, 'pods.json'), JSON.stringify({ kind: 'List', items }));
    const r = await sh(`killtrace analyze ${dir} -o json | head -c 100 > /dev/null`);
    // The read summary still goes to stderr; no stack trace, no EPIPE error.
    expect(r.stderr).toMatch(/^Read: /);
    expect(r.stderr).not.toMatch(/EPIPE|Error:|\n\s+at /);
    expect(r.code).toBe(0);
    const text = await sh(`killtrace analyze ${dir} | head -1`);
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')).toHaveLength(2);
    expect(text.stderr).toBe('');
  });

  it('reads every positional path by content: several per-node directories at once', async () => {
    const cluster = tempDir();
    const node4 = tempDir();
    const node5 = tempDir();
    cpSync(`${MIXED}/events.json`, join(cluster, 'events.json'));
    cpSync(`${MIXED}/pods.json`, join(cluster, 'pods.json'));
    cpSync(`${MIXED}/kubelet-worker-4.log`, join(node4, 'kubelet.log'));
    cpSync(`${MIXED}/kubelet-worker-5.log`, join(node5, 'kubelet.log'));
    cpSync(`${MIXED}/pods`, join(node4, 'pods'), { recursive: true });
    const whole = await sh(`killtrace analyze ${MIXED} -o ndjson`);
    const split = await sh(`killtrace analyze ${cluster} ${node4} ${node5} -o ndjson`);
    expect(split.code).toBe(0);
    expect(split.stderr).toContain('2 kubelet journal');
    expect(ids(ndjson(split.stdout))).toEqual(ids(ndjson(whole.stdout)));
  });
});
