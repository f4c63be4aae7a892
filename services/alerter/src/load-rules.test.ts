import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '@killtrace/config';
import { createLogger } from '@killtrace/logging';
import { EXIT_CONFIG } from './errors.js';
import { loadRuleSet } from './load-rules.js';
import { main, startAlerter } from './main.js';

const dir = mkdtempSync(join(tmpdir(), 'killtrace-alerter-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BAD = [
  'receivers:',
  '  - { name: am, type: alertmanager, url: "http://127.0.0.1:19093" }',
  'rules:',
  '  - name: slow-start',
  '    severity: critical',
  '    threshold:',
  '      count: -1',
].join('\n');

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function config(env: Record<string, string>) {
  // Nothing listens on this broker: a rules problem must stop the alerter before it connects to anything.
  return loadConfig({ env: { KILLTRACE_CLUSTER_NAME: 'unit', KAFKA_BROKERS: '127.0.0.1:1', KILLTRACE_ALERTER_STATE_DIR: join(dir, 'state'), ...env } });
}

describe('alerter rules at start', () => {
  it('a bad rules file stops the alerter with a message naming the rule, the field and the line', async () => {
    const rulesFile = file('bad.yaml', BAD);
    const logger = createLogger({ name: 'alerter-unit', level: 'silent', format: 'json' });
    await expect(startAlerter(config({ KILLTRACE_ALERTER_RULES_FILE: rulesFile }), logger)).rejects.toMatchObject({
      code: 'KT_ERR_ALERTER_RULES_INVALID',
      exitCode: EXIT_CONFIG,
      message: expect.stringContaining(`rule "slow-start" field threshold.count (line 7): Too small: expected number to be >=1`),
    });
  });

  it('the process exits with code 2 and prints the problem on stderr', async () => {
    const rulesFile = file('bad-process.yaml', BAD);
    const saved = { ...process.env };
    const stderr: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => stderr.push(String(chunk)) > 0);
    try {
      Object.assign(process.env, {
        KILLTRACE_CLUSTER_NAME: 'unit',
        KAFKA_BROKERS: '127.0.0.1:1',
        KILLTRACE_ALERTER_RULES_FILE: rulesFile,
        KILLTRACE_LOG_LEVEL: 'silent',
      });
      expect(await main()).toBe(2);
    } finally {
      spy.mockRestore();
      process.env = saved;
    }
    expect(stderr.join('')).toMatch(/KT_ERR_ALERTER_RULES_INVALID: rules file .*bad-process\.yaml is invalid:\n {2}- rule "slow-start" field threshold\.count \(line 7\)/);
  });

  it('refuses to start with no receiver at all, and names the settings that add one', async () => {
    const logger = createLogger({ name: 'alerter-unit', level: 'silent', format: 'json' });
    await expect(startAlerter(config({}), logger)).rejects.toMatchObject({ code: 'KT_ERR_ALERTER_NO_RECEIVERS', message: expect.stringMatching(/KILLTRACE_ALERTER_ALERTMANAGER_URL/) });
  });

  it('alerter.alertmanagerUrl alone routes the built-in rules to Alertmanager', async () => {
    const set = await loadRuleSet(config({ KILLTRACE_ALERTER_ALERTMANAGER_URL: 'http://127.0.0.1:19093' }).alerter);
    expect(set.receivers).toEqual([{ name: 'alertmanager', type: 'alertmanager', url: 'http://127.0.0.1:19093' }]);
    expect(set.rules.map((r) => [r.name, r.receivers])).toEqual([
      ['probe-kill-during-init', ['alertmanager']],
      ['probe-kill-running', ['alertmanager']],
      ['probe-crash-loop', ['alertmanager']],
      ['oom-kill-during-init', ['alertmanager']],
    ]);
  });

  it('an unreadable rules file names the setting', async () => {
    await expect(loadRuleSet(config({ KILLTRACE_ALERTER_RULES_FILE: join(dir, 'missing.yaml') }).alerter)).rejects.toMatchObject({
      code: 'KT_ERR_ALERTER_RULES_INVALID',
      message: expect.stringMatching(/cannot read rules file .*missing\.yaml \(alerter\.rulesFile\)/),
    });
  });
});
