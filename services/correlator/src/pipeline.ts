import type { ClusterContext } from '@killtrace/correlation';
import { createBatchConsumer, decodeMessage, type BatchConsumer, type BatchPayload, type KafkaConnection, type OffsetCommit } from '@killtrace/kafka';
import type { Logger } from '@killtrace/logging';
import { logMessageSignals, logsTopicMessageSchema, signalMessageSchema, type DeadLetterMessage, type Signal, type StepProfile } from '@killtrace/schemas';
import { Backoff, sleep } from '@killtrace/retry';
import type { CorrelatorServiceOptions } from './correlator-options.js';
import { futureEventLetter, invalidMessageLetter } from './dead-letter.js';
import { checkEventTime } from './event-time-bound.js';
import { PartitionState, type FlushTake, type ReplayPlan, type ReplayRange } from './partition-state.js';
import { SinkAborted, SinkFatal, type RecordSink } from './record-sink.js';
import type { PartitionSnapshot } from './snapshot-schema.js';
import { SnapshotCadence, snapshotSettings, type SnapshotCapture, type SnapshotStore } from './snapshots.js';
import type { Telemetry } from './telemetry.js';
import { decodeCommitClock, decodeCommitMetadata, encodeCommitMetadata } from './watermark.js';

/**
 * The streaming loop: a consumer group over the co-partitioned `signals` and `logs` topics feeding one
 * `PartitionState` per assigned partition number, a flusher that writes what changed and commits the offsets
 * those records cover, replay on every assignment, and back-pressure when a sink fails.
 *
 * Kafka is reached through the batch consumer port of libs/kafka (libs/kafka/src/batch-consumer.ts): manual
 * offsets with metadata, seeks, pause/resume, and commit failures classified (retriable, fatal, generation over).
 */

/** Replay planning retries (offsets not readable yet) and commit retries, on the one back-off policy of libs/retry. */
const PLAN_RETRY = { initialMs: 500, maxMs: 10_000 };
const COMMIT_RETRY = { initialMs: 200, maxMs: 1_000, attempts: 3 };

export interface PipelineDeps {
  kafka: KafkaConnection;
  sink: RecordSink;
  options: CorrelatorServiceOptions;
  logger: Logger;
  telemetry: Telemetry;
  /** Called when the consumer crashed for good (kafkajs will not restart it). */
  onFatal: (error: Error) => void;
  /** Step profiles, in matching order (services/correlator/src/step-profiles.ts). */
  profiles: readonly StepProfile[];
  /** Cluster-wide context every partition's core reads (context-channel.ts, decision 0017). */
  context?: ClusterContext;
  /** State snapshots (snapshots.ts); without them every assignment replays the whole state window. */
  snapshots?: SnapshotStore;
  /**
   * Makes the consumer-group member (default: libs/kafka's kafkajs one). Only the pipeline benchmark passes another
   * implementation of the port (bench/lib/platformatic-batch-consumer.ts, docs/decisions/0013-kafka-client.md).
   */
  createBatchConsumer?: typeof createBatchConsumer;
}

export class Pipeline {
  private readonly consumer: BatchConsumer;
  private readonly signalsTopic: string;
  private readonly logsTopic: string;
  private readonly topics: string[];
  private states = new Map<number, PartitionState>();
  private pendingSeeks = new Map<number, Map<string, number>>();
  private planning: Promise<void> = Promise.resolve();
  private generation = 0;
  private joined = false;
  private stopping = false;
  private readonly stopFlushing = new AbortController();
  private readonly sinkAbort = new AbortController();
  private flushLoop: Promise<void> = Promise.resolve();
  private readonly degraded = new Set<string>();
  private paused = false;
  private replayStartedAt = new Map<number, number>();
  private profiles: readonly StepProfile[];
  /** A sink failed for good (SinkFatal): nothing more is written or committed. */
  private failed = false;
  private readonly cadence: SnapshotCadence | undefined;
  /** The snapshot write in flight per partition (one at a time). */
  private readonly snapshotWrites = new Map<number, Promise<void>>();

