import { readFile } from 'node:fs/promises';
import { profileFileSchema, type StepProfile } from '@killtrace/schemas';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { CliError } from './errors.js';
import { findUnsafePatterns } from './regex-safety.js';

/** Reads a step-profile file (YAML or JSON, CONTRACT.md section 3), validating every profile. */
export async function loadProfileFile(path: string): Promise<StepProfile[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError('KT_ERR_CLI_PROFILE_UNREADABLE', `cannot read profile file ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    // YAML is a superset of JSON, so one parser serves both.
    value = parseYaml(text);
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? `:${error.linePos[0].line}` : '';
    throw new CliError('KT_ERR_CLI_PROFILE_INVALID', `profile file ${path}${where} is not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  const parsed = profileFileSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `  - ${issue.path.join('.') || '(root)'}: ${issue.message}`).join('\n');
    throw new CliError('KT_ERR_CLI_PROFILE_INVALID', `profile file ${path} is not a valid step profile file:\n${issues}`);
  }
  const names = new Set<string>();
  for (const profile of parsed.data.profiles) {
    if (names.has(profile.name)) throw new CliError('KT_ERR_CLI_PROFILE_INVALID', `profile file ${path}: profile name "${profile.name}" is used twice`);
    names.add(profile.name);
  }
  const unsafe = findUnsafePatterns(parsed.data.profiles);
  if (unsafe.length > 0) {
    const lines = unsafe.map((u) => `  - profile "${u.profile}", ${u.where}: /${u.pattern}/ can take ${u.complexity} time${u.attack ? ` (for example on ${u.attack})` : ''}`).join('\n');
    throw new CliError(
      'KT_ERR_CLI_PROFILE_UNSAFE_REGEX',
      `profile file ${path} has patterns that could hang the analysis on one log line:\n${lines}\n  Rewrite them without nested or overlapping repetition (e.g. (a+)+ -> a+, (\\w+\\s?)+ -> [\\w\\s]+).`,
    );
  }
  return parsed.data.profiles;
}
