import { KilltraceError } from '@killtrace/errors';

/** Codes of every configuration failure; stable, so operators and tests can match on them. */
export const configErrorCodes = {
  /** One or more settings are missing or invalid; `problems` names each. */
  KT_ERR_CONFIG_INVALID: 'invalid configuration',
  /** KILLTRACE_CONFIG_FILE could not be read. */
  KT_ERR_CONFIG_FILE_UNREADABLE: 'configuration file unreadable',
  /** KILLTRACE_CONFIG_FILE is not valid YAML/JSON or not a mapping. */
  KT_ERR_CONFIG_FILE_MALFORMED: 'configuration file malformed',
  /** README's configuration reference markers are missing (docs tooling). */
  KT_ERR_CONFIG_REFERENCE_MARKERS: 'configuration reference markers missing',
} as const;
export type ConfigErrorCode = keyof typeof configErrorCodes;

/** One bad setting: its dotted key, where its value came from, and what was expected. */
export interface ConfigProblem {
  key: string;
  message: string;
  /** e.g. `env KAFKA_BROKERS`, `file /etc/killtrace.yaml`, `override`; absent for a missing value. */
  source?: string;
}

/** The only error the configuration library throws. */
export class ConfigError extends KilltraceError<ConfigErrorCode> {
  override readonly name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];

  constructor(code: ConfigErrorCode, message: string, problems: readonly ConfigProblem[] = [], options?: { cause?: unknown }) {
    super(code, message, { cause: options?.cause, context: problems.length > 0 ? { problems } : {} });
    this.problems = problems;
  }

  /** Builds the KT_ERR_CONFIG_INVALID error whose message lists every problem, one per line. */
  static invalid(problems: readonly ConfigProblem[]): ConfigError {
    const lines = problems.map((p) => `  - ${p.key}${p.source === undefined ? '' : ` (from ${p.source})`}: ${p.message}`);
    const noun = problems.length === 1 ? 'problem' : 'problems';
    return new ConfigError(
      'KT_ERR_CONFIG_INVALID',
      `KT_ERR_CONFIG_INVALID: invalid Killtrace configuration (${problems.length} ${noun}):\n${lines.join('\n')}`,
      problems,
    );
  }
}