  constructor(private readonly deps: PipelineDeps) {
    const { options } = deps;
    this.profiles = deps.profiles;
    this.cadence = options.snapshots && deps.snapshots ? new SnapshotCadence(options.snapshots.intervalMs, options.snapshots.everyMessages) : undefined;
    this.signalsTopic = options.config.kafka.topics.signals;
    this.logsTopic = options.config.kafka.topics.logs;
    this.topics = [this.signalsTopic, this.logsTopic];
    this.consumer = (deps.createBatchConsumer ?? createBatchConsumer)(deps.kafka, {
      groupId: options.groupId,
      topics: this.topics,
      // Partition N of signals and of logs always go to the same member: one pod's evidence meets in one core.
      assigner: 'co-partitioned',
      fromBeginning: true,
      maxBytesPerPartition: options.maxBytesPerPartition,
      maxBytes: options.maxBytes,
      sessionTimeoutMs: options.sessionTimeoutMs,
      heartbeatIntervalMs: Math.min(3_000, Math.floor(options.sessionTimeoutMs / 3)),
      maxWaitTimeMs: 100,
      onAssign: (assignment) => this.onJoin(assignment),
      onBatch: (payload) => this.onBatch(payload),
      onCrash: (error, classified, restart) => {
        this.deps.logger.error({ event: 'ConsumerCrashed', err: error, restart, kind: classified.kind, reason: classified.reason }, 'Kafka consumer crashed');
        this.joined = false;
        if (!restart) this.deps.onFatal(error);
      },
    });
    deps.telemetry.stateSize(() => this.stateSize());
    // Every partition holding a pod of a workload gives the same entry for it (its core counts the context's pods): one per workload.
    deps.telemetry.probeMargins(() => [...new Map([...this.states.values()].flatMap((s) => s.correlator.workloadProbes()).map((w) => [w.workload, w] as const)).values()]);
  }

  /**
   * Swaps the step profiles of every partition's core and of those assigned later, keeping all state (evidence,
   * offsets, what was emitted). New profiles bind to incarnations whose logs start from now on (Correlator.setProfiles).
   */
  setProfiles(profiles: readonly StepProfile[]): void {
    this.profiles = profiles;
    for (const state of this.states.values()) state.correlator.setProfiles(profiles);
  }

  /** The states of the partitions assigned now (the context channel publishes what their pods tell). */
  partitionStates(): PartitionState[] {
    return [...this.states.values()];
  }

  /** Reports sink health; the pipeline pauses the consumer while any sink fails. */
  sinkDegraded(degraded: boolean, sink: string): void {
    const name = sink.split(':')[0] ?? sink;
    if (degraded) this.degraded.add(name);
    else this.degraded.delete(name);
    this.applyPause(sink);
  }

  async start(): Promise<void> {
    await this.consumer.start();
    this.flushLoop = this.runFlushLoop();
  }

  /** Finishes the in-flight batch, writes and commits what it changed, leaves the group. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const grace = setTimeout(() => this.sinkAbort.abort(), this.deps.options.shutdownGraceMs);
    try {
      this.stopFlushing.abort();
      await this.flushLoop;
      // The last snapshots make a graceful restart quick, but never hold the shutdown past its grace.
      const { signal } = this.sinkAbort;
      const graceOver = signal.aborted ? Promise.resolve() : new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      await Promise.race([Promise.allSettled(this.snapshotWrites.values()), graceOver]);
    } finally {
      clearTimeout(grace);
    }
    await this.consumer.disconnect();
  }

  /** `/readyz`: joined, every partition replayed, lag under the threshold, sinks healthy. */
  readiness(): { ok: boolean; detail: string } {
    if (!this.joined) return { ok: false, detail: 'not a member of the consumer group yet' };
    const replaying = [...this.states.values()].filter((s) => s.phase !== 'live').map((s) => s.partition);
    if (replaying.length > 0) return { ok: false, detail: `rebuilding state of partitions ${replaying.join(',')}` };
    if (this.degraded.size > 0) return { ok: false, detail: `sinks failing: ${[...this.degraded].join(', ')}` };
    const lag = [...this.states.values()].reduce((sum, s) => sum + s.lag(), 0);
    if (lag > this.deps.options.readyMaxLag) return { ok: false, detail: `consumer lag ${lag} > ${this.deps.options.readyMaxLag}` };
    return { ok: true, detail: `partitions ${[...this.states.keys()].join(',') || '(none)'}, lag ${lag}` };
  }

  private stateSize(): { pods: number; incarnations: number } {
    let pods = 0;
    let incarnations = 0;
    for (const state of this.states.values()) {
      const stats = state.correlator.stats();
      pods += stats.pods;
      incarnations += stats.incarnationsWithLogs;
    }
    return { pods, incarnations };
  }

