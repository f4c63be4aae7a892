import { basename, resolve } from 'node:path';
import { readBundle } from '@killtrace/bundle';
import type { Config } from '@killtrace/config';
import { createKafkaClient, createProducer, ensureTopics, killtraceTopics, type KafkaConnection, type OutgoingMessage } from '@killtrace/kafka';
import {
  MESSAGE_VERSION,
  logMessageSchema,
  signalKey,
  signalMessageSchema,
  signalTime,
  type Diagnostic,
  type LogMessage,
  type ProducerRef,
  type Signal,
  type SignalMessage,
} from '@killtrace/schemas';
import { CliError } from './errors.js';

/**
 * `killtrace replay BUNDLE`: publishes a bundle's evidence to Kafka as the collectors would (services/collector):
 * pod snapshots and events from the cluster watcher, kubelet lines and application logs from the node agent, with
 * the same message schemas, keys (pod uid) and timestamps (event time), in event-time order, at the bundle's own
 * pace (`speed` 1), compressed (`speed` > 1) or as fast as Kafka takes them (`speed` 0).
 */

export interface ReplayOptions {
  /** Bundle directories or files (as for `killtrace analyze`). */
  paths: readonly string[];
  config: Config;
  /** 1 = original timing, N = N times faster, 0 = no waiting. */
  speed: number;
  /** Longest wait between two messages, after the speed-up (ms): idle stretches of a bundle shrink to this. */
  maxGapMs?: number;
  /** Messages per produce request when several are due at once (default 500). */
  batchSize?: number;
  onProgress?: (progress: ReplayProgress) => void;
  /** Told once when the brokers cannot be reached (kafkajs keeps retrying meanwhile). */
  onKafkaTrouble?: (message: string) => void;
  /** Waits `ms`; tests of the timing pass their own. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface ReplayProgress {
  published: number;
  total: number;
}

export interface ReplayReport {
  signals: number;
  logs: number;
  /** Event-time span of the bundle (ms) and how long the replay took (ms). */
  spanMs: number;
  elapsedMs: number;
  createdTopics: string[];
  diagnostics: Diagnostic[];
}

interface Timed {
  signal: Signal;
  time: number;
}

/** The instant a pod snapshot describes when it carries no observation time: its latest start or termination. */
function podTime(signal: Signal): number {
  if (signal.kind !== 'pod') return 0;
  const times = [signal.pod.startTime ?? 0];
  for (const s of signal.pod.statuses) times.push(s.lastTerminated?.finishedAt ?? 0, s.state.kind === 'running' ? (s.state.startedAt ?? 0) : 0);
  return Math.max(...times);
}

/**
 * Pure: the bundle's signals in event-time order (stable), with kubelet lines that name no pod uid given the uid of
 * the pod of the same namespace/name, as the node agent resolves it from /var/log/pods.
 */
export function orderForReplay(signals: readonly Signal[]): Timed[] {
  const uids = new Map<string, string>();
  for (const s of signals) if (s.kind === 'pod') uids.set(`${s.pod.namespace}/${s.pod.name}`, s.pod.uid);
  const out = signals.map((s, index) => {
    let signal = s;
    if (s.kind === 'kubelet' && s.pod.uid === undefined) {
      const uid = uids.get(`${s.pod.namespace}/${s.pod.name}`);
      if (uid !== undefined) signal = { ...s, pod: { ...s.pod, uid } };
    }
    return { signal, time: signalTime(signal) ?? podTime(signal), index };
  });
  // Node objects carry no time and describe the nodes throughout: they go first, at the bundle's earliest event time.
  let earliest = Number.POSITIVE_INFINITY;
  for (const o of out) if (o.signal.kind !== 'node' && o.time > 0 && o.time < earliest) earliest = o.time;
  for (const o of out) if (o.signal.kind === 'node' && o.time <= 0 && Number.isFinite(earliest)) o.time = earliest;
  out.sort((a, b) => a.time - b.time || a.index - b.index);
  return out.map(({ signal, time }) => ({ signal, time }));
}

