import { Correlator, type CorrelatorOptions, type RecordUpdate } from '@killtrace/correlation';
import type { Signal } from '@killtrace/schemas';
import type { SnapshotCapture } from './snapshots.js';
import { advanceWatermark, type TopicProgress } from './watermark.js';

/**
 * The state of one partition number (the same partition of `signals` and `logs`): one pure correlation core,
 * the event-time watermark, the replay plan, and which offsets the next successful flush may commit.
 * Synchronous and free of I/O: the pipeline feeds it messages and turns its answers into Kafka calls.
 */

export type Phase = 'planning' | 'replaying' | 'live';

/** Where replay starts and ends on one topic of the partition. */
export interface ReplayRange {
  /** First offset to re-ingest (seek target). */
  from: number;
  /** The committed offset: messages before it are re-ingested without emitting. */
  until: number;
  /** The correlator's clock at that commit (commit metadata), the reference for event times on replay. */
  clock?: number;
}

export interface ReplayPlan {
  /** Per topic; a topic without committed offsets has no range (nothing to replay). */
  ranges: Map<string, ReplayRange>;
  /** The watermark stored with the commit. */
  watermark?: number;
  /** Start from this snapshot (restored by `planned`); the ranges then start at the offsets it covers. */
  snapshot?: SnapshotCapture;
}

/** What `accept` tells the pipeline to do with a message. */
export type Acceptance =
  /** Ingest without emitting (offset below the committed one). */
  | 'replay'
  /** Ingest; the next flush writes what it changes and may commit it. */
  | 'live'
  /** Replay of the other topic is not finished: pause this topic-partition and fetch the message again later. */
  | 'hold';

/** A flush taken from the state: the records to write and the offsets to commit once they are acknowledged. */
export interface FlushTake {
  updates: RecordUpdate[];
  offsets: Map<string, number>;
  watermark: number;
  messages: number;
}

export interface PartitionStateOptions {
  partition: number;
  topics: readonly string[];
  correlator: CorrelatorOptions;
  stateWindowMs: number;
  allowedLatenessMs: number;
  evictEveryMs: number;
}

interface TopicState extends TopicProgress {
  /** Next offset to read (last ingested + 1); -1 before the first message. */
  next: number;
  replayDone: boolean;
}