  private onJoin(assignment: Readonly<Record<string, readonly number[]>>): void {
    this.generation += 1;
    const generation = this.generation;
    const partitions = [...new Set(this.topics.flatMap((t) => assignment[t] ?? []))].sort((a, b) => a - b);
    const { options } = this.deps;
    // State is rebuilt on every assignment: whatever was ingested but not committed may not have been written.
    this.states = new Map(
      partitions.map((partition) => [
        partition,
        new PartitionState({
          partition,
          topics: this.topics,
          correlator: { clusterName: options.config.clusterName, profiles: this.profiles, nodeClassLabels: options.config.correlation.nodeClassLabels, context: this.deps.context },
          stateWindowMs: options.stateWindowMs,
          allowedLatenessMs: options.allowedLatenessMs,
          evictEveryMs: options.evictEveryMs,
        }),
      ]),
    );
    this.pendingSeeks = new Map();
    for (const partition of partitions) this.cadence?.assigned(partition, Date.now());
    this.joined = true;
    this.deps.telemetry.partitionsAssigned(partitions);
    this.planning = this.planWithRetry(generation, partitions);
  }

  private async planWithRetry(generation: number, partitions: number[]): Promise<void> {
    const backoff = new Backoff(PLAN_RETRY.initialMs, PLAN_RETRY.maxMs);
    for (let attempt = 1; generation === this.generation && !this.stopping; attempt += 1) {
      try {
        const plans = await this.plan(partitions);
        if (generation !== this.generation) return;
        for (const [partition, plan] of plans) {
          const state = this.states.get(partition);
          if (!state) continue;
          const seeks = state.planned(plan);
          // Restored from a snapshot with nothing to replay: live at once, with the snapshot's watermark.
          if (seeks.size === 0 && plan.snapshot !== undefined) this.deps.telemetry.watermark(partition, state.watermark);
          if (seeks.size > 0) {
            this.pendingSeeks.set(partition, seeks);
            this.replayStartedAt.set(partition, Date.now());
            this.deps.telemetry.replayStarted(partition, seeks, plan.watermark);
            // Seek now as well: a quiet partition (nothing after the committed offset) delivers no batch that
            // could carry the seek, and would never replay nor get ready. A batch fetched before this seek took
            // effect still finds the pending seeks in onBatch, is dropped and the seeks repeated.
            for (const [topic, offset] of seeks) this.consumer.seek({ topic, partition, offset: String(offset) });
          }
        }
        return;
      } catch (error) {
        this.deps.logger.warn({ event: 'ReplayPlanFailed', err: error, attempt }, 'cannot read committed offsets yet, retrying');
        await sleep(backoff.failed());
      }
    }
  }

