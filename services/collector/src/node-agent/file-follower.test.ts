import { appendFile, mkdtemp, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { FileFollower, safeOffset, type FollowerEvent } from './file-follower.js';

const dirs: string[] = [];
const followers: FileFollower[] = [];
afterEach(async () => {
  for (const f of followers.splice(0)) await f.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kt-follow-'));
  dirs.push(d);
  return d;
}

function follower(path: string, events: FollowerEvent[] = [], rotated: () => Promise<string[]> = async () => []): FileFollower {
  const f = new FileFollower(path, { rotateWaitMs: 0, onEvent: (e) => events.push(e), listRotated: rotated });
  followers.push(f);
  return f;
}

/** Reads and commits everything available; returns the line texts. */
async function drain(f: FileFollower): Promise<string[]> {
  const out: string[] = [];
  for (let batch = await f.read(7); batch !== undefined; batch = await f.read(7)) {
    out.push(...batch.lines.map((l) => l.text));
    f.commit(batch, new Map());
  }
  return out;
}

describe('FileFollower', () => {
  it('finishes a rotated file (late writes included) before the new one, and drops it after the wait', async () => {
    const dir = await tempDir();
    const path = join(dir, '0.log');
    await writeFile(path, 'a1\na2\n');
    const events: FollowerEvent[] = [];
    const f = follower(path, events);
    await f.init(undefined, 0, true);
    expect(await drain(f)).toEqual(['a1', 'a2']);
    await rename(path, `${path}.20260101-000000`);
    await appendFile(`${path}.20260101-000000`, 'a3\n');
    await writeFile(path, 'b1\n');
    await writeFile(`${path}.20260101-000000.gz`, gzipSync(await readFile(`${path}.20260101-000000`)));
    await unlink(`${path}.20260101-000000`);
    await f.poll();
    expect(events.map((e) => e.type)).toContain('rotated');
    expect(await drain(f)).toEqual(['a3', 'b1']);
    await f.poll();
    expect(f.sources).toHaveLength(1);
    expect(events.map((e) => e.type)).toContain('dropped');
  });

  it('reads a truncated file again from the start', async () => {
    const dir = await tempDir();
    const path = join(dir, 'kubelet.log');
    await writeFile(path, 'one\ntwo\n');
    const f = follower(path);
    await f.init(undefined, 0, false);
    expect(await drain(f)).toEqual(['one', 'two']);
    await writeFile(path, 'x\n');
    await f.poll();
    expect(await drain(f)).toEqual(['x']);
  });

  it('never checkpoints past a held line or an incomplete one', async () => {
    const dir = await tempDir();
    const path = join(dir, '0.log');
    await writeFile(path, 'l1\nl2\npartial');
    const f = follower(path);
    await f.init(undefined, 0, false);
    const batch = await f.read(1024);
    expect(batch?.lines.map((l) => l.text)).toEqual(['l1', 'l2']);
    if (batch === undefined) throw new Error('no batch');
    f.commit(batch, new Map([[batch.source, 3]]));
    expect(f.checkpoint().sources[0]?.offset).toBe(3);
    f.commit(undefined, new Map());
    expect(f.checkpoint().sources[0]?.offset).toBe(6);
    f.rewind();
    expect(await drain(f)).toEqual([]);
    await appendFile(path, '-done\n');
    expect(await drain(f)).toEqual(['partial-done']);
    expect(safeOffset(f.sources[0] as never)).toBe(19);
  });

  it('resumes from a checkpoint: finds the file again by fingerprint after gzip, and reads newer rotations from 0', async () => {
    const dir = await tempDir();
    const path = join(dir, '3.log');
    await writeFile(path, 'old-1\nold-2\nold-3\n');
    const first = follower(path);
    await first.init(undefined, 0, false);
    const batch = await first.read(12);
    if (batch === undefined) throw new Error('no batch');
    first.commit(batch, new Map());
    const cp = first.checkpoint();
    await first.close();
    expect(cp.sources[0]?.offset).toBe(12);
    // While down: rotated and gzipped, a second rotation, then a new live file.
    await rename(path, `${path}.20260101-000000`);
    await writeFile(`${path}.20260101-000000.gz`, gzipSync(await readFile(`${path}.20260101-000000`)));
    await unlink(`${path}.20260101-000000`);
    await writeFile(`${path}.20260101-000100`, 'mid-1\n');
    await writeFile(path, 'new-1\n');
    const rotated = async () => [`${path}.20260101-000000.gz`, `${path}.20260101-000100`];
    const events: FollowerEvent[] = [];
    const second = follower(path, events, rotated);
    await second.init(cp, Date.now(), true);
    expect(await drain(second)).toEqual(['old-3', 'mid-1', 'new-1']);
    expect(events.filter((e) => e.type === 'lost')).toEqual([]);
  });
});
