import { stat } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { readBundle } from '@killtrace/bundle';
import { Correlator, initAllowance, lintWorkload, UNLABELLED_CLASS, type LintFinding, type WorkloadProbes } from '@killtrace/correlation';
import { mergeProfiles } from '@killtrace/profiles';
import type { StepProfile } from '@killtrace/schemas';
import { CliError, EXIT_OK } from './errors.js';
import { loadProfileFile } from './profile-loader.js';
import { readIfWorkloadManifest, readStdinManifests } from './workload-manifests.js';

/** `killtrace lint` found something to fix (warnings or errors; info findings alone exit 0). */
export const EXIT_FINDINGS = 3;

interface LintFlags {
  output: 'text' | 'json';
  margin: number;
  nodeClassLabels?: string[];
  profile?: string[];
  builtinProfiles: boolean;
}

function parseMargin(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n >= 1) throw new CliError('KT_ERR_CLI_BAD_OPTION', `--margin must be a fraction from 0 to below 1, got "${value}"`);
  return n;
}

function parseLabels(value: string): string[] {
  const labels = value.split(',').map((l) => l.trim()).filter((l) => l.length > 0);
  if (labels.length === 0) throw new CliError('KT_ERR_CLI_BAD_OPTION', `--node-class-labels must be comma-separated label keys, got "${value}"`);
  return labels;
}

/** The text report: one block per workload container, findings by severity. */
export function renderLintText(findings: readonly LintFinding[], checked: number): string {
  if (findings.length === 0) return `killtrace lint: ${checked} workload container(s) with probes checked, nothing to report.\n`;
  const lines: string[] = [];
  const groups = new Map<string, LintFinding[]>();
  for (const f of findings) {
    const key = `${f.namespace} · ${f.workload} · ${f.container}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  for (const [key, list] of groups) {
    lines.push(key);
    for (const f of list) lines.push(`  ${f.severity.padEnd(7)} ${f.rule}: ${f.message}`);
    lines.push('');
  }
  const count = (s: LintFinding['severity']): number => findings.filter((f) => f.severity === s).length;
  lines.push(`killtrace lint: ${checked} workload container(s) with probes checked: ${count('error')} error(s), ${count('warning')} warning(s), ${count('info')} note(s).`);
  return `${lines.join('\n')}\n`;
}

/** `killtrace lint BUNDLE...`: probe findings before the first kill. */
export function lintCommand(io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream }, setExitCode: (code: number) => void): Command {
  return new Command('lint')
    .description('Check the probes of every workload in a bundle against the init durations seen per node class, and the static rules; workload manifests (helm template, kustomize build output) get the static rules (exit 0 clean, 3 findings).')
    .argument('<input...>', 'bundle directories or files, recognised by content as for analyze, or workload manifests (YAML/JSON, - for standard input)')
    .addOption(new Option('-o, --output <format>', 'report format').choices(['text', 'json']).default('text'))
    .option('--margin <fraction>', 'warn when the p90 init leaves less than this fraction of what the probes allow', parseMargin, 0.5)
    .option('--node-class-labels <labels>', 'comma-separated node labels whose values make a node class', parseLabels)
    .option('--profile <file...>', 'step profile file(s), YAML or JSON, as for analyze (their ready lines give init durations)')
    .option('--no-builtin-profiles', 'ignore the built-in step profiles: init durations come from learning alone')
    .action(async (bundle: string[], flags: LintFlags) => {
      const user: StepProfile[] = [];
      for (const file of flags.profile ?? []) user.push(...(await loadProfileFile(file)));
      const bundlePaths: string[] = [];
      const fromManifests: WorkloadProbes[] = [];
      for (const path of bundle) {
        if (path === '-') {
          fromManifests.push(...(await readStdinManifests()));
          continue;
        }
        const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
          throw new CliError('KT_ERR_CLI_INPUT_NOT_FOUND', `cannot read ${path}: ${error.code === 'ENOENT' ? 'no such file or directory' : error.message}`);
        });
        const manifest = info.isFile() ? await readIfWorkloadManifest(path) : undefined;
        if (manifest === undefined) bundlePaths.push(path);
        else fromManifests.push(...manifest);
      }
      const correlator = new Correlator({ clusterName: 'default', profiles: flags.builtinProfiles ? mergeProfiles(user) : user, nodeClassLabels: flags.nodeClassLabels });
      if (bundlePaths.length > 0) {
        const read = await readBundle({ paths: bundlePaths, onSignal: (signal) => correlator.ingest(signal) });
        const files = read.stats.files;
        if (files.kubernetes + files.kubelet + files.containerLogs === 0) {
          throw new CliError('KT_ERR_CLI_NO_INPUT', `no readable Kubernetes, kubelet or container log file in ${bundlePaths.join(', ')}`);
        }
      }
      const workloads = [...correlator.workloadProbes(), ...fromManifests];
      // Kills that already happened, per workload container and node class (the key of workload.ts workloadKey).
      const kills = new Map<string, Map<string, number>>();
      for (const r of correlator.records()) {
        if (!r.killtrace.probe_induced || !r.killtrace.during_init) continue;
        const k = r.kubernetes;
        const owner = k.daemonset?.name ?? k.statefulset?.name ?? k.deployment?.name ?? k.replicaset?.name ?? k.job?.name ?? `pod/${k.pod.name}`;
        const key = `${k.namespace}/${owner}/${k.container.name}`;
        const byClass = kills.get(key) ?? new Map<string, number>();
        const c = r.killtrace.init.node_class ?? UNLABELLED_CLASS;
        byClass.set(c, (byClass.get(c) ?? 0) + 1);
        kills.set(key, byClass);
      }
      for (const w of workloads) w.killsInInitByClass = kills.get(w.workload);
      const findings = workloads.flatMap((w) => lintWorkload(w, { marginFraction: flags.margin }));
      if (flags.output === 'json') {
        const report = {
          checked: workloads.map((w) => ({
            namespace: w.namespace,
            workload: w.owner,
            container: w.container,
            allowance_seconds: initAllowance(w.spec) ?? null,
            init_seconds_by_class: Object.fromEntries([...w.initByClass].map(([c, s]) => [c, s.map((x) => Math.round(x * 1000) / 1000)])),
          })),
          findings: findings.map((f) => ({
            rule: f.rule,
            severity: f.severity,
            namespace: f.namespace,
            workload: f.workload,
            container: f.container,
            node_class: f.nodeClass,
            allowance_seconds: f.allowanceSeconds,
            p90_init_seconds: f.p90InitSeconds,
            margin_seconds: f.marginSeconds,
            message: f.message,
          })),
        };
        io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        io.stdout.write(renderLintText(findings, workloads.length));
        if (workloads.length === 0) io.stderr.write('killtrace lint: no pod or workload with a liveness or startup probe in the input (is pods.json in the bundle?)\n');
      }
      setExitCode(findings.some((f) => f.severity !== 'info') ? EXIT_FINDINGS : EXIT_OK);
    });
}
