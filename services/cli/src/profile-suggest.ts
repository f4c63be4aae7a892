import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { Correlator, displayName, WILDCARD, type LearnedModel } from '@killtrace/correlation';
import { readBundle } from '@killtrace/bundle';
import { profileFileSchema, type StepProfile } from '@killtrace/schemas';
import { stringify } from 'yaml';
import { CliError, EXIT_OK } from './errors.js';

/**
 * `killtrace profile suggest BUNDLE --workload W`: turns the init sequence learned from a bundle's logs
 * (libs/correlation/src/learned-steps.ts) into a step profile in the format `--profile` reads, for a person to
 * review and commit. A profile is better than learning once written: it names steps, survives log changes the
 * user controls, and works from the first incarnation on.
 */

const escape = (token: string): string => token.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A regular expression matching the lines of one template: `<*>` stands for one whitespace-free token. */
export function templateRegex(template: string): string {
  return displayName(template)
    .split(' ')
    .map((token) => (token === WILDCARD ? '\\S+' : escape(token)))
    .join('\\s+');
}

function slug(name: string, used: Set<string>): string {
  const words = name
    .split(' ')
    .filter((w) => w !== WILDCARD)
    .map((w) => w.toLowerCase().replace(/[^a-z0-9]+/g, ''))
    .filter((w) => w.length > 0)
    .slice(0, 4);
  const base = words.join('-') || 'step';
  let candidate = base;
  for (let i = 2; used.has(candidate); i += 1) candidate = `${base}-${i}`;
  used.add(candidate);
  return candidate;
}

/** The step profile for one workload container (`namespace/owner/container`) from its learned sequence. */
export function suggestProfile(workload: string, model: LearnedModel): StepProfile {
  const [namespace = '', owner = '', container = ''] = workload.split('/').length === 4 ? ((): string[] => {
    const [ns, kind, name, c] = workload.split('/');
    return [ns ?? '', `${kind}/${name}`, c ?? ''];
  })() : workload.split('/');
  const pod = owner.startsWith('pod/') ? `^${escape(owner.slice(4))}$` : `^${escape(owner)}-`;
  const used = new Set<string>();
  const steps: StepProfile['steps'] = [];
  for (const step of model.steps) {
    const first = step.templates[0];
    const template = first === undefined ? undefined : model.templates[first];
    if (template === undefined) continue;
    const start = templateRegex(template);
    const example = step.examples[0];
    // A start pattern must match the line it came from; a template made only of wildcards would match anything.
    if (!/[A-Za-z]/.test(start) || (example !== undefined && !new RegExp(start).test(example))) continue;
    steps.push({ name: slug(step.name, used), start });
  }
  const name = `${namespace}-${owner.replace(/^pod\//, '')}-${container}`.replace(/[^A-Za-z0-9-]+/g, '-');
  const ready = readyPattern(model);
  return { name, match: { namespace: `^${escape(namespace)}$`, pod, container: `^${escape(container)}$` }, steps, ...(ready !== undefined ? { ready } : {}) };
}

/**
 * Learned from incarnations that reached ready, the sequence's last template is the line that ends init (its first
 * sight is the learned init duration): the profile's `ready`, so the profile measures init as learning did.
 */
function readyPattern(model: LearnedModel): string | undefined {
  if (model.source !== 'ready') return undefined;
  const step = model.steps[model.steps.length - 1];
  const last = step?.templates[step.templates.length - 1];
  const template = last === undefined ? undefined : model.templates[last];
  if (!step || template === undefined) return undefined;
  const pattern = templateRegex(template);
  const example = step.examples[step.examples.length - 1];
  return /[A-Za-z]/.test(pattern) && (example === undefined || new RegExp(pattern).test(example)) ? pattern : undefined;
}

/** The YAML file `--profile` reads, with a comment on where it came from. */
export function renderProfileFile(entries: Array<{ workload: string; model: LearnedModel; profile: StepProfile }>): string {
  const file = profileFileSchema.parse({ profiles: entries.map((e) => e.profile) });
  const header = [
    '# Step profile(s) suggested by `killtrace profile suggest` from the logs of this bundle. Review before committing:',
    '# rename the steps, tighten the patterns, and check `ready:` (the line that ends init; add one if it is missing).',
    ...entries.map((e) => `# ${e.workload}: learned from ${e.model.samples} incarnation(s) ${e.model.source === 'ready' ? 'that reached ready' : 'that never reached ready (how far they got)'}; steps ${e.model.steps.map((s) => `"${s.name}"`).join(', ')}`),
  ];
  return `${header.join('\n')}\n${stringify(file)}`;
}

interface SuggestFlags {
  workload: string;
  output?: string;
}

/** The workloads of `models` that `selector` names: `namespace/owner/container`, `namespace/owner`, or `owner`. */
export function selectWorkloads(models: Map<string, LearnedModel>, selector: string): string[] {
  const keys = [...models.keys()].sort();
  const exact = keys.filter((k) => k === selector);
  if (exact.length > 0) return exact;
  return keys.filter((k) => k.startsWith(`${selector}/`) || k.split('/').slice(1, -1).join('/') === selector || k.split('/').slice(-2, -1)[0] === selector);
}

/** `killtrace profile suggest`. */
export function profileCommand(io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream }, setExitCode: (code: number) => void): Command {
  const profile = new Command('profile').description('Step profiles: suggest one from what a bundle\'s logs show.');
  profile
    .command('suggest')
    .description('Write a step profile (the --profile YAML format) from the init steps learned from a bundle\'s logs, for review.')
    .argument('<bundle...>', 'bundle directories or files, recognised by content as for analyze')
    .requiredOption('--workload <workload>', 'namespace/owner/container, namespace/owner, or the owner\'s name (DaemonSet, Deployment, StatefulSet, Job)')
    .option('-o, --output <file>', 'write the YAML here instead of stdout')
    .action(async (bundle: string[], flags: SuggestFlags) => {
      const correlator = new Correlator({ clusterName: 'default', profiles: [] });
      await readBundle({ paths: bundle, onSignal: (signal) => correlator.ingest(signal) });
      const models = correlator.learnedModels();
      const chosen = selectWorkloads(models, flags.workload);
      if (chosen.length === 0) {
        const known = [...models.keys()].sort();
        throw new CliError(
          'KT_ERR_CLI_BAD_OPTION',
          `no learned init sequence for workload "${flags.workload}"${known.length > 0 ? `; learned: ${known.join(', ')}` : ': no container log in the bundle shows one'}`,
        );
      }
      const entries = chosen.map((workload) => {
        const model = models.get(workload) as LearnedModel;
        return { workload, model, profile: suggestProfile(workload, model) };
      });
      const yaml = renderProfileFile(entries);
      if (flags.output) {
        await writeFile(flags.output, yaml);
        io.stderr.write(`killtrace: wrote ${entries.length} suggested profile(s) to ${flags.output}\n`);
      } else io.stdout.write(yaml);
      setExitCode(EXIT_OK);
    });
  return profile;
}
