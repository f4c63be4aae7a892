import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Correlator, DEFAULT_NODE_CLASS_LABELS, initMargins } from '@killtrace/correlation';
import { createProducer, createTableReader, createTableWriter, decodeMessage, partitionOfKey } from '@killtrace/kafka';
import { createLogger } from '@killtrace/logging';
import { mergeProfiles } from '@killtrace/profiles';
import {
  contextMessageSchema,
  nodeContextFact,
  recordMessageSchema,
  restartRecordId,
  signalKey,
  signalMessageSchema,
  logMessageSchema,
  type ContextMessage,
  type RestartRecord,
  type Signal,
} from '@killtrace/schemas';
import { startCorrelator, type RunningCorrelator } from '../../services/correlator/src/main.js';
import { writeScenario } from '../scenarios/catalog.js';
import { KILLED_PODS, gpuFleetTwoKilled, spreadUids } from '../scenarios/catalog-context.js';
import { bundleSignals, cleanup, elasticDocs, elasticFor, expectedRecords, kafkaFor, pipelineSetup, root, sameRecords, sortKeys, withoutStatus, type PipelineSetup } from '../e2e/harness.js';

/**
 * History across partitions (issue 8, decision 0017), end to end against the real Kafka and Elasticsearch: with 3
 * partitions and the GPU host agent DaemonSet's pods on different partitions (keyed by pod uid with the collectors'
 * own partitioner), the records the correlator writes (Elasticsearch and the records topic) equal `killtrace
 * analyze`'s for the same evidence, expected_seconds, recommendation and node classes included. A record written
 * before another partition's observation arrives is rewritten once it does.
 */

const EXAMPLE = join(root, 'examples', 'host-agent-crashloop');
const PARTITIONS = 3;
const CPU_POD = 'default-host-4hcw8';
const KILLED_POD = 'default-host-x7k2p';
/** The class of cpu-node-1 (nodes.json; test/unit/node-classes.test.ts). */
const CPU_CLASS = 'instance-type=m6a.8xlarge';
const logger = createLogger({ name: 'context-it', level: 'warn', format: 'json' });
const running: RunningCorrelator[] = [];
const setups: PipelineSetup[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const c of running) await c.close();
  for (const setup of setups) await cleanup(setup, kafkaFor(setup), elasticFor(setup));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Produces signals as the collectors do: keyed by pod uid through libs/kafka's producer (murmur2, partitioner.ts). */
async function produce(setup: PipelineSetup, items: ReadonlyArray<{ signal: Signal; time: number }>): Promise<void> {
  const producer = createProducer(kafkaFor(setup));
  await producer.connect();
  try {
    const envelope = { v: 1 as const, producer: { component: 'test' as const, instance: 'context-it' } };
    const logs = items.filter((i) => i.signal.kind === 'app_log');
    const others = items.filter((i) => i.signal.kind !== 'app_log');
    await producer.topic(setup.topics.signals, signalMessageSchema).send(others.map(({ signal, time }) => ({ key: signalKey(signal), value: { ...envelope, signal }, timestamp: time })));
    await producer
      .topic(setup.topics.logs, logMessageSchema)
      .send(logs.map(({ signal, time }) => ({ key: signalKey(signal), value: { ...envelope, signal: signal as Extract<Signal, { kind: 'app_log' }> }, timestamp: time })));
  } finally {
    await producer.disconnect();
  }
}

/** The latest version of every record on the records topic (what a downstream consumer keeps, by id). */
async function latestOnRecordsTopic(setup: PipelineSetup): Promise<Map<string, RestartRecord>> {
  const latest = new Map<string, RestartRecord>();
  const reader = createTableReader(kafkaFor(setup), {
    topic: setup.topics.records,
    schema: recordMessageSchema,
    groupPrefix: `kt-it-records-${setup.suffix}`,
    onEntry: (e) => {
      // Keyed by pod uid on the topic; one record per id, the later version replacing the earlier (offset order).
      if (e.value !== null) {
        const r = e.value.record;
        latest.set(restartRecordId(r.kubernetes.pod.uid, r.kubernetes.container.name, r.killtrace.restart.count), withoutStatus(r));
      }
    },
    onInvalid: () => undefined,
  });
  await reader.start();
  await reader.caughtUp();
  await reader.stop();
  return latest;
}