  /**
   * Replay plan per partition: from the offset at (committed watermark - state window) up to the committed
   * offset, per topic. Commit metadata carries the partition watermark; without it (offsets committed by
   * something else) replay starts at the earliest retained offset.
   */
  private async plan(partitions: number[]): Promise<Map<number, ReplayPlan>> {
    const admin = this.consumer.offsetReader();
    await admin.connect();
    try {
      const committed = await admin.committed();
      const byTopic = new Map(committed.map((t) => [t.topic, new Map(t.partitions.map((p) => [p.partition, p]))]));
      const plans = new Map<number, ReplayPlan>();
      const starts = new Map<number, number | undefined>();
      for (const partition of partitions) {
        const marks = this.topics
          .map((t) => byTopic.get(t)?.get(partition))
          .filter((p) => p !== undefined && Number(p.offset) >= 0)
          .map((p) => decodeCommitMetadata(p?.metadata));
        const known = marks.filter((m): m is number => m !== undefined);
        starts.set(partition, known.length === marks.length && known.length > 0 ? Math.min(...known) : undefined);
      }
      const offsetsAt = new Map<string, Map<number, number>>();
      const lowsByTopic = new Map<string, Map<number, number>>();
      for (const topic of this.topics) {
        const lows = new Map((await admin.retained(topic)).map((o) => [o.partition, Number(o.low)]));
        lowsByTopic.set(topic, lows);
        const byTime = new Map<number, Map<number, number>>();
        const result = new Map<number, number>();
        for (const partition of partitions) {
          const wm = starts.get(partition);
          if (wm === undefined) {
            result.set(partition, lows.get(partition) ?? 0);
            continue;
          }
          const at = Math.max(0, Math.floor(wm - this.deps.options.stateWindowMs));
          let offsets = byTime.get(at);
          if (!offsets) {
            offsets = new Map((await admin.offsetsAt(topic, at)).map((o) => [o.partition, Number(o.offset)]));
            byTime.set(at, offsets);
          }
          result.set(partition, offsets.get(partition) ?? lows.get(partition) ?? 0);
        }
        offsetsAt.set(topic, result);
      }
      for (const partition of partitions) {
        const ranges = new Map<string, ReplayRange>();
        for (const topic of this.topics) {
          const until = Number(byTopic.get(topic)?.get(partition)?.offset ?? -1);
          if (until < 0) continue;
          const from = Math.min(until, offsetsAt.get(topic)?.get(partition) ?? 0);
          const clock = decodeCommitClock(byTopic.get(topic)?.get(partition)?.metadata);
          ranges.set(topic, clock === undefined ? { from, until } : { from, until, clock });
        }
        const wm = starts.get(partition);
        plans.set(partition, wm === undefined ? { ranges } : { ranges, watermark: wm });
      }
      await this.applySnapshots(plans, lowsByTopic);
      return plans;
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * Starts each partition from its latest snapshot when the committed offsets cover it: replay then begins at the
   * offsets the snapshot covers instead of (committed watermark - state window). A snapshot ahead of the commits
   * (offsets reset), or behind what the topics still retain, is ignored and the partition replays as without one.
   */
  private async applySnapshots(plans: Map<number, ReplayPlan>, lows: ReadonlyMap<string, ReadonlyMap<number, number>>): Promise<void> {
    const store = this.deps.snapshots;
    if (!store || !this.cadence) return;
    const settings = snapshotSettings(this.deps.options, this.profiles);
    let snapshots: Map<number, PartitionSnapshot>;
    try {
      snapshots = await store.read([...plans.keys()], settings);
    } catch (error) {
      this.deps.logger.warn({ event: 'SnapshotsUnreadable', err: error, topic: this.deps.options.snapshots?.topic }, 'cannot read the snapshots topic; rebuilding every partition by replay');
      return;
    }
    for (const [partition, plan] of plans) {
      const snapshot = snapshots.get(partition);
      if (!snapshot) {
        store.count('none');
        continue;
      }
      const problem = this.topics
        .map((topic) => {
          const covered = snapshot.topics[topic]?.next;
          if (covered === undefined) return undefined;
          const range = plan.ranges.get(topic);
          if (range === undefined || covered > range.until) return `${topic}: snapshot covers offset ${covered}, committed ${range?.until ?? 'nothing'}`;
          const low = lows.get(topic)?.get(partition) ?? 0;
          if (covered < range.until && covered < low) return `${topic}: snapshot covers offset ${covered}, the topic retains only from ${low}`;
          return undefined;
        })
        .find((p) => p !== undefined);
      if (problem !== undefined) {
        store.ignored(partition, problem);
        continue;
      }
      for (const topic of this.topics) {
        const covered = snapshot.topics[topic]?.next;
        const range = plan.ranges.get(topic);
        if (covered !== undefined && range !== undefined) range.from = covered;
      }
      const { v: _v, groupId: _g, partition: _p, takenAt, settings: _s, ...capture } = snapshot;
      plan.snapshot = capture;
      store.count('restored');
      this.deps.logger.info(
        { event: 'SnapshotRestored', partition, takenAt: new Date(takenAt).toISOString(), covers: Object.fromEntries(Object.entries(snapshot.topics).map(([t, p]) => [t, p.next])), pods: capture.core.pods.length },
        'partition state restored from its snapshot; replaying what follows it',
      );
    }
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isStale }: BatchPayload): Promise<void> {
    if (this.stopping || isStale()) return;
    const generation = this.generation;
    const { topic, partition } = batch;
    const state = this.states.get(partition);
    if (!state) return;
    if (state.phase === 'planning') {
      await this.planning;
      if (generation !== this.generation || state.phase === 'planning') return;
    }
    const seeks = this.pendingSeeks.get(partition);
    if (seeks) {
      this.pendingSeeks.delete(partition);
      for (const [t, offset] of seeks) this.consumer.seek({ topic: t, partition, offset: String(offset) });
      return;
    }
    const signalsTopic = topic === this.signalsTopic;
    let replayed = 0;
    let live = 0;
    for (const message of batch.messages) {
      if (this.stopping || generation !== this.generation || isStale()) break;
      const wasReplaying = state.phase === 'replaying';
      const offset = Number(message.offset);
      const acceptance = state.accept(topic, offset);
      if (acceptance === 'hold') {
        this.consumer.pause([{ topic, partitions: [partition] }]);
        break;
      }
      // The logs topic carries version 1 (one line) and version 2 (several lines of one incarnation) alike.
      const decoded = signalsTopic ? decodeMessage(signalMessageSchema, message.value) : decodeMessage(logsTopicMessageSchema, message.value);
      if (!decoded.ok && acceptance === 'live') {
        const letter = invalidMessageLetter(
          { topic, partition, offset: message.offset, key: message.key, raw: message.value, reason: decoded.reason, issues: decoded.issues },
          Date.now(),
        );
        if (!(await this.deadLetter(letter))) break;
      }
      let eventTime = Number(message.timestamp);
      let signals: readonly Signal[] = !decoded.ok ? [] : 'signal' in decoded.value ? [decoded.value.signal] : logMessageSignals(decoded.value);
      const bound = checkEventTime(eventTime, state.boundClock(topic, acceptance, Date.now()), this.deps.options.maxEventTimeAheadMs);
      if (!bound.ok) {
        // Neither ingested nor counted in the watermark; dead-lettered once, when read live.
        if (decoded.ok && acceptance === 'live') {
          const letter = futureEventLetter({ topic, partition, offset: message.offset, key: message.key, raw: message.value }, bound.reason, Date.now());
          if (!(await this.deadLetter(letter))) break;
          this.deps.telemetry.eventTimeOutlier(topic, partition, bound.aheadMs);
        }
        eventTime = Number.NaN;
        signals = [];
      }
      state.ingest(topic, offset, eventTime, signals, acceptance);
      resolveOffset(message.offset);
      if (acceptance === 'replay') replayed += 1;
      else live += 1;
      if (wasReplaying && state.phase === 'live') this.replayDone(state);
    }
    if (generation !== this.generation) return;
    if (live > 0) state.noteInput(Date.now());
    state.afterBatch(topic, Number(batch.highWatermark));
    this.deps.telemetry.lag(topic, partition, state.lagOf(topic));
    this.deps.telemetry.watermark(partition, state.watermark);
    if (replayed > 0) this.deps.telemetry.messages(topic, 'replay', replayed);
    if (live > 0) this.deps.telemetry.messages(topic, 'live', live);
    await heartbeat();
    // Bounded memory: stop taking batches while too much input waits for its records to be written.
    while (!this.stopping && generation === this.generation && this.unflushed() >= this.deps.options.maxUnflushedMessages) {
      await sleep(50);
      await heartbeat();
    }
  }

  private replayDone(state: PartitionState): void {
    const started = this.replayStartedAt.get(state.partition) ?? Date.now();
    // The idle clock starts when the state is rebuilt: a partition that stays quiet after a restart still finishes.
    state.noteInput(Date.now());
    this.deps.telemetry.replayFinished(state.partition, state.replayedMessages, Date.now() - started);
    this.cadence?.replayed(state.partition, state.replayedMessages);
    if (state.held.size > 0 && !this.paused) {
      this.consumer.resume([...state.held].map((t) => ({ topic: t, partitions: [state.partition] })));
    }
    state.held.clear();
  }

  private async deadLetter(letter: DeadLetterMessage): Promise<boolean> {
    try {
      await this.deps.sink.deadLetters([letter], this.sinkAbort.signal);
      this.deps.telemetry.deadLettered(letter.stage, letter.reason, { topic: letter.topic, partition: letter.partition, offset: letter.offset });
      return true;
    } catch (error) {
      if (error instanceof SinkAborted) return false;
      throw error;
    }
  }

  private unflushed(): number {
    let total = 0;
    for (const state of this.states.values()) total += state.unflushed;
    return total;
  }

  private applyPause(reason: string): void {
    const shouldPause = this.degraded.size > 0;
    if (shouldPause === this.paused) return;
    this.paused = shouldPause;
    try {
      if (shouldPause) {
        this.consumer.pause(this.topics.map((topic) => ({ topic })));
      } else {
        const resume = [];
        for (const topic of this.topics) {
          const partitions = [...this.states.values()].filter((s) => !s.held.has(topic)).map((s) => s.partition);
          if (partitions.length > 0) resume.push({ topic, partitions });
        }
        if (resume.length > 0) this.consumer.resume(resume);
      }
      this.deps.telemetry.backPressure(shouldPause, reason);
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'pause/resume failed');
    }
  }

