import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Config } from '@killtrace/config';
import { createProducer, ensureTopics } from '@killtrace/kafka';
import { createKafkaClient } from '../../libs/kafka/src/testing.js';
import { createLogger } from '@killtrace/logging';
import { startNodeAgent } from '../../services/collector/src/node-agent/index.js';
import { createPublisherMetrics, createSignalPublisher } from '../../services/collector/src/publish/index.js';
import { integrationConfig, uniqueSuffix, waitFor } from './helpers.js';

/**
 * A node agent that cannot read the kubelet journal says so: a warning, a metric and a failing readiness (its
 * container logs still flow, but kill decisions do not), and a failing journalctl is restarted with growing,
 * jittered back-off instead of every second. Real files, a real failing process, the real Kafka.
 */

const base = integrationConfig();
const kafka = createKafkaClient(base.kafka, { clientId: 'killtrace-it-node-agent-journal' });
const cleanups: (() => Promise<void>)[] = [];
const topicsToDelete: string[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

afterAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: topicsToDelete }).catch(() => undefined);
  await admin.disconnect();
});

interface Started {
  readiness: () => { ok: boolean; detail?: string };
  registry: Registry;
  lines: Array<Record<string, unknown>>;
}

async function start(nodeAgent: Partial<Config['nodeAgent']>, dir: string): Promise<Started> {
  const suffix = uniqueSuffix();
  const topics = { signals: `kt-it-naj-signals-${suffix}`, logs: `kt-it-naj-logs-${suffix}`, deadLetter: `kt-it-naj-dl-${suffix}` };
  topicsToDelete.push(...Object.values(topics));
  await ensureTopics(kafka, Object.values(topics).map((topic) => ({ topic, partitions: 1, replicationFactor: 1 })));
  const logRoot = join(dir, 'pods');
  await mkdir(logRoot, { recursive: true });
  const config: Config = {
    ...base,
    kafka: { ...base.kafka, topics: { ...base.kafka.topics, ...topics } },
    nodeAgent: { ...base.nodeAgent, nodeName: 'worker-9', logRoot, checkpointDir: join(dir, 'checkpoints'), pollIntervalMs: 50, checkpointIntervalMs: 0, ...nodeAgent },
  };
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger({ name: 'node-agent-journal-it', level: 'debug', format: 'json', destination });
  const publisher = createSignalPublisher({
    producer: createProducer(kafka),
    topics: config.kafka.topics,
    producerRef: { component: 'node-agent', instance: 'worker-9' },
    logger,
    metrics: createPublisherMetrics(new Registry()),
  });
  await publisher.connect();
  cleanups.push(() => publisher.close());
  const registry = new Registry();
  const agent = await startNodeAgent({ config, logger, publisher, registry });
  cleanups.push(() => agent.close());
  const readiness = (): { ok: boolean; detail?: string } => agent.readiness?.() ?? { ok: agent.ready() };
  return { readiness, registry, lines };
}

