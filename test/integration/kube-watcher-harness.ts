import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';
import type { KafkaMessage } from 'kafkajs';
import type { Config } from '@killtrace/config';
import { createProducer, createTableWriter, ensureTopics } from '@killtrace/kafka';
import { createKafkaClient, type KafkaClient } from '../../libs/kafka/src/testing.js';
import { createLogger } from '@killtrace/logging';
import { contextMessageSchema, signalMessageSchema, type ContextMessage, type EventSignal, type PodSignal, type Signal, type SignalMessage } from '@killtrace/schemas';
import { createRegistry } from '@killtrace/service-http';
import { startClusterWatcher, type ClusterWatcher } from '../../services/collector/src/cluster-watcher/index.js';
import { createPublisherMetrics, createSignalPublisher, type ManagedPublisher } from '../../services/collector/src/publish/index.js';
import { integrationConfig, uniqueSuffix, waitFor } from './helpers.js';
import { createNamespace, kubeConfigFor, kubeRequest, serviceAccountToken, type KubeApiServer } from './kube-api.js';

/**
 * The real cluster watcher against the stack's real kube-apiserver, publishing into real Kafka, running as a
 * ServiceAccount bound to a ClusterRole (the deploy/kubernetes one's rules unless a test narrows them). Shared by the
 * watcher and RBAC tests.
 */

const clusterWatcherManifest = fileURLToPath(new URL('../../deploy/kubernetes/base/cluster-watcher.yaml', import.meta.url));

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** The rules of the watcher's ClusterRole as shipped in deploy/kubernetes. */
export function shippedClusterRoleRules(): PolicyRule[] {
  const objects = loadAllYaml(readFileSync(clusterWatcherManifest, 'utf8')) as (KubernetesObject & { rules?: PolicyRule[] })[];
  const role = objects.find((o) => o.kind === 'ClusterRole');
  if (role?.rules === undefined) throw new Error(`${clusterWatcherManifest} has no ClusterRole with rules`);
  return role.rules;
}

/** A ServiceAccount in `namespace` bound cluster-wide to a ClusterRole with `rules`; returns a TokenRequest token. */
export async function serviceAccountWithRules(server: KubeApiServer, namespace: string, name: string, rules: PolicyRule[]): Promise<{ token: string; clusterRole: string }> {
  const clusterRole = `${name}-${namespace}`;
  await kubeRequest(server, `/api/v1/namespaces/${namespace}/serviceaccounts`, { method: 'POST', body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } } });
  await kubeRequest(server, '/apis/rbac.authorization.k8s.io/v1/clusterroles', { method: 'POST', body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: clusterRole }, rules } });
  await kubeRequest(server, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    method: 'POST',
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: clusterRole },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  return { token: await serviceAccountToken(server, namespace, name), clusterRole };
}

/** Removes what `serviceAccountWithRules` created cluster-wide. */
export async function deleteClusterRole(server: KubeApiServer, clusterRole: string): Promise<void> {
  await kubeRequest(server, `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${clusterRole}`, { method: 'DELETE' }).catch(() => undefined);
  await kubeRequest(server, `/apis/rbac.authorization.k8s.io/v1/clusterroles/${clusterRole}`, { method: 'DELETE' }).catch(() => undefined);
}

/** Every message on a signals topic, decoded. */
export async function readSignalMessages(topic: string): Promise<SignalMessage[]> {
  return (await readAll(topic)).map((raw) => signalMessageSchema.parse(JSON.parse(String(raw.value))));
}

/** The shared Kafka client of these tests. */
export function testKafka(): KafkaClient {
  return kafkaClient();
}

/** The rules of a namespaced Role shipped in deploy/kubernetes/base/cluster-watcher.yaml. */
export function shippedRoleRules(name: string): PolicyRule[] {
  const objects = loadAllYaml(readFileSync(clusterWatcherManifest, 'utf8')) as (KubernetesObject & { rules?: PolicyRule[] })[];
  const role = objects.find((o) => o.kind === 'Role' && o.metadata?.name === name);
  if (role?.rules === undefined) throw new Error(`${clusterWatcherManifest} has no Role ${name} with rules`);
  return role.rules;
}

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

export interface RealWatcher {
  namespace: string;
  watcher: ClusterWatcher;
  publisher: ManagedPublisher;
  topics: { signals: string; deadLetter: string; context: string };
  logs: LogLine[];
  /** Every message on the context topic so far, in offset order per partition (null value: a tombstone). */
  contextMessages(): Promise<Array<{ key: string; message: ContextMessage | null }>>;
  /** Every signal on the topic so far. */
  signals(): Promise<Signal[]>;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

let kafka: KafkaClient | undefined;
const kafkaClient = (): KafkaClient => (kafka ??= createKafkaClient(integrationConfig().kafka, { clientId: 'killtrace-it-kube-watcher' }));

async function readAll(topic: string): Promise<KafkaMessage[]> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const total = offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
    if (total === 0) return [];
    const consumer = kafkaClient().consumer({ groupId: `kt-it-kw-reader-${uniqueSuffix()}` });
    const messages: KafkaMessage[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void messages.push(message) });
    await waitFor(`${total} messages on ${topic}`, () => messages.length >= total, 30_000);
    await consumer.disconnect();
    return messages;
  } finally {
    await admin.disconnect();
  }
}

