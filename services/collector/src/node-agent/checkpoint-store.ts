import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * Durable checkpoints of the node agent: where each followed file (by identity) and the journal cursor stand.
 * Written atomically (temp file + fsync + rename + directory fsync) and only ever with positions the producer has
 * acknowledged, so a restart neither loses a line nor re-sends more than the unacknowledged tail.
 */

/** One physical file being read: identity (dev + inode), where it was, and the next unpublished byte. */
export const sourceCheckpointSchema = z.object({
  path: z.string(),
  dev: z.number(),
  ino: z.number(),
  /** Byte offset (of the decompressed content for `.gz`) of the first line not yet acknowledged. */
  offset: z.number().int().nonnegative(),
  /** sha256 of the first `fpLen` bytes: finds the file again after a rename or gzip (which changes the inode). */
  fp: z.string().optional(),
  fpLen: z.number().int().nonnegative().optional(),
  gzip: z.boolean().optional(),
});
export type SourceCheckpoint = z.infer<typeof sourceCheckpointSchema>;

/** A followed path (`N.log`, or the kubelet log file): the files still being read, oldest first. */
export const followerCheckpointSchema = z.object({
  path: z.string(),
  sources: z.array(sourceCheckpointSchema),
});
export type FollowerCheckpoint = z.infer<typeof followerCheckpointSchema>;

export const nodeAgentCheckpointSchema = z.object({
  v: z.literal(1),
  /** Epoch ms of the write. */
  savedAt: z.number(),
  files: z.array(followerCheckpointSchema).default([]),
  journal: z
    .object({
      /** journalctl mode: the `__CURSOR` of the last acknowledged entry. */
      cursor: z.string().optional(),
      /** file mode: the followed kubelet log. */
      file: followerCheckpointSchema.optional(),
    })
    .default({}),
  /** `journalctl -k`: the `__CURSOR` of the last acknowledged kernel entry (nodeAgent.kernelJournal). */
  kernel: z.object({ cursor: z.string().optional() }).default({}),
});
export type NodeAgentCheckpoint = z.infer<typeof nodeAgentCheckpointSchema>;

export const CHECKPOINT_FILE = 'node-agent-checkpoint.json';

export function emptyCheckpoint(): NodeAgentCheckpoint {
  return { v: 1, savedAt: 0, files: [], journal: {}, kernel: {} };
}

export interface CheckpointLoad {
  checkpoint: NodeAgentCheckpoint;
  /** Why an existing checkpoint could not be used (the agent then starts from the beginning of every file). */
  problem?: string;
  found: boolean;
}

export class CheckpointStore {
  readonly file: string;
  private seq = 0;

  constructor(readonly dir: string) {
    this.file = join(dir, CHECKPOINT_FILE);
  }

  async load(): Promise<CheckpointLoad> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { checkpoint: emptyCheckpoint(), found: false };
      throw error;
    }
    try {
      const parsed = nodeAgentCheckpointSchema.safeParse(JSON.parse(text));
      if (parsed.success) return { checkpoint: parsed.data, found: true };
      return { checkpoint: emptyCheckpoint(), found: true, problem: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
    } catch (error) {
      return { checkpoint: emptyCheckpoint(), found: true, problem: (error as Error).message };
    }
  }

  /** Atomically replaces the checkpoint: a crash at any point leaves either the old or the new one. */
  async save(checkpoint: NodeAgentCheckpoint): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = `${this.file}.${process.pid}.${++this.seq}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify(checkpoint));
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, this.file);
    } catch (error) {
      await unlink(tmp).catch(() => undefined);
      throw error;
    }
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } catch {
      // Some file systems refuse fsync on a directory; the rename is still atomic.
    } finally {
      await dir.close();
    }
  }
}
