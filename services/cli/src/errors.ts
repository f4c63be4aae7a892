import { KilltraceError } from '@killtrace/errors';

/** Exit codes of the `killtrace` command. */
export const EXIT_OK = 0;
/** Bad usage, or input that could not be read at all. */
export const EXIT_USAGE = 1;
/** `killtrace setup`: Elasticsearch or Kibana refused or could not be reached. */
export const EXIT_FAILED = 2;

export type CliErrorCode =
  | 'KT_ERR_CLI_NO_INPUT'
  | 'KT_ERR_CLI_INPUT_NOT_FOUND'
  | 'KT_ERR_CLI_PROFILE_UNREADABLE'
  | 'KT_ERR_CLI_PROFILE_INVALID'
  | 'KT_ERR_CLI_BAD_OPTION'
  | 'KT_ERR_CLI_CONFIG'
  | 'KT_ERR_CLI_REPLAY_KAFKA'
  | 'KT_ERR_CLI_PROFILE_UNSAFE_REGEX'
  | 'KT_ERR_CLI_ANALYSIS_WORKER'

  | 'KT_ERR_CLI_ALERTS_INVALID'
  | 'KT_ERR_CLI_MANIFEST_INVALID';

/** An error the user can fix; printed as one message, never with a stack trace. */
export class CliError extends KilltraceError<CliErrorCode> {
  override readonly name = 'CliError';
  declare readonly exitCode: number;

  // The message is printed as is (`killtrace: <message> [<code>]`, services/cli/src/main.ts), so not led by the code.
  constructor(code: CliErrorCode, message: string, exitCode: number = EXIT_USAGE) {
    super(code, message, { exitCode });
  }
}
