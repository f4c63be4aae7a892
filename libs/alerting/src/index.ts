/**
 * @killtrace/alerting: the pure alerting core shared by the alerter service and `killtrace analyze --alerts`.
 * Rules (zod-validated, with built-in defaults), the grouping and de-duplication state machine (the clock comes
 * in as an argument), and the payloads of each receiver type. No I/O.
 */
export {
  parseRules,
  compileRules,
  RulesError,
  BUILTIN_RULES,
  DEFAULT_GROUP_BY,
  ruleSchema,
  receiverSchema,
  rulesFileSchema,
  type Rule,
  type RuleInput,
  type CompiledRule,
  type Receiver,
  type RuleSet,
  type RulesIssue,
  type GroupField,
} from './rules.js';
export {
  initialState,
  ingestRecord,
  tick,
  nextDue,
  killDetail,
  ruleMatches,
  groupOf,
  type AlerterState,
  type AlertGroup,
  type AlertSnapshot,
  type KillDetail,
  type Notification,
  type NotificationKind,
  type EngineOptions,
  type StepResult,
} from './engine.js';
export {
  alertmanagerAlert,
  webhookBody,
  slackMessage,
  alertLinks,
  alertSummary,
  kibanaDiscoverUrl,
  startupProbeYaml,
  type AlertmanagerAlert,
  type WebhookBody,
  type SlackMessage,
  type LinkSettings,
  type AlertLinks,
} from './payloads.js';
export { dryRun, type DryRunEvent } from './dry-run.js';
