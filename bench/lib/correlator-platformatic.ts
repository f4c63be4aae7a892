/**
 * The correlator service with its consumer-group member on `@platformatic/kafka` (bench/lib/platformatic-batch-consumer.ts),
 * everything else as built (services/correlator/dist): the entry the pipeline benchmark starts, under
 * `node --import tsx`, to measure the pipeline's figure with that client (docs/decisions/0013-kafka-client.md).
 * Runs until SIGTERM/SIGINT, like services/correlator/bin/killtrace-correlator.js.
 */
import process from 'node:process';
import { loadConfig } from '@killtrace/config';
import { startCorrelator } from '@killtrace/correlator';
import { createLogger } from '@killtrace/logging';
import { createPlatformaticBatchConsumer } from './platformatic-batch-consumer.js';

const config = loadConfig();
const logger = createLogger({ name: 'correlator-platformatic', level: config.logging.level, format: config.logging.format });
try {
  const running = await startCorrelator(config, logger, undefined, { createBatchConsumer: createPlatformaticBatchConsumer });
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await running.close();
  logger.flush();
} catch (error) {
  logger.fatal({ err: error }, 'correlator (platformatic consumer) failed');
  logger.flush();
  process.exitCode = 1;
}