export interface StartRealWatcherOptions {
  server: KubeApiServer;
  /** The namespace the test works in (created with its `default` ServiceAccount when `createNamespace`). */
  namespace: string;
  token: string;
  /** Watch only these namespaces (default: only `namespace`); `[]`: cluster-wide. */
  namespaces?: string[];
  /** Wait until ready (default true). */
  waitReady?: boolean;
  /** Give the watcher a context topic of its own, so it watches Nodes too (node-facts.ts). */
  withContext?: boolean;
}

/** Starts the watcher with its own topics, a ServiceAccount token, and log lines kept for assertions. */
export async function startRealWatcher(options: StartRealWatcherOptions): Promise<RealWatcher> {
  const base = integrationConfig();
  const suffix = uniqueSuffix();
  const topics = { signals: `kt-it-kw-signals-${suffix}`, logs: `kt-it-kw-logs-${suffix}`, deadLetter: `kt-it-kw-dlq-${suffix}`, context: `kt-it-kw-context-${suffix}` };
  await ensureTopics(kafkaClient(), [
    { topic: topics.signals, partitions: 3, replicationFactor: 1 },
    { topic: topics.deadLetter, partitions: 1, replicationFactor: 1 },
    ...(options.withContext === true ? [{ topic: topics.context, partitions: 3, replicationFactor: 1, configEntries: { 'cleanup.policy': 'compact' } }] : []),
  ]);
  const logs: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n').filter((l) => l !== '')) logs.push(JSON.parse(line) as LogLine);
      callback();
    },
  });
  const logger = createLogger({ name: 'collector-it-kube', level: 'info', format: 'json', destination });
  const config: Config = {
    ...base,
    kafka: { ...base.kafka, topics: { ...base.kafka.topics, ...topics } },
    clusterWatcher: { ...base.clusterWatcher, retryMaxMs: 1_000, namespaces: options.namespaces ?? [options.namespace] },
  };
  const registry = createRegistry('collector-cluster-watcher-kube-it');
  const publisher = createSignalPublisher({
    producer: createProducer(kafkaClient()),
    topics: config.kafka.topics,
    producerRef: { component: 'cluster-watcher', instance: 'integration' },
    logger,
    metrics: createPublisherMetrics(registry),
  });
  await publisher.connect();
  const contextWriter = options.withContext === true ? createTableWriter(kafkaClient(), topics.context, contextMessageSchema) : undefined;
  await contextWriter?.connect();
  const watcher = await startClusterWatcher({ config, logger, publisher, registry, kubeConfig: kubeConfigFor(options.server, options.token), ...(contextWriter === undefined ? {} : { contextWriter }) });
  if (options.waitReady !== false) await waitFor('watcher ready', () => watcher.ready(), 20_000);
  return {
    namespace: options.namespace,
    watcher,
    publisher,
    topics,
    logs,
    async contextMessages() {
      await watcher.idle();
      return (await readAll(topics.context)).map((raw) => ({
        key: String(raw.key),
        message: raw.value === null ? null : contextMessageSchema.parse(JSON.parse(String(raw.value))),
      }));
    },
    async signals() {
      await watcher.idle();
      return (await readAll(topics.signals)).map((raw) => signalMessageSchema.parse(JSON.parse(String(raw.value))).signal);
    },
    async metric(name, labels = {}) {
      const metric = await registry.getSingleMetric(name)?.get();
      return (metric?.values ?? [])
        .filter((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l))
        .reduce((sum, v) => sum + v.value, 0);
    },
    async close() {
      await watcher.close();
      await publisher.close();
      await contextWriter?.disconnect();
      const admin = kafkaClient().admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [topics.signals, topics.deadLetter, ...(contextWriter === undefined ? [] : [topics.context])] }).catch(() => undefined);
      await admin.disconnect();
    },
  };
}

export { createNamespace };

export const podSignals = (list: Signal[], namespace: string): PodSignal[] => list.filter((s): s is PodSignal => s.kind === 'pod' && s.pod.namespace === namespace);
export const eventSignals = (list: Signal[], namespace: string): EventSignal[] => list.filter((s): s is EventSignal => s.kind === 'event' && s.involved.namespace === namespace);

/** Waits until `count()` reaches `expected`, then a little longer so that a duplicate would show up. */
export async function settle(count: () => Promise<number>, expected: number, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await count()) < expected) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${await count()} of ${expected}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await new Promise((resolve) => setTimeout(resolve, 1_000));
}
