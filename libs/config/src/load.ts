import { accessSync, constants, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from './errors.js';
import { configSchema, crossFieldIssues, type Config } from './schema.js';
import { listSettings, type SettingInfo } from './settings.js';

/** Environment variable naming the optional YAML or JSON configuration file. */
export const CONFIG_FILE_ENV = 'KILLTRACE_CONFIG_FILE';

type Tree = Record<string, unknown>;

/** A partial configuration tree, as in the file (nested keys, e.g. `{ kafka: { brokers: [...] } }`). */
export type ConfigOverrides = Tree;

export interface LoadConfigOptions {
  /** Defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Configuration file path; defaults to `$KILLTRACE_CONFIG_FILE`. */
  file?: string;
  /** Applied last, over the environment (e.g. command-line flags). */
  overrides?: ConfigOverrides;
}

const isTree = (value: unknown): value is Tree => typeof value === 'object' && value !== null && !Array.isArray(value);

function setPath(tree: Tree, path: readonly string[], value: unknown): void {
  let node = tree;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    if (!isTree(next)) node[part] = {};
    node = node[part] as Tree;
  }
  node[path[path.length - 1] as string] = value;
}

function merge(base: Tree, top: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(top)) {
    const existing = out[key];
    out[key] = isTree(existing) && isTree(value) ? merge(existing, value) : value;
  }
  return out;
}

function readFileTree(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(
      'KT_ERR_CONFIG_FILE_UNREADABLE',
      `KT_ERR_CONFIG_FILE_UNREADABLE: cannot read configuration file ${file} (from ${CONFIG_FILE_ENV} or --config): ${(cause as Error).message}`,
      [],
      { cause },
    );
  }
  let parsed: unknown;
  try {
    // YAML 1.2 is a superset of JSON, so one parser reads both.
    parsed = parseYaml(text);
  } catch (cause) {
    throw new ConfigError('KT_ERR_CONFIG_FILE_MALFORMED', `KT_ERR_CONFIG_FILE_MALFORMED: ${file} is not valid YAML or JSON: ${(cause as Error).message}`, [], {
      cause,
    });
  }
  if (parsed == null) return {};
  if (!isTree(parsed)) {
    throw new ConfigError('KT_ERR_CONFIG_FILE_MALFORMED', `KT_ERR_CONFIG_FILE_MALFORMED: ${file} must contain a mapping of settings, not ${Array.isArray(parsed) ? 'a list' : typeof parsed}`);
  }
  return parsed;
}

/** Turns an environment variable's text into the setting's type, or explains why it cannot. */
function coerceEnv(setting: SettingInfo, raw: string): { value: unknown } | { problem: string } {
  const shown = setting.secret === true ? '(secret value hidden)' : JSON.stringify(raw);
  switch (setting.kind) {
    case 'integer':
      return /^-?\d+$/.test(raw.trim()) ? { value: Number(raw.trim()) } : { problem: `expected an integer, got ${shown}` };
    case 'number': {
      const n = Number(raw.trim());
      return raw.trim() !== '' && Number.isFinite(n) ? { value: n } : { problem: `expected a number, got ${shown}` };
    }
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return { value: true };
      if (['false', '0', 'no', 'off'].includes(v)) return { value: false };
      return { problem: `expected true or false, got ${shown}` };
    }
    case 'list':
      return { value: raw.split(',').map((s) => s.trim()).filter((s) => s !== '') };
    default:
      return { value: raw.trim() };
  }
}

function settingFor(path: readonly PropertyKey[]): SettingInfo | undefined {
  const key = path.map(String).join('.');
  return listSettings().find((s) => key === s.key || key.startsWith(`${s.key}.`));
}

function describeIssue(issue: z.core.$ZodIssue, sources: Map<string, string>, file: string | undefined): ConfigProblem[] {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => ({
      key: [...path, k].join('.'),
      message: 'unknown setting (check the spelling against the configuration reference)',
      source: file === undefined ? 'override' : `file ${file}`,
    }));
  }
  const setting = settingFor(path);
  const key = path.join('.') || '(root)';
  const source = setting === undefined ? undefined : sources.get(setting.key);
  if (setting !== undefined && source === undefined && issue.code === 'invalid_type') {
    return [{ key, message: `required: set ${setting.env} or \`${setting.key}\` in the configuration file` }];
  }
  let message = issue.message.replace(/^Invalid input: /, '');
  if (setting?.kind === 'enum' && issue.code === 'invalid_value') message = `expected one of ${setting.options?.join(', ')}`;
  return [{ key, message, ...(source === undefined ? {} : { source }) }];
}

function checkReadableFiles(config: Config, sources: Map<string, string>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const files: [string, string | undefined][] = [
    ['kafka.tls.caFile', config.kafka.tls.caFile],
    ['elasticsearch.caFile', config.elasticsearch.caFile],
  ];
  for (const [key, file] of files) {
    if (file === undefined) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch (cause) {
      const source = sources.get(key);
      problems.push({ key, message: `file ${file} is not readable (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, ...(source === undefined ? {} : { source }) });
    }
  }
  return problems;
}

/**
 * Loads the configuration: defaults, then the file (`KILLTRACE_CONFIG_FILE`), then environment variables, then
 * `overrides`. Throws one `ConfigError` naming every bad or missing setting.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? (env[CONFIG_FILE_ENV] || undefined);
  const sources = new Map<string, string>();
  const problems: ConfigProblem[] = [];

  let tree: Tree = {};
  if (file !== undefined) {
    tree = readFileTree(file);
    for (const setting of listSettings()) {
      let node: unknown = tree;
      for (const part of setting.path) node = isTree(node) ? node[part] : undefined;
      if (node !== undefined) sources.set(setting.key, `file ${file}`);
    }
  }

  const fromEnv: Tree = {};
  for (const setting of listSettings()) {
    const raw = env[setting.env];
    if (raw === undefined || raw.trim() === '') continue;
    const coerced = coerceEnv(setting, raw);
    if ('problem' in coerced) {
      problems.push({ key: setting.key, message: coerced.problem, source: `env ${setting.env}` });
      continue;
    }
    setPath(fromEnv, setting.path, coerced.value);
    sources.set(setting.key, `env ${setting.env}`);
  }
  tree = merge(tree, fromEnv);

  if (options.overrides !== undefined) {
    tree = merge(tree, options.overrides);
    for (const setting of listSettings()) {
      let node: unknown = options.overrides;
      for (const part of setting.path) node = isTree(node) ? node[part] : undefined;
      if (node !== undefined) sources.set(setting.key, 'override');
    }
  }

  const result = configSchema.safeParse(tree);
  if (!result.success) {
    const reported = new Set(problems.map((p) => p.key));
    for (const issue of result.error.issues) {
      for (const problem of describeIssue(issue, sources, file)) {
        if (!reported.has(problem.key)) problems.push(problem);
        reported.add(problem.key);
      }
    }
    for (const issue of crossFieldIssues(tree)) {
      const key = issue.path.join('.');
      if (!reported.has(key)) problems.push({ key, message: issue.message });
      reported.add(key);
    }
    throw ConfigError.invalid(problems);
  }
  problems.push(...checkReadableFiles(result.data, sources));
  if (problems.length > 0) throw ConfigError.invalid(problems);
  return result.data;
}
