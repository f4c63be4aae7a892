/**
 * @killtrace/config: every Killtrace setting in one zod schema, loaded from a file and the environment,
 * validated with errors that name each bad key, and documented from the same schema.
 */
export { configSchema, type Config, type ConfigInput, type SettingMeta } from './schema.js';
export { loadConfig, CONFIG_FILE_ENV, type LoadConfigOptions, type ConfigOverrides } from './load.js';
export { ConfigError, configErrorCodes, type ConfigErrorCode, type ConfigProblem } from './errors.js';
export { listSettings, secretPaths, type SettingInfo, type SettingKind } from './settings.js';
export { redactedConfig, REDACTED } from './redact.js';
export { renderConfigReference, replaceConfigReference, REFERENCE_START, REFERENCE_END } from './reference.js';
