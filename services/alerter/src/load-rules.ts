import { readFile } from 'node:fs/promises';
import { compileRules, parseRules, RulesError, type RuleSet } from '@killtrace/alerting';
import type { Config } from '@killtrace/config';
import { AlerterError } from './errors.js';

/**
 * The rule set the alerter runs: the rules file (or the built-in rules alone), plus the receiver `alertmanager`
 * on every rule when `alerter.alertmanagerUrl` is set. Throws KT_ERR_ALERTER_RULES_INVALID naming the rule, field and line.
 */
export async function loadRuleSet(config: Config['alerter']): Promise<RuleSet> {
  let text: string | undefined;
  const file = config.rulesFile ?? '(built-in rules)';
  if (config.rulesFile !== undefined) {
    try {
      text = await readFile(config.rulesFile, 'utf8');
    } catch (error) {
      throw new AlerterError('KT_ERR_ALERTER_RULES_INVALID', `cannot read rules file ${config.rulesFile} (alerter.rulesFile): ${(error as Error).message}`);
    }
  }
  try {
    const parsed = text === undefined ? compileRules({}, file) : parseRules(text, file);
    if (config.alertmanagerUrl === undefined) return parsed;
    if (parsed.receivers.some((r) => r.name === 'alertmanager')) {
      throw new RulesError(file, [{ field: 'receivers', message: 'a receiver named "alertmanager" exists and alerter.alertmanagerUrl is set too; keep one' }]);
    }
    return {
      receivers: [...parsed.receivers, { name: 'alertmanager', type: 'alertmanager', url: config.alertmanagerUrl }],
      rules: parsed.rules.map((r) => ({ ...r, receivers: [...r.receivers, 'alertmanager'] })),
    };
  } catch (error) {
    if (error instanceof RulesError) throw new AlerterError('KT_ERR_ALERTER_RULES_INVALID', error.message.replace(/^KT_ERR_ALERTER_RULES_INVALID: /, ''), 2, { cause: error });
    throw error;
  }
}
