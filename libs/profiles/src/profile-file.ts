import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { profileFileSchema, type StepProfile } from '@killtrace/schemas';
import { LineCounter, parseDocument } from 'yaml';
import { ProfileError } from './profile-error.js';
import { findUnsafePatterns } from './regex-safety.js';

/**
 * Parses and validates the text of a step-profile file (YAML or JSON; YAML is a superset of JSON, so one parser
 * serves both). Every problem names `file`, the line and the key; a profile name used twice in one file is refused.
 * `checkPatterns: false` skips the catastrophic-backtracking check, for the built-in files only: their patterns are
 * checked by libs/profiles/src/profiles.test.ts, and the checker costs half a second and ~50 MB on every run.
 */
export function parseProfileFile(text: string, file: string, options: { checkPatterns?: boolean } = {}): StepProfile[] {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const [syntax] = document.errors;
  if (syntax !== undefined) {
    const line = lines.linePos(syntax.pos[0]).line;
    throw new ProfileError(
      'KT_ERR_PROFILE_INVALID',
      `profile file ${file}${line === undefined ? '' : `:${line}`} is not valid YAML or JSON: ${syntax.message.split('\n')[0]}`,
      file,
      line,
    );
  }
  const lineOf = (path: ReadonlyArray<PropertyKey>): number | undefined => {
    // The deepest node that exists on the path: a missing key is reported at its parent.
    for (let depth = path.length; depth >= 0; depth -= 1) {
      const node: unknown = document.getIn(path.slice(0, depth).map((k) => (typeof k === 'symbol' ? String(k) : k)), true);
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (range !== undefined) return lines.linePos(range[0]).line;
    }
    return undefined;
  };
  const parsed = profileFileSchema.safeParse(document.toJS());
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => {
      const key = issue.path.map(String).join('.') || '(root)';
      const line = lineOf(issue.path);
      return { key, line, text: `  - ${file}${line === undefined ? '' : `:${line}`} ${key}: ${issue.message}` };
    });
    const first = issues[0];
    throw new ProfileError('KT_ERR_PROFILE_INVALID', `profile file ${file} is not a valid step profile file:\n${issues.map((i) => i.text).join('\n')}`, file, first?.line, first?.key);
  }
  const names = new Map<string, number>();
  parsed.data.profiles.forEach((profile, index) => {
    const earlier = names.get(profile.name);
    if (earlier !== undefined) {
      const key = `profiles.${index}.name`;
      const line = lineOf(['profiles', index, 'name']);
      throw new ProfileError(
        'KT_ERR_PROFILE_INVALID',
        `profile file ${file}${line === undefined ? '' : `:${line}`} ${key}: profile name "${profile.name}" is used twice (also profiles.${earlier}.name)`,
        file,
        line,
        key,
      );
    }
    names.set(profile.name, index);
  });
  const unsafe = options.checkPatterns === false ? [] : findUnsafePatterns(parsed.data.profiles);
  if (unsafe.length > 0) {
    const lines = unsafe.map((u) => `  - profile "${u.profile}", ${u.where}: /${u.pattern}/ can take ${u.complexity} time${u.attack ? ` (for example on ${u.attack})` : ''}`).join('\n');
    throw new ProfileError(
      'KT_ERR_PROFILE_UNSAFE_REGEX',
      `profile file ${file} has patterns that could hang the analysis on one log line:\n${lines}\n  Rewrite them without nested or overlapping repetition (e.g. (a+)+ -> a+, (\\w+\\s?)+ -> [\\w\\s]+).`,
      file,
    );
  }
  return parsed.data.profiles;
}

function unreadable(file: string, error: unknown): ProfileError {
  const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
  return new ProfileError('KT_ERR_PROFILE_UNREADABLE', `cannot read profile file ${file}: ${reason}`, file);
}

/** Reads and validates one step-profile file (README "Step profiles"). */
export async function loadProfileFile(file: string): Promise<StepProfile[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw unreadable(file, error);
  }
  return parseProfileFile(text, file);
}

/** The synchronous twin of `loadProfileFile`, for the built-in files read once at start. */
export function loadProfileFileSync(file: string, options: { checkPatterns?: boolean } = {}): StepProfile[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw unreadable(file, error);
  }
  return parseProfileFile(text, file, options);
}
