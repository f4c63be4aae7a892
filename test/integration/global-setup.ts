import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { createElasticClient } from '../../libs/elastic/src/index.js';
import { createKafkaClient } from '../../libs/kafka/src/index.js';
import { loadConfig } from '../../libs/config/src/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    elasticsearchUrl: string;
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

export default async function setup(project: TestProject): Promise<void> {
  if (process.env.KAFKA_BROKERS === undefined || process.env.ELASTICSEARCH_URL === undefined) stackUp();
  const kafkaBrokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  const elasticsearchUrl = process.env.ELASTICSEARCH_URL ?? 'http://127.0.0.1:9200';
  await verify(kafkaBrokers, elasticsearchUrl);
  console.log(`[integration] using Kafka ${kafkaBrokers} and Elasticsearch ${elasticsearchUrl}`);
  project.provide('kafkaBrokers', kafkaBrokers);
  project.provide('elasticsearchUrl', elasticsearchUrl);
}
