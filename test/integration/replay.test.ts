import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@killtrace/logging';
import { decodeMessage } from '@killtrace/kafka';
import { signalKey, signalMessageSchema, signalTime } from '@killtrace/schemas';
import { startCorrelator, type RunningCorrelator } from '../../services/correlator/src/main.js';
import { buildCorrelator, cleanup, elasticFor, expectedRecords, kafkaFor, pipelineSetup, root, sortKeys, waitForDocs, withoutStatus, type PipelineSetup } from '../e2e/harness.js';
import { waitFor } from './helpers.js';

/**
 * `killtrace replay BUNDLE` (the real command, as a child process) into real Kafka, the real correlator behind it:
 * what lands in Elasticsearch is what `killtrace analyze` says about the same bundle.
 */

const running: RunningCorrelator[] = [];
const setups: PipelineSetup[] = [];
const logger = createLogger({ name: 'replay-it', level: 'warn', format: 'json' });

function replay(setup: PipelineSetup, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'services/cli/bin/killtrace.js'), 'replay', ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', ...setup.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(() => {
  // The command runs from dist/ (services/cli/bin): build the CLI and what it imports, incrementally.
  buildCorrelator();
  const result = spawnSync('npx', ['tsc', '-b', 'services/cli'], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0) throw new Error(`building the CLI failed:\n${result.stdout}\n${result.stderr}`);
});

afterAll(async () => {
  for (const c of running) await c.close();
  for (const setup of setups) await cleanup(setup, kafkaFor(setup), elasticFor(setup));
});

describe('killtrace replay into the real pipeline', () => {
  for (const { example, args } of [
    { example: 'host-agent-crashloop', args: ['--speed', 'max'] },
    // Compressed timing: the bundle's own gaps divided by 2000, idle stretches capped at 0.1 s.
    { example: 'shop-inventory-mixed', args: ['--speed', '2000', '--max-gap', '0.1'] },
  ]) {
    it(`${example} ${args.join(' ')}: the correlator's records equal killtrace analyze`, async () => {
      const setup = pipelineSetup(`replay-${example.slice(0, 8)}`, 1, { KILLTRACE_HTTP_PORT: '0' });
      setups.push(setup);
      running.push(await startCorrelator(setup.config, logger));
      const dir = join(root, 'examples', example);
      const result = await replay(setup, [dir, ...args]);
      expect(result.stderr).not.toMatch(/KT_ERR/);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`published \\d+ signals to ${setup.topics.signals} and \\d+ log lines to ${setup.topics.logs}`));

      const expected = await expectedRecords(dir);
      expect(expected.size).toBeGreaterThan(0);
      const { total, docs } = await waitForDocs(elasticFor(setup), setup.alias, expected, 90_000);
      expect(total).toBe(expected.size);
      expect([...docs.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [id, record] of expected) expect(sortKeys(withoutStatus(docs.get(id) as never)), id).toEqual(sortKeys(record));
    });
  }

  it('publishes with the collectors\' schema, key (pod uid) and event time as the Kafka timestamp', async () => {
    const setup = pipelineSetup('replay-format', 1, {});
    setups.push(setup);
    const result = await replay(setup, [join(root, 'examples', 'host-agent-crashloop'), '--speed', 'max']);
    expect(result.code).toBe(0);
    const published = Number(/published (\d+) signals/.exec(result.stdout)?.[1]);
    const kafka = kafkaFor(setup);
    const consumer = kafka.consumer({ groupId: `replay-format-${setup.suffix}` });
    const seen: { key: string; timestamp: number; producer: string; expectedKey: string; time?: number }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [setup.topics.signals], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const decoded = decodeMessage(signalMessageSchema, message.value);
        if (!decoded.ok) throw new Error(`replayed message does not satisfy the signals schema: ${decoded.issues.join('; ')}`);
        const s = decoded.value.signal;
        seen.push({
          key: message.key?.toString() ?? '',
          timestamp: Number(message.timestamp),
          producer: decoded.value.producer.component,
          // The collectors' contract (services/collector/src/publish/outgoing.ts): key and timestamp of a signal.
          expectedKey: signalKey(s),
          time: signalTime(s),
        });
      },
    });
    try {
      await waitFor(`${published} replayed signals`, () => seen.length >= published, 30_000);
    } finally {
      await consumer.disconnect();
    }
    expect(seen).toHaveLength(published);
    for (const m of seen) {
      expect(m.key).toBe(m.expectedKey);
      if (m.time !== undefined) expect(m.timestamp).toBe(Math.round(m.time));
    }
    expect(new Set(seen.map((m) => m.producer))).toEqual(new Set(['cluster-watcher', 'node-agent']));
    // Event-time order, as collectors publish what they observe.
    const times = seen.map((m) => m.timestamp);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});
