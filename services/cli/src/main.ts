import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Command, CommanderError, Option } from 'commander';
import { renderCauseSummary, renderRecommendations, renderRecordsText } from '@killtrace/render';
import type { StepProfile } from '@killtrace/schemas';
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
  kernel?: string[];
  logsOf?: string[];
  profile?: string[];
  output: 'text' | 'json' | 'ndjson';
  clusterName: string;
  year?: number;
  pipeTimeout: number;
  color: boolean;
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
    pipeIdleTimeoutMs: flags.pipeTimeout * 1000,
    onProgress: (progress) => meter.update(progress),
  });
  meter.done();

  const color = flags.color && io.stdout.isTTY === true && !process.env.NO_COLOR;
  const summary = renderReadSummary(result, color && io.stderr.isTTY === true);
  switch (flags.output) {
    case 'ndjson':
      for (const record of result.records) io.stdout.write(`${JSON.stringify(record)}\n`);
      io.stderr.write(`${summary}\n`);
      break;
    case 'json':
      io.stdout.write(
        `${JSON.stringify({ records: result.records, summary: result.stats, unexplained: result.gaps, kernelOomsUnmatched: result.kernelOoms.unmatched, notes: result.bundle.notes, diagnostics: result.diagnostics }, null, 2)}\n`,
      );
      io.stderr.write(`${summary}\n`);
      break;
    default:
      io.stdout.write(renderRecordsText(result.records, { color, width: Math.min(110, io.stdout.columns ?? 100) }));
      io.stdout.write(`\n${renderRecommendations(result.records, { color })}\n${renderCauseSummary(result.records, { color })}\n${renderReadSummary(result, color)}\n`);
  }
  const used = result.stats.files;
  if (used === 0) {
    io.stderr.write('killtrace: no readable Kubernetes, kubelet or container log file in the input [KT_ERR_CLI_NO_INPUT]\n');
    return EXIT_USAGE;
  }
  return EXIT_OK;
}
