import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { loadConfig, type Config } from '@killtrace/config';

/** A suffix that keeps each run's topics, groups and indices apart from earlier and concurrent runs. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** The configuration the adapters get in integration tests: the servers global setup verified. */
export function integrationConfig(): Config {
  return loadConfig({
    env: { KILLTRACE_CLUSTER_NAME: 'integration', KAFKA_BROKERS: inject('kafkaBrokers'), ELASTICSEARCH_URL: inject('elasticsearchUrl') },
    overrides: { kafka: { partitions: 3, replicationFactor: 1 } },
  });
}

/** Polls until `check` returns true, failing with `what` after the timeout. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
