import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { createElasticClient } from '../../libs/elastic/src/index.js';
import { createKafkaClient } from '../../libs/kafka/src/testing.js';
import { loadConfig } from '../../libs/config/src/index.js';
import { kubeRequest, stackKubeEnv, type KubeApiServer } from './kube-api.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    elasticsearchUrl: string;
    /** The stack's real kube-apiserver (scripts/stack-kube.sh): URL, CA, admin token. */
    kubeApiServer: KubeApiServer;
  }
}

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Starts (or reuses) the project's own servers when the environment names none. */
function stackUp(): void {
  console.log('[integration] KAFKA_BROKERS or ELASTICSEARCH_URL not set: running `bash scripts/stack.sh up`');
  const result = spawnSync('bash', ['scripts/stack.sh', 'up'], { cwd: root, stdio: 'inherit', timeout: 600_000 });
  if (result.status !== 0) {
    throw new Error(
      `[integration] \`bash scripts/stack.sh up\` failed (exit ${result.status ?? result.signal}); its output above names the server and log. ` +
        'Integration tests need real Kafka and Elasticsearch: set KAFKA_BROKERS and ELASTICSEARCH_URL, or fix the stack.',
    );
  }
}

async function withTimeout<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Proves both servers answer through the adapters; throws (never skips) when they do not. */
async function verify(kafkaBrokers: string, elasticsearchUrl: string): Promise<void> {
  const config = loadConfig({ env: { KILLTRACE_CLUSTER_NAME: 'integration', KAFKA_BROKERS: kafkaBrokers, ELASTICSEARCH_URL: elasticsearchUrl } });
  const problems: string[] = [];
  const admin = createKafkaClient(config.kafka, { clientId: 'killtrace-integration-setup' }).admin();
  try {
    await withTimeout('Kafka', 30_000, admin.connect().then(() => admin.listTopics()));
  } catch (error) {
    problems.push(`Kafka at ${kafkaBrokers} is not reachable: ${(error as Error).message}`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const es = createElasticClient(config.elasticsearch, { maxRetries: 0 });
  try {
    const health = await withTimeout('Elasticsearch', 30_000, es.cluster.health({ wait_for_status: 'yellow', timeout: '20s' }));
    if (health.status === 'red') problems.push(`Elasticsearch at ${elasticsearchUrl} is red`);
  } catch (error) {
    problems.push(`Elasticsearch at ${elasticsearchUrl} is not reachable: ${(error as Error).message}`);
  } finally {
    await es.close();
  }
  if (problems.length > 0) {
    throw new Error(
      `[integration] servers unavailable (tests need real Kafka and Elasticsearch; run \`npm run stack up\` or set KAFKA_BROKERS/ELASTICSEARCH_URL):\n  - ${problems.join('\n  - ')}`,
    );
  }
}

/** True when the stack's API server answers /readyz as its admin. */
async function kubeReady(): Promise<boolean> {
  try {
    return String(await kubeRequest(stackKubeEnv(), '/readyz', { timeoutMs: 5_000 })).startsWith('ok');
  } catch {
    return false;
  }
}

/**
 * The real kube-apiserver every Kubernetes-facing test uses: started (built the first time) by
 * `bash scripts/stack.sh kube-up` when it does not answer; throws (never skips) when it still does not.
 */
async function ensureKubeApiServer(): Promise<KubeApiServer> {
  if (!(await kubeReady())) {
    console.log('[integration] the stack kube-apiserver does not answer: running `bash scripts/stack.sh kube-up`');
    const result = spawnSync('bash', ['scripts/stack.sh', 'kube-up'], { cwd: root, stdio: 'inherit', timeout: 1_800_000 });
    if (result.status !== 0) {
      throw new Error(`[integration] \`bash scripts/stack.sh kube-up\` failed (exit ${result.status ?? result.signal}); its output above names the build or server log. Tests need the real kube-apiserver.`);
    }
  }
  const server = stackKubeEnv();
  const readyz = await kubeRequest(server, '/readyz', { timeoutMs: 10_000 }).catch((error: Error) => error.message);
  if (!String(readyz).startsWith('ok')) throw new Error(`[integration] the kube-apiserver at ${server.url} is not ready: ${String(readyz)}`);
  return server;
}

export default async function setup(project: TestProject): Promise<void> {
  if (process.env.KAFKA_BROKERS === undefined || process.env.ELASTICSEARCH_URL === undefined) stackUp();
  const kafkaBrokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  const elasticsearchUrl = process.env.ELASTICSEARCH_URL ?? 'http://127.0.0.1:9200';
  await verify(kafkaBrokers, elasticsearchUrl);
  console.log(`[integration] using Kafka ${kafkaBrokers} and Elasticsearch ${elasticsearchUrl}`);
  project.provide('kafkaBrokers', kafkaBrokers);
  project.provide('elasticsearchUrl', elasticsearchUrl);
  const kube = await ensureKubeApiServer();
  console.log(`[integration] using kube-apiserver ${kube.url}`);
  project.provide('kubeApiServer', kube);
}
