import { describe, expect, it } from 'vitest';
import { BUILTIN_RULES, compileRules, parseRules, RulesError } from './rules.js';

function issuesOf(text: string): RulesError {
  try {
    parseRules(text, 'rules.yaml');
  } catch (error) {
    if (error instanceof RulesError) return error;
    throw error;
  }
  throw new Error('expected the rules file to be refused');
}

describe('alert rules', () => {
  it('applies the built-in rules with their defaults when the file says nothing', () => {
    const set = compileRules({}, '(built-in)');
    expect(set.rules.map((r) => r.name)).toEqual(BUILTIN_RULES.map((r) => r.name));
    const init = set.rules.find((r) => r.name === 'probe-kill-during-init');
    expect(init).toMatchObject({
      severity: 'critical',
      alertname: 'KilltraceProbeKillDuringInit',
      groupBy: ['cluster', 'namespace', 'workload', 'container', 'cause', 'step'],
      threshold: { count: 1, windowSeconds: 600 },
      resolveAfterSeconds: 900,
      repeatIntervalSeconds: 14400,
    });
    expect(set.rules.find((r) => r.name === 'probe-crash-loop')?.threshold).toEqual({ count: 3, windowSeconds: 1800 });
  });

  it('merges a file rule over the built-in of the same name and routes rules to the default receivers', () => {
    const set = parseRules(
      [
        'receivers:',
        '  - { name: am, type: alertmanager, url: "http://127.0.0.1:9093" }',
        '  - { name: chat, type: slack, url: "https://hooks.slack.com/services/T/B/X" }',
        'defaultReceivers: [am]',
        'rules:',
        '  - name: probe-kill-during-init',
        '    receivers: [am, chat]',
        '    resolveAfterSeconds: 2',
        '  - name: shop-oom',
        '    match: { namespace: "^shop$", cause: [oom_killed] }',
        '    severity: info',
      ].join('\n'),
      'rules.yaml',
    );
    const init = set.rules.find((r) => r.name === 'probe-kill-during-init');
    expect(init).toMatchObject({ severity: 'critical', receivers: ['am', 'chat'], resolveAfterSeconds: 2, match: { probeInduced: true, duringInit: true } });
    expect(set.rules.find((r) => r.name === 'probe-kill-running')?.receivers).toEqual(['am']);
    const oom = set.rules.find((r) => r.name === 'shop-oom');
    expect(oom?.alertname).toBe('KilltraceShopOom');
    expect(oom?.regex.namespace?.test('shop')).toBe(true);
  });

  it('names the rule, the field and the line of every problem', () => {
    const error = issuesOf(
      [
        'receivers:',
        '  - { name: am, type: alertmanager, url: "http://127.0.0.1:9093" }',
        'rules:',
        '  - name: slow-start',
        '    severity: urgent',
        '    match:',
        '      namespace: "([unclosed"',
        '  - name: crash-loop',
        '    severity: critical',
        '    threshold: { count: 0 }',
        '    receivers: [pagerduty]',
      ].join('\n'),
    );
    expect(error.code).toBe('KT_ERR_ALERTER_RULES_INVALID');
    expect(error.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rule: 'slow-start', field: 'severity', line: 5 }),
        expect.objectContaining({ rule: 'slow-start', field: 'match.namespace', line: 7, message: 'not a valid JavaScript regular expression' }),
        expect.objectContaining({ rule: 'crash-loop', field: 'threshold.count', line: 10 }),
      ]),
    );
    expect(error.message).toMatch(/rule "slow-start" field severity \(line 5\)/);
    expect(error.message).toMatch(/rules file rules.yaml is invalid/);
  });

  it('refuses unknown receivers, duplicate names, unknown keys and broken YAML', () => {
    const unknown = issuesOf(['rules:', '  - name: a', '    severity: info', '    receivers: [nowhere]', '    matches: {}'].join('\n'));
    expect(unknown.issues).toEqual(
      expect.arrayContaining([expect.objectContaining({ rule: 'a', field: '(root)', message: expect.stringMatching(/matches/) })]),
    );
    const receivers = issuesOf(['rules:', '  - name: a', '    severity: info', '    receivers: [nowhere]'].join('\n'));
    expect(receivers.issues).toEqual([expect.objectContaining({ rule: 'a', field: 'receivers[0]', line: 4, message: 'no receiver named "nowhere"' })]);
    const dup = issuesOf(['rules:', '  - { name: a, severity: info }', '  - { name: a, severity: info }'].join('\n'));
    expect(dup.issues[0]).toMatchObject({ rule: 'a', field: 'rules[1].name', line: 3 });
    const yaml = issuesOf('rules: [\n  {name: a');
    expect(yaml.issues[0]?.field).toBe('(file)');
    const slack = issuesOf('receivers:\n  - { name: s, type: slack }\n');
    expect(slack.issues[0]?.message).toMatch(/exactly one of url and urlEnv/);
  });
});
