import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CHECKPOINT_FILE, CheckpointStore, type NodeAgentCheckpoint } from './checkpoint-store.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('CheckpointStore', () => {
  it('round-trips a checkpoint and leaves no temp files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kt-cp-'));
    dirs.push(dir);
    const store = new CheckpointStore(join(dir, 'nested'));
    expect(await store.load()).toMatchObject({ found: false });
    const cp: NodeAgentCheckpoint = {
      v: 1,
      savedAt: 1,
      files: [{ path: '/p/0.log', sources: [{ path: '/p/0.log', dev: 1, ino: 2, offset: 42, fp: 'ab', fpLen: 10 }] }],
      journal: { cursor: 's=1;i=2' },
      kernel: { cursor: 's=1;i=9' },
    };
    await store.save(cp);
    await store.save({ ...cp, savedAt: 2 });
    expect(await store.load()).toEqual({ checkpoint: { ...cp, savedAt: 2 }, found: true });
    expect(await readdir(join(dir, 'nested'))).toEqual([CHECKPOINT_FILE]);
  });

  it('reports a corrupt checkpoint and starts empty', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kt-cp-'));
    dirs.push(dir);
    await writeFile(join(dir, CHECKPOINT_FILE), '{"v":1,"savedAt":');
    const loaded = await new CheckpointStore(dir).load();
    expect(loaded.found).toBe(true);
    expect(loaded.problem).toBeDefined();
    expect(loaded.checkpoint.files).toEqual([]);
  });
});
