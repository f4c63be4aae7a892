import { afterAll, describe, expect, it } from 'vitest';
import { decodeMessage } from '@killtrace/kafka';
import { createKafkaClient } from '../../libs/kafka/src/testing.js';
import { createLogger } from '@killtrace/logging';
import { recordMessageSchema, signalTime, type KubeletSignal, type RecordMessage, type Signal } from '@killtrace/schemas';
import { startCorrelator, type RunningCorrelator } from '../../services/correlator/src/main.js';
import { cleanup, elasticDocs, elasticFor, kafkaFor, pipelineSetup, produceSignals, type PipelineSetup } from '../e2e/harness.js';
import { waitFor } from './helpers.js';

/**
 * Real time, not a compressed replay: a liveness kill happens now, then the partition goes quiet. The provisional
 * record reaches Elasticsearch and the records topic from the kill decision alone; the final one follows from the
 * idle timeout (event time keeps pace with the clock) although no later evidence ever arrives.
 */

const running: RunningCorrelator[] = [];
const setups: PipelineSetup[] = [];
const logger = createLogger({ name: 'correlator-quiet-it', level: 'warn', format: 'json' });
const UID = '7b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d';
const POD = { namespace: 'shop', name: 'api-7d9f8c6b5-q2w3e', uid: UID };

/** A pod whose container `api` was started 40 s before `kill` and is killed by its liveness probe at `kill`. */
function liveKill(kill: number): Array<{ signal: Signal; time: number }> {
  const start = kill - 40_000;
  const kubelet = (at: number, action: KubeletSignal['action'], extra: Partial<KubeletSignal> = {}): Signal => ({ kind: 'kubelet', at, action, pod: POD, text: action, ...extra });
  const signals: Signal[] = [
    {
      kind: 'pod',
      observedAt: start + 1_000,
      pod: {
        ...POD,
        nodeName: 'worker-1',
        labels: { app: 'api' },
        owners: [{ kind: 'ReplicaSet', name: 'api-7d9f8c6b5' }],
        containers: [
          {
            name: 'api',
            image: 'registry.example.com/shop/api:1.2.3',
            init: false,
            liveness: { handler: 'http', periodSeconds: 5, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1, initialDelaySeconds: 20, target: 'GET :8080/healthz' },
          },
        ],
        statuses: [{ name: 'api', restartCount: 0, containerId: 'a'.repeat(64), ready: false, state: { kind: 'running', startedAt: start } }],
        initStatuses: [],
      },
    },
    kubelet(start, 'container_started', { containerId: 'a'.repeat(64) }),
    { kind: 'app_log', at: start + 500, pod: POD, container: 'api', restartCount: 0, stream: 'stdout', text: 'warming caches' },
    ...[-10_000, -5_000, 0].map((d) => kubelet(kill + d, 'probe_failed', { container: 'api', probeType: 'liveness', output: 'Get "http://10.1.2.3:8080/healthz": context deadline exceeded' })),
    kubelet(kill, 'kill_decision', { container: 'api', containerId: 'a'.repeat(64), output: 'Container api failed liveness probe, will be restarted' }),
    kubelet(kill, 'killing', { container: 'api', containerId: 'a'.repeat(64), gracePeriodSeconds: 30 }),
  ];
  return signals.map((signal) => ({ signal, time: signalTime(signal) ?? start }));
}

afterAll(async () => {
  for (const c of running) await c.close();
  for (const setup of setups) await cleanup(setup, kafkaFor(setup), elasticFor(setup));
});

describe('a partition that goes quiet after a kill', () => {
  it('gets the provisional record out at once and the final one from the idle timeout, in real time', async () => {
    const setup = pipelineSetup('quiet', 1, {
      KILLTRACE_HTTP_PORT: '0',
      KILLTRACE_CORRELATOR_ALLOWED_LATENESS_MS: '2000',
      KILLTRACE_CORRELATOR_IDLE_TIMEOUT_MS: '15000',
    });
    setups.push(setup);
    const correlator = await startCorrelator(setup.config, logger);
    running.push(correlator);
    const kafka = kafkaFor(setup);
    const es = elasticFor(setup);

    const messages: RecordMessage[] = [];
    const reader = createKafkaClient(setup.config.kafka, { clientId: `records-${setup.suffix}` }).consumer({ groupId: `records-${setup.suffix}` });
    await reader.connect();
    await reader.subscribe({ topics: [setup.topics.records], fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        const decoded = decodeMessage(recordMessageSchema, message.value);
        if (decoded.ok) messages.push(decoded.value);
      },
    });

    try {
      const kill = Date.now();
      await produceSignals(kafka, setup.topics, liveKill(kill));
      // The provisional record: from the kill decision alone (nothing after it was produced).
      await waitFor('a provisional record on the records topic', () => messages.some((m) => m.record.killtrace.status === 'provisional'), 30_000);
      const provisional = messages.find((m) => m.record.killtrace.status === 'provisional');
      expect(provisional?.record.killtrace.cause).toBe('liveness_probe');
      expect(provisional?.record.kubernetes.pod.uid).toBe(UID);
      const id = provisional?.id as string;
      // And in Elasticsearch, still provisional: the final one cannot come before the 15 s idle timeout.
      let inEs = (await elasticDocs(es, setup.alias).catch(() => ({ docs: new Map() }))).docs.get(id);
      for (let n = 0; inEs === undefined && n < 100; n += 1) {
        await new Promise((r) => setTimeout(r, 100));
        inEs = (await elasticDocs(es, setup.alias).catch(() => ({ docs: new Map() }))).docs.get(id);
      }
      expect(inEs?.killtrace.status).toBe('provisional');

      // No more input, ever: only the idle timeout can move event time past the kill + allowed lateness.
      await waitFor('the final record on the records topic', () => messages.some((m) => m.id === id && m.record.killtrace.status === 'final'), 60_000);
      let doc = (await elasticDocs(es, setup.alias)).docs.get(id);
      const deadline = Date.now() + 30_000;
      while (doc?.killtrace.status !== 'final' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        doc = (await elasticDocs(es, setup.alias)).docs.get(id);
      }
      expect(doc?.killtrace.status).toBe('final');
      expect(doc?.killtrace.cause).toBe('liveness_probe');
      // The final record is the last provisional one, finished: same evidence, same explanation.
      const lastProvisional = messages.filter((m) => m.id === id && m.record.killtrace.status === 'provisional').at(-1);
      const { status: _a, ...finalRest } = doc?.killtrace ?? {};
      const { status: _b, ...provisionalRest } = lastProvisional?.record.killtrace ?? {};
      expect(finalRest).toEqual(provisionalRest);
    } finally {
      await reader.disconnect();
    }
  }, 180_000);
});