  private async runFlushLoop(): Promise<void> {
    while (!this.stopFlushing.signal.aborted) {
      await sleep(this.deps.options.flushIntervalMs, this.stopFlushing.signal);
      await this.flushAll();
    }
    // Shutdown: the in-flight batch is done (the handler stops at `stopping`); write and commit what it changed.
    await this.flushAll(true);
  }

  private async flushAll(final = false): Promise<void> {
    if (this.failed) return;
    for (const state of [...this.states.values()]) {
      if (this.sinkAbort.signal.aborted) return;
      if (state.idleAdvance(Date.now(), this.deps.options.idleTimeoutMs)) this.deps.telemetry.watermark(state.partition, state.watermark);
      if (!state.needsFlush()) {
        // Nothing to write, everything committed (e.g. right after a replay): the state is safe to snapshot as is.
        if (this.snapshotDue(state, final) && state.settled()) this.writeSnapshot(state, state.capture(), this.generation, this.cadence?.pending(state.partition) ?? 0);
        continue;
      }
      const generation = this.generation;
      const take = state.takeFlush();
      this.cadence?.read(state.partition, take.messages);
      // Captured with the take, so it holds exactly what the take's commit covers; written only once that commit succeeded.
      const capture = this.snapshotDue(state, final) ? state.capture() : undefined;
      const covered = this.cadence?.pending(state.partition) ?? 0;
      const started = Date.now();
      let rejected: number;
      try {
        rejected = await this.deps.sink.write(take.updates, this.sinkAbort.signal);
      } catch (error) {
        if (error instanceof SinkAborted) return;
        if (error instanceof SinkFatal) {
          // Nothing of this take, nor anything later, is committed: the next owner (this service after its
          // restart) replays it. A later flush must not commit offsets whose records were never written.
          this.failed = true;
          this.deps.onFatal(error);
          return;
        }
        throw error;
      }
      if (take.updates.length > 0) this.deps.telemetry.recordsWritten(state.partition, take.updates, rejected, Date.now() - started);
      if (generation !== this.generation || this.states.get(state.partition) !== state) continue;
      if (await this.commit(state.partition, take)) {
        state.flushCommitted(take);
        if (capture) this.writeSnapshot(state, capture, generation, covered);
      }
    }
  }

