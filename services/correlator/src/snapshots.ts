import { createHash, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { z } from 'zod';
import { decodeMessage, readPartitions, topicPartitionCount, type KafkaConnection, type KillProducer, type TypedTopicProducer } from '@killtrace/kafka';
import type { Logger } from '@killtrace/logging';
import type { StepProfile } from '@killtrace/schemas';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { CorrelatorServiceOptions } from './correlator-options.js';
import { partitionSnapshotSchema, SNAPSHOT_VERSION, type PartitionSnapshot } from './snapshot-schema.js';

/**
 * Per-partition state snapshots in a compacted Kafka topic (decision 0016), so a restarted correlator starts from
 * the latest snapshot of a partition and replays only what follows it instead of the whole state window.
 *
 * A snapshot is the JSON of `PartitionSnapshot` (snapshot-schema.ts), gzipped and cut into chunks that stay under
 * Kafka's default 1 MB message size, written to the partition's own partition of the topic: first the chunks, then
 * a manifest that names them (id, count, SHA-256). Keys: `<group>/<partition>` for the manifest and
 * `<group>/<partition>/<slot>/<index>` for chunks. Consecutive snapshots alternate between two slots, so a crash while
 * chunks are written only damages the slot the current manifest does not point at, and compaction keeps exactly
 * the latest manifest and the chunks of both slots. Anything that does not check out when read (unknown version,
 * schema, checksum, other settings) is ignored with a warning: the partition is rebuilt by replay, as without
 * snapshots.
 */

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Raw (gzipped) bytes per chunk: base64 and the JSON envelope keep a message near 700 KB, under 1 MB. */
export const DEFAULT_CHUNK_BYTES = 512 * 1024;

const chunkMessageSchema = z.object({
  v: z.literal(SNAPSHOT_VERSION),
  kind: z.literal('chunk'),
  id: z.string().min(1),
  index: z.int().min(0),
  /** Base64 of this chunk's slice of the gzipped snapshot. */
  data: z.string(),
});

const manifestMessageSchema = z.object({
  v: z.literal(SNAPSHOT_VERSION),
  kind: z.literal('manifest'),
  id: z.string().min(1),
  groupId: z.string().min(1),
  partition: z.int().min(0),
  slot: z.union([z.literal(0), z.literal(1)]),
  chunks: z.int().min(1),
  /** Gzipped size, all chunks together. */
  bytes: z.int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  takenAt: z.number().finite(),
  /** Next offset per topic the snapshot covers (also inside the payload; here for operators reading the topic). */
  covers: z.record(z.string(), z.int().min(0)),
});

/** Every message of the snapshots topic. */
export const snapshotMessageSchema = z.discriminatedUnion('kind', [chunkMessageSchema, manifestMessageSchema]);

/** Only the version, read first: a newer writer's manifest is reported as such, not as a schema failure. */
const versionOnly = z.object({ v: z.unknown() });

/** What one partition's state holds besides the input: a snapshot taken under other settings is not used. */
export function snapshotSettings(options: CorrelatorServiceOptions, profiles: readonly StepProfile[]): string {
  const shaping = {
    clusterName: options.config.clusterName,
    stateWindowMs: options.stateWindowMs,
    allowedLatenessMs: options.allowedLatenessMs,
    evictEveryMs: options.evictEveryMs,
    nodeClassLabels: options.config.correlation.nodeClassLabels,
    profiles,
  };
  return createHash('sha256').update(JSON.stringify(shaping)).digest('hex');
}

/** The partition state part of a snapshot (PartitionState.capture), before the store adds who and when. */
export type SnapshotCapture = Omit<PartitionSnapshot, 'v' | 'groupId' | 'partition' | 'takenAt' | 'settings'>;

export interface SnapshotStoreOptions {
  kafka: KafkaConnection;
  producer: KillProducer;
  topic: string;
  groupId: string;
  logger: Logger;
  registry?: Registry;
  chunkBytes?: number;
}

export interface WrittenSnapshot {
  bytes: number;
  chunks: number;
  ms: number;
}

export class SnapshotStore {
  private readonly out: TypedTopicProducer<typeof snapshotMessageSchema>;
  private partitions: number | undefined;
  /** Slot of the next write per partition (the one the latest manifest does not use). */
  private readonly nextSlot = new Map<number, 0 | 1>();
  private readonly outcomes: Counter<'outcome'>;
  private readonly sizes: Histogram;

  constructor(private readonly options: SnapshotStoreOptions) {
    this.out = options.producer.topic(options.topic, snapshotMessageSchema);
    const registers = options.registry === undefined ? [] : [options.registry];
    this.outcomes = new Counter({
      name: 'killtrace_correlator_snapshots_total',
      help: 'Partition state snapshots written, restored at assignment, ignored (invalid, unknown version, other settings, not covered by the commits) or absent.',
      labelNames: ['outcome'],
      registers,
    });
    this.sizes = new Histogram({
      name: 'killtrace_correlator_snapshot_bytes',
      help: 'Gzipped size of the partition state snapshots written.',
      buckets: [1e3, 1e4, 1e5, 1e6, 4e6, 16e6, 64e6, 256e6],
      registers,
    });
  }

  /** Counts an outcome decided by the caller (a snapshot read but not usable against the committed offsets). */
  count(outcome: 'restored' | 'ignored' | 'none'): void {
    this.outcomes.inc({ outcome });
  }

  /** Writes one partition's snapshot: chunks first, then the manifest that makes it the latest. */
  async write(partition: number, settings: string, capture: SnapshotCapture, takenAt: number): Promise<WrittenSnapshot> {
    const started = Date.now();
    const snapshot: PartitionSnapshot = { v: SNAPSHOT_VERSION, groupId: this.options.groupId, partition, takenAt, settings, ...capture };
    const gz = await gzipAsync(Buffer.from(JSON.stringify(snapshot), 'utf8'));
    const chunkBytes = this.options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    const chunks = Math.max(1, Math.ceil(gz.length / chunkBytes));
    const id = `${takenAt.toString(36)}-${randomBytes(4).toString('hex')}`;
    const slot = this.nextSlot.get(partition) ?? 0;
    const target = partition % (await this.partitionCount());
    const key = this.key(partition);
    // One message per send: the chunks of one partition would otherwise form one record batch over the size limit.
    for (let index = 0; index < chunks; index += 1) {
      const data = gz.subarray(index * chunkBytes, (index + 1) * chunkBytes).toString('base64');
      await this.out.send([{ key: `${key}/${slot}/${index}`, partition: target, value: { v: SNAPSHOT_VERSION, kind: 'chunk', id, index, data } }]);
    }
    const covers = Object.fromEntries(Object.entries(capture.topics).map(([topic, t]) => [topic, t.next]));
    const sha256 = createHash('sha256').update(gz).digest('hex');
    await this.out.send([
      { key, partition: target, value: { v: SNAPSHOT_VERSION, kind: 'manifest', id, groupId: this.options.groupId, partition, slot, chunks, bytes: gz.length, sha256, takenAt, covers } },
    ]);
    this.nextSlot.set(partition, slot === 0 ? 1 : 0);
    this.outcomes.inc({ outcome: 'written' });
    this.sizes.observe(gz.length);
    const written = { bytes: gz.length, chunks, ms: Date.now() - started };
    this.options.logger.debug({ event: 'SnapshotWritten', partition, covers, ...written }, 'partition state snapshot written');
    return written;
  }

  /**
   * The latest valid snapshot of each partition taken under `settings`; a partition without one is absent. Never
   * throws for what it reads: each reason to ignore a snapshot is one warning naming the partition. Failing to read
   * the topic at all does throw (the caller falls back to replay for every partition).
   */
  async read(partitions: readonly number[], settings: string): Promise<Map<number, PartitionSnapshot>> {
    const count = await this.partitionCount();
    const latest = new Map<string, Buffer | null>();
    const messages = await readPartitions(this.options.kafka, {
      topic: this.options.topic,
      partitions: [...new Set(partitions.map((p) => p % count))],
      groupId: `${this.options.groupId}.snapshot-reader.${randomBytes(4).toString('hex')}`,
    });
    for (const m of messages) if (m.key !== null) latest.set(m.key, m.value);
    const out = new Map<number, PartitionSnapshot>();
    for (const partition of partitions) {
      const result = await this.assemble(partition, latest, settings);
      if (result.ok) out.set(partition, result.snapshot);
      else if (result.reason === undefined) this.nextSlot.set(partition, 0);
      else this.ignored(partition, result.reason);
    }
    return out;
  }

  /** Logs and counts a snapshot that cannot be used; the partition is rebuilt by replay. */
  ignored(partition: number, reason: string): void {
    this.outcomes.inc({ outcome: 'ignored' });
    this.options.logger.warn({ event: 'SnapshotIgnored', partition, topic: this.options.topic, reason }, 'snapshot not used; rebuilding the partition by replay');
  }

  private async assemble(
    partition: number,
    latest: ReadonlyMap<string, Buffer | null>,
    settings: string,
  ): Promise<{ ok: true; snapshot: PartitionSnapshot } | { ok: false; reason?: string }> {
    const key = this.key(partition);
    const raw = latest.get(key);
    if (raw === undefined || raw === null) return { ok: false };
    const version = decodeMessage(versionOnly, raw);
    if (!version.ok) return { ok: false, reason: `manifest ${key} is not JSON: ${version.reason}` };
    if (version.value.v !== SNAPSHOT_VERSION) return { ok: false, reason: `manifest ${key} has version ${JSON.stringify(version.value.v)}; this correlator reads version ${SNAPSHOT_VERSION}` };
    const manifest = decodeMessage(manifestMessageSchema, raw);
    if (!manifest.ok) return { ok: false, reason: `manifest ${key} is invalid: ${manifest.issues.join('; ') || manifest.reason}` };
    const m = manifest.value;
    // Whatever happens below, the next write goes to the other slot: the one this manifest points at stays intact.
    this.nextSlot.set(partition, m.slot === 0 ? 1 : 0);
    const parts: Buffer[] = [];
    for (let index = 0; index < m.chunks; index += 1) {
      const chunkKey = `${key}/${m.slot}/${index}`;
      const chunk = decodeMessage(chunkMessageSchema, latest.get(chunkKey) ?? null);
      if (!chunk.ok) return { ok: false, reason: `chunk ${chunkKey} of snapshot ${m.id}: ${chunk.issues.join('; ') || chunk.reason}` };
      if (chunk.value.id !== m.id || chunk.value.index !== index) return { ok: false, reason: `chunk ${chunkKey} belongs to snapshot ${chunk.value.id}, not ${m.id} (overwritten)` };
      parts.push(Buffer.from(chunk.value.data, 'base64'));
    }
    const gz = Buffer.concat(parts);
    const sha256 = createHash('sha256').update(gz).digest('hex');
    if (sha256 !== m.sha256 || gz.length !== m.bytes) return { ok: false, reason: `snapshot ${m.id}: checksum or size does not match its manifest` };
    let json: unknown;
    try {
      json = JSON.parse((await gunzipAsync(gz)).toString('utf8'));
    } catch (error) {
      return { ok: false, reason: `snapshot ${m.id}: cannot be unpacked: ${(error as Error).message}` };
    }
    const payloadVersion = versionOnly.safeParse(json);
    if (payloadVersion.success && payloadVersion.data.v !== SNAPSHOT_VERSION) return { ok: false, reason: `snapshot ${m.id} has version ${JSON.stringify(payloadVersion.data.v)}` };
    const parsed = partitionSnapshotSchema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      return { ok: false, reason: `snapshot ${m.id} fails the snapshot schema: ${issues.join('; ')}` };
    }
    const snapshot = parsed.data;
    if (snapshot.groupId !== this.options.groupId || snapshot.partition !== partition) return { ok: false, reason: `snapshot ${m.id} is of group ${snapshot.groupId} partition ${snapshot.partition}` };
    if (snapshot.settings !== settings) return { ok: false, reason: `snapshot ${m.id} was taken under other settings (cluster name, state window, lateness or step profiles changed)` };
    return { ok: true, snapshot };
  }

  private key(partition: number): string {
    return `${this.options.groupId}/${partition}`;
  }

  private async partitionCount(): Promise<number> {
    if (this.partitions !== undefined) return this.partitions;
    const count = await topicPartitionCount(this.options.kafka, this.options.topic);
    if (count === 0) throw new Error(`snapshots topic ${this.options.topic} does not exist or has no partitions`);
    this.partitions = count;
    return count;
  }
}