export class PartitionState {
  readonly partition: number;
  /** Replaced once, by `restore`, before the replay plan is installed. */
  correlator: Correlator;
  phase: Phase = 'planning';
  watermark = Number.NEGATIVE_INFINITY;
  /** Messages ingested live and not yet covered by a successful flush. */
  unflushed = 0;
  /** Topics paused because they reached their committed offset before the other topic did. */
  readonly held = new Set<string>();
  replayedMessages = 0;
  private readonly topics = new Map<string, TopicState>();
  private plan: ReplayPlan | undefined;
  /** Offsets (next to read) that the next successful flush commits, by topic. */
  private readonly pending = new Map<string, number>();
  private readonly committed = new Map<string, number>();
  private lastEvictWatermark = Number.NEGATIVE_INFINITY;
  /** Wall-clock time of the last message read live (or of the end of replay); undefined before. */
  private lastInputAt: number | undefined;
  private polledWatermark = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: PartitionStateOptions) {
    this.partition = options.partition;
    this.correlator = new Correlator(options.correlator);
    for (const topic of options.topics) this.topics.set(topic, { maxEventTime: Number.NEGATIVE_INFINITY, lag: 0, next: -1, replayDone: false });
  }

  /**
   * Starts from a snapshot (snapshots.ts) instead of an empty core: the core, the event-time progress and the next
   * offset of each topic it covers. Called before `planned`, whose plan then replays from those offsets.
   */
  restore(snapshot: SnapshotCapture): void {
    if (this.phase !== 'planning') throw new Error(`partition ${this.partition}: restore after planning`);
    this.correlator = Correlator.restore(this.options.correlator, snapshot.core);
    this.watermark = snapshot.watermark ?? Number.NEGATIVE_INFINITY;
    this.lastEvictWatermark = snapshot.lastEvictWatermark ?? Number.NEGATIVE_INFINITY;
    for (const [topic, progress] of Object.entries(snapshot.topics)) {
      const state = this.topics.get(topic);
      if (state === undefined) continue;
      state.next = progress.next;
      state.maxEventTime = progress.maxEventTime ?? Number.NEGATIVE_INFINITY;
    }
  }

  /**
   * The state as a snapshot: exactly what was ingested before each topic's next offset, and what was emitted. Only
   * meaningful right after `takeFlush` (then covered by that take's commit) or while `settled`.
   */
  capture(): SnapshotCapture {
    const topics: SnapshotCapture['topics'] = {};
    for (const [topic, state] of this.topics) {
      if (state.next < 0) continue;
      topics[topic] = { next: state.next, ...(Number.isFinite(state.maxEventTime) ? { maxEventTime: state.maxEventTime } : {}) };
    }
    return {
      ...(Number.isFinite(this.watermark) ? { watermark: this.watermark } : {}),
      ...(Number.isFinite(this.lastEvictWatermark) ? { lastEvictWatermark: this.lastEvictWatermark } : {}),
      topics,
      core: this.correlator.saveState(),
    };
  }

  /** Live, with every ingested message covered by a committed flush: a capture now needs no commit to be safe. */
  settled(): boolean {
    if (this.phase !== 'live' || this.unflushed > 0) return false;
    for (const [topic, state] of this.topics) if (state.next >= 0 && (this.committed.get(topic) ?? -1) < state.next) return false;
    return true;
  }

  /** Installs the replay plan; returns the seeks to perform (empty when there is nothing to replay: live at once). */
  planned(plan: ReplayPlan): Map<string, number> {
    if (plan.snapshot !== undefined) this.restore(plan.snapshot);
    this.plan = plan;
    const seeks = new Map<string, number>();
    for (const [topic, state] of this.topics) {
      const range = plan.ranges.get(topic);
      if (range === undefined || range.from >= range.until) {
        state.replayDone = true;
        if (range !== undefined) this.committed.set(topic, range.until);
      } else {
        seeks.set(topic, range.from);
        this.committed.set(topic, range.until);
      }
    }
    if (seeks.size === 0) this.finishReplay();
    else this.phase = 'replaying';
    return seeks;
  }

  /** Decides what to do with the message at `offset` of `topic`, before it is decoded. */
  accept(topic: string, offset: number): Acceptance {
    if (this.phase === 'live') return 'live';
    const state = this.topicState(topic);
    const range = this.plan?.ranges.get(topic);
    if (range === undefined || offset >= range.until) {
      // Everything of this topic before the committed offset has been read (or there was none).
      state.replayDone = true;
      if (this.allReplayed()) {
        this.finishReplay();
        return 'live';
      }
      this.held.add(topic);
      return 'hold';
    }
    return 'replay';
  }

  /**
   * Records that a message was read (valid or not: `signals` is empty for an invalid one; a log batch carries
   * several) after `accept`.
   * `eventTime` is the Kafka message timestamp, which the producers set to the signal's event time.
   */
  ingest(topic: string, offset: number, eventTime: number, signals: Signal | readonly Signal[] | undefined, acceptance: 'replay' | 'live'): void {
    const state = this.topicState(topic);
    if (Array.isArray(signals)) for (const signal of signals as readonly Signal[]) this.correlator.ingest(signal);
    else if (signals !== undefined) this.correlator.ingest(signals as Signal);
    if (Number.isFinite(eventTime) && eventTime > state.maxEventTime) state.maxEventTime = eventTime;
    state.next = Math.max(state.next, offset + 1);
    if (acceptance === 'replay') {
      this.replayedMessages += 1;
      const range = this.plan?.ranges.get(topic);
      if (range !== undefined && state.next >= range.until) {
        state.replayDone = true;
        if (this.allReplayed()) this.finishReplay();
      }
      return;
    }
    this.pending.set(topic, Math.max(this.pending.get(topic) ?? 0, offset + 1));
    this.unflushed += 1;
  }

  /** After a batch: the topic's lag from the batch's high watermark, the watermark, and eviction. */
  afterBatch(topic: string, highWatermark: number): void {
    const state = this.topicState(topic);
    if (state.next >= 0) state.lag = Math.max(0, highWatermark - state.next);
    this.watermark = advanceWatermark(this.watermark, [...this.topics.values()]);
    if (Number.isFinite(this.watermark) && this.watermark - this.lastEvictWatermark >= this.options.evictEveryMs) {
      this.lastEvictWatermark = this.watermark;
      this.correlator.evictBefore(this.watermark - this.options.stateWindowMs);
    }
  }

  /** True when a flush has something to do: records may have changed, or offsets wait for a commit. */
  needsFlush(): boolean {
    if (this.phase !== 'live') return false;
    // The cluster context (other partitions' init observations, node labels) changed: records may have too.
    if (this.unflushed > 0 || this.watermark !== this.polledWatermark || this.correlator.contextPending()) return true;
    for (const [topic, offset] of this.pending) if (this.committed.get(topic) !== offset) return true;
    return false;
  }

  /** Polls the core (new and changed records) and snapshots the offsets those records cover. */
  takeFlush(): FlushTake {
    const updates = this.correlator.poll(this.watermark, this.options.allowedLatenessMs);
    this.polledWatermark = this.watermark;
    const offsets = new Map<string, number>();
    for (const [topic, offset] of this.pending) if (this.committed.get(topic) !== offset) offsets.set(topic, offset);
    const take = { updates, offsets, watermark: this.watermark, messages: this.unflushed };
    this.unflushed = 0;
    return take;
  }

  /** After the records of a take were acknowledged and its offsets committed. */
  flushCommitted(take: FlushTake): void {
    for (const [topic, offset] of take.offsets) this.committed.set(topic, Math.max(this.committed.get(topic) ?? 0, offset));
  }

  /**
   * The clock event times of `topic` are bounded against (event-time-bound.ts): the commit's clock for a replayed
   * message when the commit recorded one, else `now`.
   */
  boundClock(topic: string, acceptance: 'replay' | 'live', now: number): number {
    if (acceptance === 'live') return now;
    return this.plan?.ranges.get(topic)?.clock ?? now;
  }

  /** Notes that input was read at wall-clock time `now` (the start of an idle period, see `idleAdvance`). */
  noteInput(now: number): void {
    this.lastInputAt = now;
  }

  /**
   * Event time of a quiet partition keeps pace with the clock: once nothing has been read for `idleTimeoutMs` and
   * nothing waits to be read, the watermark is the newest event time plus the time spent idle, so the records of a
   * partition that went quiet after a kill (the usual case at night) still turn final. Returns whether it moved.
   */
  idleAdvance(now: number, idleTimeoutMs: number): boolean {
    if (this.phase !== 'live' || this.lastInputAt === undefined || this.lag() > 0) return false;
    const idleFor = now - this.lastInputAt;
    if (idleFor < idleTimeoutMs) return false;
    const newest = Math.max(...[...this.topics.values()].map((t) => t.maxEventTime));
    if (!Number.isFinite(newest) || newest + idleFor <= this.watermark) return false;
    this.watermark = newest + idleFor;
    return true;
  }

  /** Total consumer lag of the partition (messages). */
  lag(): number {
    let lag = 0;
    for (const state of this.topics.values()) lag += state.lag;
    return lag;
  }

  lagOf(topic: string): number {
    return this.topicState(topic).lag;
  }

  private allReplayed(): boolean {
    return [...this.topics.values()].every((t) => t.replayDone);
  }

  /** Replay reached the committed offsets: what the core would emit now was written before the restart. */
  private finishReplay(): void {
    if (this.plan?.watermark !== undefined) this.watermark = Math.max(this.watermark, this.plan.watermark);
    this.watermark = advanceWatermark(this.watermark, [...this.topics.values()]);
    this.correlator.poll(this.watermark, this.options.allowedLatenessMs);
    this.polledWatermark = this.watermark;
    this.phase = 'live';
  }

  private topicState(topic: string): TopicState {
    const state = this.topics.get(topic);
    if (state === undefined) throw new Error(`partition ${this.partition}: unknown topic ${topic}`);
    return state;
  }
}