/** Pure: when each message is due, in ms after the replay starts. */
export function replaySchedule(times: readonly number[], speed: number, maxGapMs = Number.POSITIVE_INFINITY): number[] {
  const due: number[] = [];
  let at = 0;
  for (let i = 0; i < times.length; i++) {
    if (i > 0 && speed > 0) at += Math.min(Math.max(0, (times[i] as number) - (times[i - 1] as number)) / speed, maxGapMs);
    due.push(at);
  }
  return due;
}

function producerOf(signal: Signal, bundle: string): ProducerRef {
  return { component: signal.kind === 'pod' || signal.kind === 'event' || signal.kind === 'node' ? 'cluster-watcher' : 'node-agent', instance: `replay:${bundle}` };
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Reads the bundle, sets up the topics as the collectors do, and publishes every signal; see the module comment. */
export async function replayBundle(options: ReplayOptions): Promise<ReplayReport> {
  const signals: Signal[] = [];
  const diagnostics: Diagnostic[] = [];
  await readBundle({ paths: [...options.paths], onSignal: (s) => void signals.push(s), onDiagnostic: (d) => void diagnostics.push(d) });
  const items = orderForReplay(signals);
  const due = replaySchedule(
    items.map((i) => i.time),
    options.speed,
    options.maxGapMs,
  );
  const bundle = basename(resolve(options.paths[0] ?? '.'));
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const batchSize = options.batchSize ?? 500;

  let troubleTold = false;
  const tell = (_fields: object, message: string): void => {
    if (troubleTold) return;
    troubleTold = true;
    options.onKafkaTrouble?.(message);
  };
  const quiet = (): void => undefined;
  const kafka: KafkaConnection = createKafkaClient(options.config.kafka, {
    clientId: `${options.config.kafka.clientId}-replay`,
    logger: { error: tell, warn: quiet, info: quiet, debug: quiet },
  });
  let createdTopics: string[];
  try {
    createdTopics = (await ensureTopics(kafka, killtraceTopics(options.config.kafka))).created;
  } catch (cause) {
    throw new CliError('KT_ERR_CLI_REPLAY_KAFKA', `cannot set up the topics on ${options.config.kafka.brokers.join(',')}: ${(cause as Error).message}`);
  }
  const producer = createProducer(kafka);
  const topics = options.config.kafka.topics;
  const signalTopic = producer.topic(topics.signals, signalMessageSchema);
  const logTopic = producer.topic(topics.logs, logMessageSchema);
  const started = now();
  let counts = { signals: 0, logs: 0 };
  try {
    await producer.connect();
    let pendingSignals: OutgoingMessage<SignalMessage>[] = [];
    let pendingLogs: OutgoingMessage<LogMessage>[] = [];
    const flush = async (): Promise<void> => {
      if (pendingSignals.length > 0) await signalTopic.send(pendingSignals);
      if (pendingLogs.length > 0) await logTopic.send(pendingLogs);
      counts = { signals: counts.signals + pendingSignals.length, logs: counts.logs + pendingLogs.length };
      pendingSignals = [];
      pendingLogs = [];
      options.onProgress?.({ published: counts.signals + counts.logs, total: items.length });
    };
    for (const [i, { signal, time }] of items.entries()) {
      const wait = started + (due[i] as number) - now();
      if (wait > 0) {
        await flush();
        await sleep(wait);
      }
      const envelope = { key: signalKey(signal), timestamp: time > 0 ? time : undefined };
      const producerRef = producerOf(signal, bundle);
      if (signal.kind === 'app_log') pendingLogs.push({ ...envelope, value: { v: MESSAGE_VERSION, producer: producerRef, signal } });
      else pendingSignals.push({ ...envelope, value: { v: MESSAGE_VERSION, producer: producerRef, signal } });
      if (pendingSignals.length + pendingLogs.length >= batchSize) await flush();
    }
    await flush();
  } catch (cause) {
    if (cause instanceof CliError) throw cause;
    throw new CliError('KT_ERR_CLI_REPLAY_KAFKA', `publishing to ${options.config.kafka.brokers.join(',')} failed after ${counts.signals + counts.logs} of ${items.length} messages: ${(cause as Error).message}`);
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
  const times = items.map((i) => i.time).filter((t) => t > 0);
  const spanMs = times.length > 0 ? (times[times.length - 1] as number) - (times[0] as number) : 0;
  return { ...counts, spanMs, elapsedMs: now() - started, createdTopics, diagnostics };
}