  private snapshotDue(state: PartitionState, final: boolean): boolean {
    if (!this.cadence || this.snapshotWrites.has(state.partition)) return false;
    return this.cadence.due(state.partition, Date.now(), final);
  }

  /** Writes a captured snapshot in the background (one per partition at a time); a failure only costs replay time. */
  private writeSnapshot(state: PartitionState, capture: SnapshotCapture, generation: number, covered: number): void {
    const store = this.deps.snapshots;
    const cadence = this.cadence;
    if (!store || !cadence || generation !== this.generation) return;
    const { partition } = state;
    const at = Date.now();
    const settings = snapshotSettings(this.deps.options, this.profiles);
    const write = store
      .write(partition, settings, capture, at)
      .then(() => cadence.taken(partition, at, covered))
      .catch((error: unknown) => {
        cadence.failed(partition, Date.now());
        this.deps.logger.warn({ event: 'SnapshotWriteFailed', partition, err: error }, 'snapshot not written; the next one is tried after an interval');
      })
      .finally(() => this.snapshotWrites.delete(partition));
    this.snapshotWrites.set(partition, write);
  }

  private async commit(partition: number, take: FlushTake): Promise<boolean> {
    if (take.offsets.size === 0) return true;
    const metadata = encodeCommitMetadata(take.watermark, Date.now());
    const offsets: OffsetCommit[] = [...take.offsets].map(([topic, offset]) => ({ topic, partition, offset: String(offset), metadata }));
    const backoff = new Backoff(COMMIT_RETRY.initialMs, COMMIT_RETRY.maxMs);
    for (let attempt = 1; attempt <= COMMIT_RETRY.attempts; attempt += 1) {
      const outcome = await this.consumer.commit(offsets);
      if (outcome.committed) return true;
      if (outcome.kind === 'generation-over') {
        this.deps.logger.info({ event: 'CommitSkipped', partition, reason: outcome.reason }, 'commit refused by a rebalance; the next assignment replays');
        return false;
      }
      if (outcome.kind === 'fatal') {
        this.deps.logger.warn({ event: 'CommitRefused', partition, reason: outcome.reason, err: outcome.error }, 'commit refused; the offsets stay pending');
        return false;
      }
      const delay = backoff.failed();
      this.deps.telemetry.sinkRetry('kafka-commit', outcome.error.message, attempt, delay);
      await sleep(delay);
    }
    // The offsets stay pending: the next flush commits them (with later ones).
    return false;
  }
}