/** The context topic read as a table (tombstoned keys removed). */
async function contextTable(setup: PipelineSetup): Promise<Map<string, ContextMessage>> {
  const facts = new Map<string, ContextMessage>();
  const reader = createTableReader(kafkaFor(setup), {
    topic: setup.topics.context,
    schema: contextMessageSchema,
    groupPrefix: `kt-it-ctx-${setup.suffix}`,
    onEntry: (e) => {
      if (e.value === null) facts.delete(e.key);
      else facts.set(e.key, e.value);
    },
    onInvalid: () => undefined,
  });
  await reader.start();
  await reader.caughtUp();
  await reader.stop();
  return facts;
}

/** Publishes the bundle's Node objects as the cluster watcher's node facts (class labels only); returns their keys. */
async function publishNodeFacts(setup: PipelineSetup, items: ReadonlyArray<{ signal: Signal; time: number }>): Promise<string[]> {
  const writer = createTableWriter(kafkaFor(setup), setup.topics.context, contextMessageSchema);
  await writer.connect();
  const nodeFacts = items.flatMap((i) => (i.signal.kind === 'node' ? [nodeContextFact(i.signal.node.name, i.signal.node.labels, DEFAULT_NODE_CLASS_LABELS)] : []));
  await writer.write(nodeFacts.map((fact) => ({ key: `node/${fact.name}`, value: { v: 1, producer: { component: 'cluster-watcher', instance: 'context-it' }, fact } })));
  await writer.disconnect();
  return nodeFacts.map((f) => `node/${f.name}`);
}

function byPod(records: Map<string, RestartRecord>, pod: string): RestartRecord[] {
  return [...records.values()].filter((r) => r.kubernetes.pod.name === pod);
}

