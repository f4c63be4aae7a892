import { stat } from 'node:fs/promises';
import { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '@killtrace/config';
import { CliError, EXIT_OK } from './errors.js';
import { replayBundle } from './replay.js';

interface ReplayFlags {
  speed: string;
  maxGap?: string;
  clusterName?: string;
}

/** Parses `--speed`: `max` (no waiting) or a positive factor (1 = the bundle's own timing). */
export function parseSpeed(value: string): number {
  if (value === 'max') return 0;
  const speed = Number(value);
  if (!Number.isFinite(speed) || speed <= 0) throw new CliError('KT_ERR_CLI_BAD_OPTION', `--speed must be a positive factor (1 = original timing) or max, got "${value}"`);
  return speed;
}

function parseSeconds(value: string, flag: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0) throw new CliError('KT_ERR_CLI_BAD_OPTION', `${flag} must be a number of seconds, got "${value}"`);
  return seconds * 1000;
}

/** `killtrace replay BUNDLE...`: the bundle's evidence into Kafka, as the collectors publish it (see replay.ts). */
export function replayCommand(io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream }, setExitCode: (code: number) => void): Command {
  return new Command('replay')
    .description('Publish a bundle\'s evidence to Kafka as the collectors would, for the correlator (KAFKA_BROKERS and the other settings of the configuration reference).')
    .argument('<bundle...>', 'bundle directories or files, as for analyze')
    .option('--speed <factor>', 'timing: 1 = as recorded, 60 = sixty times faster, max = no waiting', '1')
    .option('--max-gap <seconds>', 'longest pause between two messages after the speed-up (idle stretches shrink to it)')
    .option('--cluster-name <name>', 'cluster name setting (KILLTRACE_CLUSTER_NAME); the correlator writes its own')
    .action(async (paths: string[], flags: ReplayFlags) => {
      const speed = parseSpeed(flags.speed);
      const maxGapMs = flags.maxGap === undefined ? undefined : parseSeconds(flags.maxGap, '--max-gap');
      for (const path of paths) {
        await stat(path).catch((error: NodeJS.ErrnoException) => {
          throw new CliError('KT_ERR_CLI_INPUT_NOT_FOUND', `cannot read ${path}: ${error.code === 'ENOENT' ? 'no such file or directory' : error.message}`);
        });
      }
      let config: Config;
      try {
        const clusterName = flags.clusterName ?? (process.env.KILLTRACE_CLUSTER_NAME || 'default');
        config = loadConfig({ overrides: { clusterName } });
      } catch (error) {
        if (error instanceof ConfigError) throw new CliError('KT_ERR_CLI_CONFIG', error.message);
        throw error;
      }
      let lastShown = 0;
      const report = await replayBundle({
        paths,
        config,
        speed,
        maxGapMs,
        onKafkaTrouble: (message) => io.stderr.write(`killtrace replay: Kafka at ${config.kafka.brokers.join(',')} is not answering yet, retrying: ${message}\n`),
        onProgress: ({ published, total }) => {
          // One line per tenth, not per batch: a long replay at its original pace shows it is alive.
          if (total > 0 && (published === total || published - lastShown >= total / 10)) {
            lastShown = published;
            io.stderr.write(`killtrace replay: ${published}/${total} messages published\n`);
          }
        },
      });
      if (report.signals + report.logs === 0) {
        throw new CliError('KT_ERR_CLI_NO_INPUT', 'no readable Kubernetes, kubelet or container log file in the input: nothing was published');
      }
      const topics = config.kafka.topics;
      io.stdout.write(
        `published ${report.signals} signals to ${topics.signals} and ${report.logs} log lines to ${topics.logs} on ${config.kafka.brokers.join(',')}` +
          ` (bundle span ${(report.spanMs / 1000).toFixed(1)} s, replayed in ${(report.elapsedMs / 1000).toFixed(1)} s` +
          `${report.createdTopics.length > 0 ? `; created ${report.createdTopics.join(', ')}` : ''})\n`,
      );
      setExitCode(EXIT_OK);
    });
}
