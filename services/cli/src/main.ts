import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Command, CommanderError, Option } from 'commander';
import { renderCauseSummary, renderRecommendations, renderRecordsText } from '@killtrace/render';
import type { StepProfile } from '@killtrace/schemas';
import { alertDryRun, loadAlertRules, renderAlertDryRun } from './alerts-dry-run.js';
import { CliError, EXIT_OK, EXIT_USAGE } from './errors.js';
import { noReadableInput } from './input-verdict.js';
import { exportTimeline, type ExportFlags } from './export-command.js';
import { ProgressMeter } from './progress-meter.js';
import { loadProfileFile } from './profile-loader.js';
import { renderReadSummary } from './read-summary.js';
import { runAnalysis } from './run-analysis.js';
import { MAX_WORKERS } from './log-worker-pool.js';
import { runSetup, type SetupFlags } from './setup.js';
import { replayCommand } from './replay-command.js';
import { profileCommand } from './profile-suggest.js';
import { lintCommand } from './lint-command.js';

interface AnalyzeFlags {
  events?: string[];
  pods?: string[];
  logs?: string[];
  kubelet?: string[];
  kernel?: string[];
  logsOf?: string[];
  profile?: string[];
  output: 'text' | 'json' | 'ndjson';
  clusterName: string;
  year?: number;
  pipeTimeout: number;
  color: boolean;
  nodeClassLabels?: string[];
  learn: boolean;
  builtinProfiles: boolean;
  alerts?: string;
  workers: number | 'auto';
}

