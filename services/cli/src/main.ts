import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Command, CommanderError, Option } from 'commander';
import { renderCauseSummary, renderRecommendations, renderRecordsText } from '@killtrace/render';
import type { StepProfile } from '@killtrace/schemas';
import { alertDryRun, loadAlertRules, renderAlertDryRun } from './alerts-dry-run.js';
import { CliError, EXIT_OK, EXIT_USAGE } from './errors.js';
import { ProgressMeter } from './progress-meter.js';
import { loadProfileFile } from './profile-loader.js';
import { renderReadSummary } from './read-summary.js';
import { runAnalysis } from './run-analysis.js';

interface AnalyzeFlags {
  events?: string[];
  pods?: string[];
  logs?: string[];
  kubelet?: string[];
  profile?: string[];
  output: 'text' | 'json' | 'ndjson';
  clusterName: string;
  year?: number;
  color: boolean;
  alerts?: string;
}

/** Runs the `killtrace` command line and returns the exit code. */
export async function main(argv: readonly string[], io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream } = process): Promise<number> {
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
    .argument('[dir...]', 'bundle directories or files, each file recognised by its content')
    .option('--events <file...>', 'kubectl get events -A -o json (List, events.k8s.io/v1 or --watch stream)')
    .option('--pods <file...>', 'kubectl get pods -A -o json (List or a single Pod)')
    .option('--logs <dir...>', 'container logs in the kubelet layout <ns>_<pod>_<uid>/<container>/<N>.log')
    .option('--kubelet <file...>', 'journalctl -u kubelet output (short, short-iso, short-precise, cat or json)')
    .option('--profile <file...>', 'step profile file(s), YAML or JSON; they override built-in profiles by name')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json', 'ndjson']).default('text'))
    .option('--cluster-name <name>', 'orchestrator.cluster.name of the records', 'default')
    .option('--year <year>', 'year of year-less kubelet journal timestamps (default: from pods and events)', parseYear)
    .option('--no-color', 'never colour the text output')
    .option('--alerts <rules>', 'dry run of alert rules (the alerter\'s rules file; an empty file means the built-in rules): which alerts would have fired, and when')
    .action(async (dirs: string[], flags: AnalyzeFlags) => {
      exitCode = await analyze(dirs, flags, io);
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
    throw error;
  }
}

/** The version of this package (dist/ and src/ both sit one level below package.json). */
function packageVersion(): string {
  const raw: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return typeof raw === 'object' && raw !== null && 'version' in raw && typeof raw.version === 'string' ? raw.version : 'unknown';
}

function parseYear(value: string): number {
  const year = Number(value);
  if (!Number.isInteger(year) || year < 1970 || year > 9999) throw new CliError('KT_ERR_CLI_BAD_OPTION', `--year must be a four-digit year, got "${value}"`);
  return year;
}

async function analyze(dirs: string[], flags: AnalyzeFlags, io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream }): Promise<number> {
  const explicit = [flags.events, flags.pods, flags.logs, flags.kubelet].some((list) => list && list.length > 0);
  if (dirs.length === 0 && !explicit) {
    throw new CliError('KT_ERR_CLI_NO_INPUT', 'nothing to analyse: give a bundle directory (killtrace analyze DIR) or --events/--pods/--logs/--kubelet files');
  }
  for (const path of [...dirs, ...(flags.events ?? []), ...(flags.pods ?? []), ...(flags.logs ?? []), ...(flags.kubelet ?? [])]) {
    await stat(path).catch((error: NodeJS.ErrnoException) => {
      throw new CliError('KT_ERR_CLI_INPUT_NOT_FOUND', `cannot read ${path}: ${error.code === 'ENOENT' ? 'no such file or directory' : error.message}`);
    });
  }
  // Read the rules before the bundle: a bad rules file should not cost a long analysis.
  const alertRules = flags.alerts === undefined ? undefined : await loadAlertRules(flags.alerts);
  const profiles: StepProfile[] = [];
  for (const file of flags.profile ?? []) profiles.push(...(await loadProfileFile(file)));

  const meter = new ProgressMeter(io.stderr);
  const [dir, ...moreDirs] = dirs;
  const result = await runAnalysis({
    dir,
    events: flags.events,
    pods: flags.pods,
    logs: [...(flags.logs ?? []), ...moreDirs],
    kubelet: flags.kubelet,
    profiles,
    clusterName: flags.clusterName,
    referenceYear: flags.year,
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
        `${JSON.stringify({ records: result.records, summary: result.stats, unexplained: result.gaps, diagnostics: result.diagnostics, ...(alerts === undefined ? {} : { alerts }) }, null, 2)}\n`,
      );
      io.stderr.write(`${summary}\n`);
      break;
    default:
      io.stdout.write(renderRecordsText(result.records, { color, width: Math.min(110, io.stdout.columns ?? 100) }));
      io.stdout.write(`\n${renderRecommendations(result.records, { color })}\n${renderCauseSummary(result.records, { color })}\n${renderReadSummary(result, color)}\n`);
      if (alertsText !== '') io.stdout.write(`\n${alertsText}`);
  }
  const used = result.stats.files;
  if (used === 0) {
    io.stderr.write('killtrace: no readable Kubernetes, kubelet or container log file in the input [KT_ERR_CLI_NO_INPUT]\n');
    return EXIT_USAGE;
  }
  return EXIT_OK;
}