/**
 * When a partition is due for a snapshot: after `everyMessages` messages read since its last one, or once
 * `intervalMs` passed with anything read meanwhile, or right after a replay that re-read messages (that replay's cost
 * is what the next restart saves). Wall-clock time, given by the caller.
 */
export class SnapshotCadence {
  private readonly partitions = new Map<number, { lastAt: number; messages: number; forced: boolean; retryAt: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly everyMessages: number,
  ) {}

  /** A partition was (re)assigned; `replayed` messages were re-read to rebuild it. */
  assigned(partition: number, now: number): void {
    this.partitions.set(partition, { lastAt: now, messages: 0, forced: false, retryAt: Number.NEGATIVE_INFINITY });
  }

  replayed(partition: number, messages: number): void {
    const p = this.partitions.get(partition);
    if (p && messages > 0) p.forced = true;
  }

  /** Messages read live and covered by the flush being taken. */
  read(partition: number, messages: number): void {
    const p = this.partitions.get(partition);
    if (p) p.messages += messages;
  }

  /** `final`: the last flush before a graceful stop, due when anything was read since the last snapshot. */
  due(partition: number, now: number, final = false): boolean {
    const p = this.partitions.get(partition);
    if (!p || now < p.retryAt) return false;
    if (p.forced || p.messages >= this.everyMessages) return true;
    return p.messages > 0 && (final || now - p.lastAt >= this.intervalMs);
  }

  /** A write failed at `at` (Kafka down, topic missing): the next attempt waits one interval, whatever is due. */
  failed(partition: number, at: number): void {
    const p = this.partitions.get(partition);
    if (p) p.retryAt = at + this.intervalMs;
  }

  /** Messages counted since the last snapshot (to pass to `taken` for a capture made now). */
  pending(partition: number): number {
    return this.partitions.get(partition)?.messages ?? 0;
  }

  /** A snapshot captured at `at`, covering `messages` of the pending count, was written. */
  taken(partition: number, at: number, messages: number): void {
    const p = this.partitions.get(partition);
    if (!p) return;
    p.lastAt = at;
    p.messages = Math.max(0, p.messages - messages);
    p.forced = false;
  }
}