/** Runs the `killtrace` command line and returns the exit code. */
export async function main(
  argv: readonly string[],
  io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream } = process,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  const program = new Command('killtrace')
    .description('Explains which kubelet decision killed which step of your application, for every container restart.')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run killtrace analyze --help for usage)');

  let exitCode = EXIT_OK;
  program
    .command('analyze')
    .description('Analyse a bundle of cluster artifacts (kubectl events/pods JSON, /var/log/pods, journalctl -u kubelet) with no servers.')
    .argument('[path...]', 'bundle directories or files (several per-node directories at once), each file recognised by its content; - reads stdin')
    .option('--events <file...>', 'kubectl get events -A -o json (List, events.k8s.io/v1 or --watch stream)')
    .option('--pods <file...>', 'kubectl get pods -A -o json (List or a single Pod)')
    .option('--logs <dir...>', 'container logs in the kubelet layout <ns>_<pod>_<uid>/<container>/<N>.log, or /var/log/containers/<pod>_<ns>_<container>-<id>.log copies')
    .option('--kubelet <file...>', 'journalctl -u kubelet output (short, short-iso, short-precise, cat or json)')
    .option('--logs-of <spec...>', 'kubectl logs --timestamps output of one container: [NS/]POD/CONTAINER=FILE, or [NS/]POD/CONTAINER:previous=FILE for --previous')
    .option('--kernel <file...>', 'journalctl -k (short, short-iso, short-precise or json) or dmesg -T output: kernel OOM kills')
    .option('--profile <file...>', 'step profile file(s), YAML or JSON; they override built-in profiles by name')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json', 'ndjson']).default('text'))
    .option('--cluster-name <name>', 'orchestrator.cluster.name of the records', 'default')
    .option('--year <year>', 'year of year-less journal timestamps (default: the year nearest to the newest pod/event time)', parseYear)
    .option('--pipe-timeout <seconds>', 'give up a pipe or FIFO (-, <(kubectl ...)) that sends nothing for this long', parsePipeTimeout, 60)
    .option('--no-color', 'never colour the text output')
    .option('--node-class-labels <labels>', 'comma-separated node labels whose values make a node class (default: instance type and NVIDIA GPU labels)', parseLabelList)
    .option('--no-learn', 'do not learn init steps from the logs of workloads without a step profile')
    .option('--no-builtin-profiles', 'ignore the built-in step profiles (see what learning alone finds)')
    .option('--workers <n>', `worker threads that read and follow the container logs: 1 reads them in one thread; default: the cores available (at most ${MAX_WORKERS}), fewer for small bundles`, parseWorkers, 'auto')
    .option('--alerts <rules>', 'dry run of alert rules (the alerter\'s rules file; an empty file means the built-in rules): which alerts would have fired, and when')
    .action(async (dirs: string[], flags: AnalyzeFlags) => {
      exitCode = await analyze(dirs, flags, io);
    });

  program.addCommand(
    replayCommand(io, (code) => {
      exitCode = code;
    }),
  );

  program.addCommand(
    profileCommand(io, (code) => {
      exitCode = code;
    }),
  );
  program.addCommand(
    lintCommand(io, (code) => {
      exitCode = code;
    }),
  );

  program
    .command('setup')
    .description(
      'Install the Elasticsearch index template and write alias (idempotent) and, when a Kibana URL is configured, import the saved objects (data view, searches, dashboard).',
    )
    .option('--kibana-url <url>', 'Kibana base URL (overrides KIBANA_URL / kibana.url)')
    .option('--kibana-space <space>', 'Kibana space to import into (overrides KILLTRACE_KIBANA_SPACE / kibana.space)')
    .option('--no-kibana', 'install the index template only')
    .option('--replicas <n>', 'replicas of the restart indices (0 on a single-node cluster)', parseReplicas, 1)
    .option('--kibana-wait <seconds>', 'keep retrying this long while Kibana is unreachable or starting (HTTP 503)', parseSeconds, 60)
    .action(async (flags: SetupFlags) => {
      exitCode = await runSetup(flags, io, env);
    });

  program
    .command('export')
    .description('Write a postmortem timeline (Markdown, HTML with SVG, JSON or CSV) of one restart, one pod, or one workload over a time range, from Elasticsearch or a bundle.')
    .option('--bundle <dir...>', 'analyse this bundle with the embedded analyser instead of reading Elasticsearch')
    .option('--id <record-id>', 'one restart: its record id <pod uid>:<container>:<restart count>')
    .option('--pod <namespace/pod>', 'every restart of one pod')
    .option('--workload <namespace/name>', 'every restart of a DaemonSet, Deployment, StatefulSet, ReplicaSet or Job')
    .option('--container <name>', 'only this container of the pod or workload')
    .option('--from <time>', 'ISO-8601 start (inclusive) of the time range')
    .option('--to <time>', 'ISO-8601 end (exclusive) of the time range')
    .option('--since <duration>', 'time range ending now: 30m, 12h, 7d, 2w')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['markdown', 'html', 'json', 'csv']).default('markdown'))
    .option('-o, --out <file>', 'write to this file instead of stdout')
    .option('--elasticsearch <url>', 'Elasticsearch URL (default: $ELASTICSEARCH_URL, then the configuration file, then http://127.0.0.1:9200)')
    .option('--index <alias>', 'index or alias of the records (default: elasticsearch.indexPrefix, killtrace-restarts)')
    .option('--profile <file...>', 'with --bundle: step profile file(s)')
    .option('--cluster-name <name>', 'with --bundle: orchestrator.cluster.name of the records', 'default')
    .option('--year <year>', 'with --bundle: year of year-less kubelet journal timestamps', parseYear)
    .option('--workers <n>', `with --bundle: worker threads that read the container logs, as for analyze (default: the cores available, at most ${MAX_WORKERS}, fewer for small bundles)`, parseWorkers, 'auto')
    .action(async (flags: ExportFlags) => {
      exitCode = await exportTimeline(flags, io);
    });

  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    if (error instanceof CliError) {
      io.stderr.write(`killtrace: ${error.message} [${error.code}]\n`);
      return error.exitCode;
    }
    // Adapter and configuration errors (KT_ERR_ELASTIC_*, KT_ERR_CONFIG_*) carry their own message and code.
    const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
    if (error instanceof Error && code.startsWith('KT_ERR_')) {
      io.stderr.write(`killtrace: ${error.message.startsWith(code) ? error.message : `${code}: ${error.message}`}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

/** The version of this package (dist/ and src/ both sit one level below package.json). */
function packageVersion(): string {
  const raw: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return typeof raw === 'object' && raw !== null && 'version' in raw && typeof raw.version === 'string' ? raw.version : 'unknown';
}

function parseReplicas(value: string): number {
  const replicas = Number(value);
  if (!Number.isInteger(replicas) || replicas < 0 || replicas > 16) throw new CliError('KT_ERR_CLI_BAD_OPTION', `--replicas must be an integer from 0 to 16, got "${value}"`);
  return replicas;
}

function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 3600) throw new CliError('KT_ERR_CLI_BAD_OPTION', `--kibana-wait must be whole seconds from 0 to 3600, got "${value}"`);
  return seconds;
}

function parseLabelList(value: string): string[] {
  const labels = value.split(',').map((l) => l.trim()).filter((l) => l.length > 0);
  const bad = labels.find((l) => !/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(l));
  if (labels.length === 0 || bad !== undefined) throw new CliError('KT_ERR_CLI_BAD_OPTION', `--node-class-labels must be comma-separated label keys, got "${bad ?? value}"`);
  return labels;
}

/** `[NS/]POD/CONTAINER[:previous]=FILE` (the `--logs-of` value). */
function parseLogsOf(value: string): { path: string; namespace?: string; pod: string; container: string; previous: boolean } {
  const m = /^(?:([a-z0-9][-a-z0-9]*)\/)?([a-z0-9][-a-z0-9.]*)\/([a-z0-9][-a-z0-9]*)(:previous)?=(.+)$/.exec(value);
  if (!m) throw new CliError('KT_ERR_CLI_BAD_OPTION', `--logs-of must be [NAMESPACE/]POD/CONTAINER[:previous]=FILE (kubectl logs [--previous] --timestamps output), got "${value}"`);
  return { path: m[5] as string, pod: m[2] as string, container: m[3] as string, previous: m[4] !== undefined, ...(m[1] !== undefined ? { namespace: m[1] } : {}) };
}

function parsePipeTimeout(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new CliError('KT_ERR_CLI_BAD_OPTION', `--pipe-timeout must be a positive number of seconds, got "${value}"`);
  return seconds;
}

function parseWorkers(value: string): number | 'auto' {
  if (value === 'auto') return value;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new CliError('KT_ERR_CLI_BAD_OPTION', `--workers must be a whole number from 1 to 64 (or auto), got "${value}"`);
  return n;
}

function parseYear(value: string): number {
  const year = Number(value);
  if (!Number.isInteger(year) || year < 1970 || year > 9999) throw new CliError('KT_ERR_CLI_BAD_OPTION', `--year must be a four-digit year, got "${value}"`);
  return year;
}

async function analyze(dirs: string[], flags: AnalyzeFlags, io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream }): Promise<number> {
  const logsOf = (flags.logsOf ?? []).map(parseLogsOf);
  const explicit = [flags.events, flags.pods, flags.logs, flags.kubelet, flags.kernel, flags.logsOf].some((list) => list && list.length > 0);
  if (dirs.length === 0 && !explicit) {
    throw new CliError('KT_ERR_CLI_NO_INPUT', 'nothing to analyse: give a bundle directory (killtrace analyze DIR) or --events/--pods/--logs/--kubelet/--kernel files');
  }
  const all = [...dirs, ...(flags.events ?? []), ...(flags.pods ?? []), ...(flags.logs ?? []), ...(flags.kubelet ?? []), ...(flags.kernel ?? []), ...logsOf.map((l) => l.path)];
  const stdinUses = all.filter((path) => path === '-').length;
  if (stdinUses > 1) throw new CliError('KT_ERR_CLI_BAD_OPTION', 'standard input (-) can be given only once');
  if (stdinUses === 1 && process.stdin.isTTY === true) {
    throw new CliError('KT_ERR_CLI_BAD_OPTION', '- reads standard input, which is a terminal: pipe a file in (kubectl get events -A -o json | killtrace analyze --events -)');
  }
  for (const path of all) {
    if (path === '-') continue;
    await stat(path).catch((error: NodeJS.ErrnoException) => {
      throw new CliError('KT_ERR_CLI_INPUT_NOT_FOUND', `cannot read ${path}: ${error.code === 'ENOENT' ? 'no such file or directory' : error.message}`);
    });
  }
  // Read the rules before the bundle: a bad rules file should not cost a long analysis.
  const alertRules = flags.alerts === undefined ? undefined : await loadAlertRules(flags.alerts);
  const profiles: StepProfile[] = [];
  for (const file of flags.profile ?? []) profiles.push(...(await loadProfileFile(file)));

  const meter = new ProgressMeter(io.stderr);
  const result = await runAnalysis({
    paths: dirs,
    events: flags.events,
    pods: flags.pods,
    logs: flags.logs,
    kubelet: flags.kubelet,
    kernel: flags.kernel,
    kubectlLogs: logsOf,
    profiles,
    clusterName: flags.clusterName,
    referenceYear: flags.year,
    nodeClassLabels: flags.nodeClassLabels,
    learnSteps: flags.learn,
    builtinProfiles: flags.builtinProfiles,
    pipeIdleTimeoutMs: flags.pipeTimeout * 1000,
    workers: flags.workers,
    onProgress: (progress) => meter.update(progress),
  });
  meter.done();

  const color = flags.color && io.stdout.isTTY === true && !process.env.NO_COLOR;
  const summary = renderReadSummary(result, color && io.stderr.isTTY === true);
  const alerts = alertRules === undefined ? undefined : alertDryRun(alertRules, result.records);
  const alertsText = alerts === undefined || flags.alerts === undefined ? '' : renderAlertDryRun(alerts, flags.alerts);
  switch (flags.output) {
    case 'ndjson':
      // stdout stays exactly the records of the contract; the dry run goes with the summary.
      for (const record of result.records) io.stdout.write(`${JSON.stringify(record)}\n`);
      io.stderr.write(`${alertsText}${summary}\n`);
      break;
    case 'json':
      io.stdout.write(
        `${JSON.stringify({ records: result.records, summary: result.stats, unexplained: result.gaps, kernelOomsUnmatched: result.kernelOoms.unmatched, notes: result.bundle.notes, diagnostics: result.diagnostics, ...(alerts === undefined ? {} : { alerts }) }, null, 2)}\n`,
      );
      io.stderr.write(`${summary}\n`);
      break;
    default:
      io.stdout.write(renderRecordsText(result.records, { color, width: Math.min(110, io.stdout.columns ?? 100) }));
      io.stdout.write(`\n${renderRecommendations(result.records, { color })}\n${renderCauseSummary(result.records, { color })}\n${renderReadSummary(result, color)}\n`);
      if (alertsText !== '') io.stdout.write(`\n${alertsText}`);
  }
  const unreadable = noReadableInput(result);
  if (unreadable !== undefined) {
    io.stderr.write(`killtrace: ${unreadable} [KT_ERR_CLI_NO_INPUT]\n`);
    return EXIT_USAGE;
  }
  return EXIT_OK;
}