async function metric(registry: Registry, name: string): Promise<number> {
  const found = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return Number(found?.values[0]?.value ?? Number.NaN);
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kt-node-agent-journal-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('node agent: kubelet journal problems', () => {
  it('reports a configured journal file that does not exist, and recovers when it appears', async () => {
    const dir = await tempDir();
    const path = join(dir, 'kubelet.log');
    // The kernel journal is another source (its own test below); off here so only the kubelet journal decides.
    const agent = await start({ journalMode: 'file', journalPath: path, kernelJournal: false }, dir);
    await waitFor('readiness failing for the missing journal', () => !agent.readiness().ok, 10_000);
    expect(agent.readiness().detail).toBe(`journal file ${path} does not exist`);
    expect(await metric(agent.registry, 'killtrace_node_agent_journal_healthy')).toBe(0);
    expect(await metric(agent.registry, 'killtrace_node_agent_journal_failures_total')).toBe(1);
    const warning = agent.lines.find((l) => l.event === 'JournalUnreadable');
    expect(warning?.level).toBe('warn');
    expect(warning?.detail).toBe(`journal file ${path} does not exist`);

    await writeFile(path, '');
    await waitFor('readiness back once the file exists', () => agent.readiness().ok, 10_000);
    expect(await metric(agent.registry, 'killtrace_node_agent_journal_healthy')).toBe(1);
    expect(agent.lines.some((l) => l.event === 'JournalReadable')).toBe(true);
    // Counted once per absence, not once per poll.
    expect(await metric(agent.registry, 'killtrace_node_agent_journal_failures_total')).toBe(1);
  });

  it('backs off a journalctl that keeps failing, with growing jittered delays, and fails readiness', async () => {
    const dir = await tempDir();
    const script = join(dir, 'journalctl');
    await writeFile(script, '#!/bin/sh\necho "Failed to open journal: permission denied" >&2\nexit 1\n', { mode: 0o755 });
    // The kernel follower would run the same failing script (journalctl -k): off here, its own case is below.
    const agent = await start({ journalMode: 'journalctl', journalctlCommand: script, kernelJournal: false }, dir);
    await waitFor('readiness failing after repeated journalctl failures', () => !agent.readiness().ok, 30_000);
    expect(agent.readiness().detail).toMatch(/^journalctl failed 3 times in a row \(last: exit 1: Failed to open journal: permission denied\); next attempt in \d+ ms$/);
    expect(await metric(agent.registry, 'killtrace_node_agent_journal_healthy')).toBe(0);
    expect(await metric(agent.registry, 'killtrace_node_agent_journal_failures_total')).toBe(3);
    const delays = agent.lines.filter((l) => l.event === 'JournalctlEnded').map((l) => Number(l.delayMs));
    expect(delays).toHaveLength(3);
    // Attempt n waits between half and all of 1 s * 2^(n-1).
    delays.forEach((delay, n) => {
      expect(delay).toBeGreaterThanOrEqual(500 * 2 ** n);
      expect(delay).toBeLessThanOrEqual(1_000 * 2 ** n);
    });
    expect(agent.lines.filter((l) => l.event === 'JournalUnreadable' && l.level === 'warn')).toHaveLength(1);
  });

  it('gives the kernel OOM follower the same treatment: a failing journalctl -k backs off, warns once, counts and fails readiness', async () => {
    const dir = await tempDir();
    const kubeletLog = join(dir, 'kubelet.log');
    await writeFile(kubeletLog, '');
    const script = join(dir, 'journalctl');
    await writeFile(script, '#!/bin/sh\necho "No journal files were found." >&2\nexit 1\n', { mode: 0o755 });
    // The kubelet log is a readable file; only `journalctl -k` (the kernel journal) fails.
    const agent = await start({ journalMode: 'file', journalPath: kubeletLog, kernelJournal: true, journalctlCommand: script }, dir);
    await waitFor('readiness failing after repeated journalctl -k failures', () => !agent.readiness().ok, 30_000);
    expect(agent.readiness().detail).toMatch(/^kernel journal: journalctl failed 3 times in a row \(last: exit 1: No journal files were found\.\); next attempt in \d+ ms$/);
    expect(await metric(agent.registry, 'killtrace_node_agent_kernel_journal_healthy')).toBe(0);
    expect(await metric(agent.registry, 'killtrace_node_agent_kernel_journal_failures_total')).toBe(3);
    // The kubelet journal is fine: its own gauge says so.
    expect(await metric(agent.registry, 'killtrace_node_agent_journal_healthy')).toBe(1);
    const delays = agent.lines.filter((l) => l.event === 'KernelJournalctlEnded').map((l) => Number(l.delayMs));
    expect(delays).toHaveLength(3);
    // The back-off of libs/retry: attempt n waits between half and all of 1 s * 2^(n-1) (it used to be a flat 30 s).
    delays.forEach((delay, n) => {
      expect(delay).toBeGreaterThanOrEqual(500 * 2 ** n);
      expect(delay).toBeLessThanOrEqual(1_000 * 2 ** n);
    });
    const warnings = agent.lines.filter((l) => l.event === 'KernelJournalUnreadable' && l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toMatch(/^cannot read the kernel journal, kernel OOM kills are not collected: journalctl failed 3 times/);
  });
});