describe('history across partitions through the context topic', () => {
  it('writes the records of killtrace analyze with the DaemonSet spread over 3 partitions, rewriting those written before the history was complete, and tombstones an evicted pod', async () => {
    // A state window of 1 h: the example spans 15 min, and the last step moves one partition 3 h on.
    const setup = pipelineSetup('context', PARTITIONS, { KILLTRACE_HTTP_PORT: '0', KILLTRACE_CORRELATOR_ALLOWED_LATENESS_MS: '0', KILLTRACE_CORRELATOR_STATE_WINDOW_MS: '3600000' });
    setups.push(setup);
    const all = await bundleSignals(EXAMPLE);
    const expected = await expectedRecords(EXAMPLE);
    const uidOf = new Map(all.flatMap((i) => (i.signal.kind === 'pod' ? [[i.signal.pod.name, i.signal.pod.uid] as const] : [])));
    const cpuUid = uidOf.get(CPU_POD) ?? '';
    const killedUid = uidOf.get(KILLED_POD) ?? '';
    // The pod uids decide: the crash-looping pod and the CPU node's pod are on different partitions.
    expect(partitionOfKey(killedUid, PARTITIONS)).not.toBe(partitionOfKey(cpuUid, PARTITIONS));
    expect(byPod(expected, KILLED_POD).length).toBeGreaterThan(0);

    const correlator = await startCorrelator(setup.config, logger);
    running.push(correlator);

    // Node classes come from the cluster watcher's Node facts on the context topic, not from the signals.
    const nodeKeys = await publishNodeFacts(setup, all);
    expect(nodeKeys).toHaveLength(3);

    // First everything but the CPU node's pod: the crash-looping pod's records lack that class.
    const evidence = all.filter((i) => i.signal.kind !== 'node');
    await produce(setup, evidence.filter((i) => signalKey(i.signal) !== cpuUid));
    const es = elasticFor(setup);
    let early = new Map<string, RestartRecord>();
    const deadline = Date.now() + 60_000;
    while (byPod(early, KILLED_POD).length < byPod(expected, KILLED_POD).length && Date.now() < deadline) {
      early = await elasticDocs(es, setup.alias).then((r) => r.docs).catch(() => new Map<string, RestartRecord>());
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(byPod(early, KILLED_POD)).toHaveLength(byPod(expected, KILLED_POD).length);
    const cpuClass = CPU_CLASS;
    expect(byPod(expected, KILLED_POD)[0]?.killtrace.recommendation.per_class?.map((c) => c.node_class)).toContain(cpuClass);
    for (const r of byPod(early, KILLED_POD)) expect(r.killtrace.recommendation.per_class?.map((c) => c.node_class)).not.toContain(cpuClass);

    // Then the CPU node's pod (another partition): its init observation reaches the other partition's records.
    await produce(setup, evidence.filter((i) => signalKey(i.signal) === cpuUid));
    let docs = new Map<string, RestartRecord>();
    const until = Date.now() + 90_000;
    while (!sameRecords(docs, expected) && Date.now() < until) {
      docs = await elasticDocs(es, setup.alias).then((r) => r.docs).catch(() => docs);
      if (!sameRecords(docs, expected)) await new Promise((r) => setTimeout(r, 500));
    }
    const normalize = (m: Map<string, RestartRecord>) => new Map([...m].map(([id, r]) => [id, sortKeys(withoutStatus(r))]));
    expect(normalize(docs)).toEqual(normalize(expected));
    for (const r of byPod(docs, KILLED_POD)) {
      const want = expected.get(`${r.kubernetes.pod.uid}:${r.kubernetes.container.name}:${r.killtrace.restart.count}`);
      expect(r.killtrace.init.expected_seconds).toBe(want?.killtrace.init.expected_seconds);
      expect(r.killtrace.recommendation.per_class?.map((c) => c.node_class)).toContain(cpuClass);
    }
    // The records topic's latest version of each record is the same.
    expect(normalize(await latestOnRecordsTopic(setup))).toEqual(normalize(expected));

    // The context topic holds what each pod told, published by the partition that holds it.
    const facts = await contextTable(setup);
    expect(facts.get(`pod/${cpuUid}`)?.fact).toMatchObject({ kind: 'pod', name: CPU_POD, node: 'cpu-node-1' });
    expect(facts.get(`pod/${cpuUid}`)?.producer.component).toBe('correlator');
    expect([...facts.keys()].filter((k) => k.startsWith('node/')).sort()).toEqual([...nodeKeys].sort());
    expect(decodeMessage(contextMessageSchema, Buffer.from(JSON.stringify(facts.get(`pod/${cpuUid}`)))).ok).toBe(true);

    // Event time on the CPU pod's partition moves 3 h on (a pod of another namespace keyed to that partition): the
    // CPU pod leaves the state window there, and its fact is tombstoned so no other partition counts it any more.
    const tickUid = Array.from({ length: 100 }, (_, i) => `tick-${i}`).find((u) => partitionOfKey(u, PARTITIONS) === partitionOfKey(cpuUid, PARTITIONS)) ?? '';
    const later = Date.parse('2026-10-02T09:30:00Z');
    const tick: Signal = { kind: 'pod', observedAt: later, pod: { namespace: 'other', name: 'tick', uid: tickUid, labels: {}, owners: [], containers: [], statuses: [], initStatuses: [], startTime: later } };
    await produce(setup, [{ signal: tick, time: later }]);
    let table = await contextTable(setup);
    for (let i = 0; i < 60 && table.has(`pod/${cpuUid}`); i += 1) {
      await new Promise((r) => setTimeout(r, 500));
      table = await contextTable(setup);
    }
    expect(table.has(`pod/${cpuUid}`)).toBe(false);
    expect(table.has(`pod/${killedUid}`)).toBe(true);

    // What the correlator says about it on /metrics.
    const metrics = await (await fetch(`http://127.0.0.1:${correlator.httpPort}/metrics`)).text();
    const value = (name: string, kind: string): number => {
      const line = metrics.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`kind="${kind}"`));
      return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    expect(value('killtrace_correlator_context_facts', 'node')).toBe(3);
    expect(value('killtrace_correlator_context_facts', 'pod')).toBe(table.size - 3);
    expect(value('killtrace_correlator_context_written_total', 'pod')).toBeGreaterThanOrEqual(3);
    expect(value('killtrace_correlator_context_written_total', 'tombstone')).toBe(1);
  });

  it('gives both killed pods of a profile-less DaemonSet, on two partitions, killtrace analyze\'s what-if per class, learned step and recommendation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-context-learned-'));
    dirs.push(dir);
    const uids = spreadUids(PARTITIONS, partitionOfKey);
    writeScenario(dir, gpuFleetTwoKilled(uids));
    const [uidA, uidB] = uids;
    // The collectors' partitioner puts the two killed pods on different partitions.
    expect(partitionOfKey(uidA, PARTITIONS)).not.toBe(partitionOfKey(uidB, PARTITIONS));
    const setup = pipelineSetup('context-learned', PARTITIONS, { KILLTRACE_HTTP_PORT: '0', KILLTRACE_CORRELATOR_ALLOWED_LATENESS_MS: '0', KILLTRACE_CORRELATOR_STATE_WINDOW_MS: '3600000' });
    setups.push(setup);
    const all = await bundleSignals(dir);
    const expected = await expectedRecords(dir);
    const killedA = byPod(expected, KILLED_PODS[0]).filter((r) => r.killtrace.probe_induced);
    const killedB = byPod(expected, KILLED_PODS[1]).filter((r) => r.killtrace.probe_induced);
    expect(killedA.length).toBeGreaterThan(0);
    expect(killedB.length).toBeGreaterThan(0);
    const learnedStep = killedA.find((r) => r.killtrace.init.step_source === 'learned');
    expect(learnedStep?.killtrace.init.step).toMatch(/vfio-pci/);
    expect(learnedStep?.killtrace.init.step_median_seconds).not.toBeNull();
    // killtrace analyze counts the kills of both pods in every record's what-if.
    expect(killedA[0]?.killtrace.recommendation.what_if?.kills_observed).toBe(killedA.length + killedB.length);

    const correlator = await startCorrelator(setup.config, logger);
    running.push(correlator);
    expect(await publishNodeFacts(setup, all)).toHaveLength(4);

    // First everything but the second killed pod: the first one's records count its own kills only.
    const evidence = all.filter((i) => i.signal.kind !== 'node');
    await produce(setup, evidence.filter((i) => signalKey(i.signal) !== uidB));
    const es = elasticFor(setup);
    let early = new Map<string, RestartRecord>();
    const deadline = Date.now() + 60_000;
    while (byPod(early, KILLED_PODS[0]).length < byPod(expected, KILLED_PODS[0]).length && Date.now() < deadline) {
      early = await elasticDocs(es, setup.alias).then((r) => r.docs).catch(() => new Map<string, RestartRecord>());
      await new Promise((r) => setTimeout(r, 300));
    }
    const earlyKilled = byPod(early, KILLED_PODS[0]).filter((r) => r.killtrace.probe_induced);
    expect(earlyKilled).toHaveLength(killedA.length);
    for (const r of earlyKilled) expect(r.killtrace.recommendation.what_if?.kills_observed).toBe(killedA.length);

    // Then the second killed pod (another partition): its kills and sightings reach the first pod's records.
    await produce(setup, evidence.filter((i) => signalKey(i.signal) === uidB));
    let docs = new Map<string, RestartRecord>();
    const until = Date.now() + 90_000;
    while (!sameRecords(docs, expected) && Date.now() < until) {
      docs = await elasticDocs(es, setup.alias).then((r) => r.docs).catch(() => docs);
      if (!sameRecords(docs, expected)) await new Promise((r) => setTimeout(r, 500));
    }
    const normalize = (m: Map<string, RestartRecord>) => new Map([...m].map(([id, r]) => [id, sortKeys(withoutStatus(r))]));
    expect(normalize(docs)).toEqual(normalize(expected));
    for (const want of [...killedA, ...killedB]) {
      const got = docs.get(restartRecordId(want.kubernetes.pod.uid, want.kubernetes.container.name, want.killtrace.restart.count));
      expect(got?.killtrace.recommendation.what_if).toEqual(want.killtrace.recommendation.what_if);
      expect(got?.killtrace.recommendation.per_class).toEqual(want.killtrace.recommendation.per_class);
      expect(got?.killtrace.recommendation.startup_probe).toEqual(want.killtrace.recommendation.startup_probe);
      expect(got?.killtrace.init.step).toBe(want.killtrace.init.step);
      expect(got?.killtrace.init.step_source).toBe(want.killtrace.init.step_source);
      expect(got?.killtrace.init.step_median_seconds).toBe(want.killtrace.init.step_median_seconds);
      expect(got?.killtrace.init.step_p90_seconds).toBe(want.killtrace.init.step_p90_seconds);
    }
    expect(normalize(await latestOnRecordsTopic(setup))).toEqual(normalize(expected));

    // The facts on the topic carry the kills and the sightings.
    const facts = await contextTable(setup);
    for (const uid of [uidA, uidB]) {
      const fact = facts.get(`pod/${uid}`)?.fact;
      expect(fact?.kind === 'pod' ? fact.kills?.length : 0).toBeGreaterThan(0);
      expect(fact?.kind === 'pod' ? fact.learned?.length : 0).toBeGreaterThan(0);
    }

    // The probe-margin gauge: one series per class, as killtrace analyze's evidence gives it.
    const metrics = await (await fetch(`http://127.0.0.1:${correlator.httpPort}/metrics`)).text();
    const single = new Correlator({ clusterName: 'e2e', profiles: mergeProfiles([]) });
    for (const i of all) single.ingest(i.signal);
    const want = single.workloadProbes().flatMap((w) => initMargins(w).map((m) => `killtrace_probe_init_margin_seconds{namespace="${w.namespace}",workload="${w.owner}",container="${w.container}",node_class="${m.nodeClass}",component="correlator"} ${m.marginSeconds}`));
    expect(want.length).toBeGreaterThan(1);
    const margins = metrics.split('\n').filter((l) => l.startsWith('killtrace_probe_init_margin_seconds{'));
    expect(margins.sort()).toEqual(want.sort());
  });
});
