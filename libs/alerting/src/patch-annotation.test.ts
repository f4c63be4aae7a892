import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../../services/cli/src/run-analysis.js';
import { ingestRecord, initialState } from './engine.js';
import { alertLinks, alertmanagerAlert, slackMessage } from './payloads.js';
import { compileRules } from './rules.js';

/** Issue 13: alerts carry the `kubectl patch` command that applies the recommendation, from the record as analysed now. */
describe('alerts with the patch', () => {
  it('put the kubectl patch command in the Alertmanager annotations and the Slack message', async () => {
    const result = await runAnalysis({ dir: join(import.meta.dirname, '../../../examples/host-agent-crashloop'), clusterName: 'default' });
    const record = result.records.find((r) => r.kubernetes.pod.name === 'default-host-x7k2p' && r.killtrace.restart.count === 6);
    if (!record) throw new Error('no record');
    const command = record.killtrace.recommendation.patch?.kubectl;
    expect(command).toMatch(/^kubectl patch daemonset default-host -n onecloud --type strategic -p '/);
    const rules = compileRules({ receivers: [{ name: 'am', type: 'alertmanager', url: 'http://127.0.0.1:9093' }], rules: [{ name: 'probe-kill-during-init' }] }, 'test');
    const firing = ingestRecord(initialState(), rules, 'id-6', record, Date.parse(record['@timestamp']) + 60_000).notifications.find((n) => n.alert.rule === 'probe-kill-during-init');
    if (!firing) throw new Error('no alert');
    const links = alertLinks(firing.alert, {});
    expect(alertmanagerAlert(firing.alert, links).annotations.patch).toBe(command);
    expect(JSON.stringify(slackMessage(firing, links))).toContain('*Apply it*');
  });
});
