import { describe, expect, it } from 'vitest';
import { killRecord } from '../../../test/fixtures/alerting/records.js';
import { ingestRecord, initialState, type Notification } from './engine.js';
import { alertLinks, alertmanagerAlert, kibanaDiscoverUrl, slackMessage, startupProbeYaml, webhookBody } from './payloads.js';
import { compileRules } from './rules.js';

const rules = compileRules(
  {
    receivers: [
      { name: 'am', type: 'alertmanager', url: 'http://127.0.0.1:9093' },
      { name: 'hook', type: 'webhook', url: 'http://127.0.0.1:1/hook' },
      { name: 'chat', type: 'slack', url: 'https://hooks.slack.com/services/T/B/X' },
    ],
    rules: [{ name: 'probe-kill-during-init', runbookUrl: 'https://runbooks.example.com/probe-kill' }],
  },
  'test',
);
const { id, record } = killRecord({ restart: 5 });
const notifications = ingestRecord(initialState(), rules, id, record, Date.parse('2026-10-02T06:39:42Z')).notifications;
const firing = notifications.find((n) => n.receiver === 'am' && n.alert.rule === 'probe-kill-during-init') as Notification;
const settings = { timelineUrl: 'https://killtrace.example.com/api/v1/timeline?id={id}', kibanaUrl: 'https://kibana.example.com/' };

describe('receiver payloads', () => {
  it('Alertmanager: identity in labels, facts in annotations, startsAt/endsAt', () => {
    const alert = alertmanagerAlert(firing.alert, alertLinks(firing.alert, settings));
    expect(alert.labels).toEqual({
      alertname: 'KilltraceProbeKillDuringInit',
      severity: 'critical',
      killtrace_rule: 'probe-kill-during-init',
      cluster: 'default',
      namespace: 'onecloud',
      workload: 'default-host',
      container: 'host',
      cause: 'liveness_probe',
      step: 'gpu-vfio-bind',
    });
    expect(alert.annotations).toMatchObject({
      summary: 'liveness probe killed onecloud/default-host container host during init step gpu-vfio-bind (once)',
      description: record.message,
      runbook_url: 'https://runbooks.example.com/probe-kill',
      kill_count: '1',
      timeline_url: `https://killtrace.example.com/api/v1/timeline?id=${encodeURIComponent(id)}`,
      step: 'gpu-vfio-bind: 37.8 s elapsed, probe budget 15 s',
    });
    expect(alert.annotations.startup_probe).toContain('failureThreshold: 60');
    expect(alert.startsAt).toBe('2026-10-02T06:39:41.169Z');
    expect(alert.endsAt).toBe('2026-10-02T06:54:42.000Z');
  });

  it('Kibana Discover: a KQL query on the workload and container, around the kills', () => {
    const url = kibanaDiscoverUrl('https://kibana.example.com/', firing.alert, 'killtrace-restarts');
    expect(url.startsWith('https://kibana.example.com/app/discover#/?_g=')).toBe(true);
    const decoded = decodeURIComponent(url);
    expect(decoded).toContain(`query:(language:kuery,query:'kubernetes.namespace:"onecloud" and kubernetes.daemonset.name:"default-host" and kubernetes.container.name:"host"')`);
    expect(decoded).toContain("time:(from:'2026-10-02T05:39:41.169Z',to:'2026-10-02T07:39:41.169Z')");
    expect(decoded).toContain("dataViewId:'killtrace-restarts'");
  });

  it('Slack: blocks with the explanation, the step against the budget, the startupProbe YAML and the links', () => {
    const chat = notifications.find((n) => n.receiver === 'chat') as Notification;
    const message = slackMessage(chat, alertLinks(chat.alert, settings));
    expect(message.text).toMatch(/^CRITICAL: KilltraceProbeKillDuringInit onecloud\/default-host/);
    const texts = JSON.stringify(message.blocks);
    expect(message.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'CRITICAL: KilltraceProbeKillDuringInit onecloud/default-host' } });
    expect(texts).toContain('*Elapsed vs probe budget*\\n37.8 s / 15 s');
    expect(texts).toContain('```\\nstartupProbe:\\n  # same handler as the livenessProbe\\n  periodSeconds: 5\\n  failureThreshold: 60\\n```');
    const actions = message.blocks.find((b) => b.type === 'actions');
    expect(actions).toMatchObject({ elements: [{ text: { text: 'Timeline' } }, { text: { text: 'Kibana Discover' } }, { text: { text: 'Runbook' } }] });
  });

  it('webhook: versioned body with the dedup key, the latest kill and the links', () => {
    const hook = notifications.find((n) => n.receiver === 'hook') as Notification;
    const body = webhookBody(hook, alertLinks(hook.alert, {}));
    expect(body).toMatchObject({ version: 1, kind: 'firing', status: 'firing', count: 1, dedupKey: hook.dedupKey, links: { timeline: null, kibana: null } });
    expect(body.latest.startupProbeYaml).toBe(startupProbeYaml(hook.alert.latest));
    expect(body.latest.recordId).toBe(id);
  });
});
