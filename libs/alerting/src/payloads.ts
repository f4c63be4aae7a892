import type { AlertSnapshot, KillDetail, Notification } from './engine.js';

/** Where an alert's links point (from configuration); either may be absent. */
export interface LinkSettings {
  /** Timeline export of one restart, with `{id}` replaced by the URL-encoded record id. */
  timelineUrl?: string;
  /** Kibana base URL (e.g. `https://kibana.example.com`); links open Discover on the workload's restarts. */
  kibanaUrl?: string;
  /** Kibana data view id of the restart records, when Discover should not use the default one. */
  kibanaDataView?: string;
}

export interface AlertLinks {
  timeline: string | null;
  kibana: string | null;
}

/** Rison string literal (what Kibana's `_a`/`_g` URL state is written in): quoted, `!` and `'` escaped with `!`. */
function rison(value: string): string {
  return `'${value.replace(/!/g, '!!').replace(/'/g, "!'")}'`;
}

function kqlString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The ECS field that holds a workload kind's name in the restart record. */
function workloadField(kind: string): string | null {
  return ['deployment', 'statefulset', 'daemonset', 'job', 'replicaset'].includes(kind) ? `kubernetes.${kind}.name` : null;
}

/** A Kibana Discover URL showing this workload's container restarts around the alert's kills. */
export function kibanaDiscoverUrl(base: string, alert: AlertSnapshot, dataView?: string): string {
  const d = alert.latest;
  const terms = [`kubernetes.namespace:${kqlString(d.namespace)}`];
  const field = workloadField(d.workloadKind);
  terms.push(field === null ? `kubernetes.pod.name:${kqlString(d.pod)}` : `${field}:${kqlString(d.workload)}`);
  terms.push(`kubernetes.container.name:${kqlString(d.container)}`);
  const hour = 3600 * 1000;
  const from = new Date(Date.parse(alert.firstKillAt) - hour).toISOString();
  const to = new Date(Date.parse(alert.lastKillAt) + hour).toISOString();
  const g = `(time:(from:${rison(from)},to:${rison(to)}))`;
  const view = dataView === undefined ? '' : `dataSource:(dataViewId:${rison(dataView)},type:dataView),`;
  const a = `(${view}query:(language:kuery,query:${rison(terms.join(' and '))}))`;
  return `${base.replace(/\/+$/, '')}/app/discover#/?_g=${encodeURIComponent(g)}&_a=${encodeURIComponent(a)}`;
}

/** Both links of an alert (null where not configured). */
export function alertLinks(alert: AlertSnapshot, settings: LinkSettings): AlertLinks {
  return {
    timeline: settings.timelineUrl === undefined ? null : settings.timelineUrl.replace(/\{id\}/g, encodeURIComponent(alert.latest.recordId)),
    kibana: settings.kibanaUrl === undefined ? null : kibanaDiscoverUrl(settings.kibanaUrl, alert, settings.kibanaDataView),
  };
}

function seconds(value: number | null): string {
  return value === null ? 'unknown' : `${Math.round(value * 10) / 10} s`;
}

/** One sentence: what happened to which workload, how often. */
export function alertSummary(alert: AlertSnapshot): string {
  const d = alert.latest;
  const what = d.probeInduced ? `${d.probeType ?? 'probe'} probe killed` : `${d.cause.replace(/_/g, ' ')} killed`;
  const where = d.duringInit ? (d.step === null ? ' during init' : ` during init step ${d.step}`) : '';
  const times = alert.count === 1 ? 'once' : `${alert.count} times`;
  return `${what} ${d.namespace}/${d.workload} container ${d.container}${where} (${times})`;
}

/** The recommended startupProbe as a YAML fragment for the container spec, or null when there is none. */
export function startupProbeYaml(d: KillDetail): string | null {
  if (d.startupProbe === null) return null;
  return [
    'startupProbe:',
    `  # same handler as the ${d.probeType === 'startup' ? 'current startupProbe' : 'livenessProbe'}`,
    `  periodSeconds: ${d.startupProbe.periodSeconds}`,
    `  failureThreshold: ${d.startupProbe.failureThreshold}`,
  ].join('\n');
}

function stepLine(d: KillDetail): string {
  const step = d.step ?? (d.duringInit ? '(init, step unknown)' : '(running)');
  return `${step}: ${seconds(d.stepElapsedSeconds)} elapsed, probe budget ${seconds(d.budgetSeconds)}`;
}

/** Alertmanager API v2 alert (`POST /api/v2/alerts` takes an array of these). */
export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

/** The Alertmanager form of an alert: identity in labels (one alert per group), facts in annotations. */
export function alertmanagerAlert(alert: AlertSnapshot, links: AlertLinks): AlertmanagerAlert {
  const labels: Record<string, string> = { alertname: alert.alertname, severity: alert.severity, killtrace_rule: alert.rule };
  for (const [name, value] of Object.entries(alert.labels)) if (value !== '') labels[name] = value;
  const d = alert.latest;
  const annotations: Record<string, string> = {
    summary: alertSummary(alert),
    description: d.explanation,
    recommendation: d.recommendation,
    kill_count: String(alert.count),
    last_kill: alert.lastKillAt,
    last_pod: d.pod,
    record_id: d.recordId,
    step: stepLine(d),
  };
  const yaml = startupProbeYaml(d);
  if (yaml !== null) annotations.startup_probe = yaml;
  if (alert.runbookUrl !== null) annotations.runbook_url = alert.runbookUrl;
  if (links.timeline !== null) annotations.timeline_url = links.timeline;
  if (links.kibana !== null) annotations.kibana_url = links.kibana;
  return {
    labels,
    annotations,
    startsAt: alert.startsAt,
    endsAt: alert.endsAt,
    ...(links.timeline === null ? {} : { generatorURL: links.timeline }),
  };
}

/** Body of the generic JSON webhook (versioned; `dedupKey` is stable for one alert episode). */
export interface WebhookBody {
  version: 1;
  kind: Notification['kind'];
  dedupKey: string;
  notificationId: string;
  seq: number;
  status: 'firing' | 'resolved';
  alertname: string;
  rule: string;
  severity: string;
  labels: Record<string, string>;
  summary: string;
  count: number;
  firstKillAt: string;
  lastKillAt: string;
  startsAt: string;
  endsAt: string;
  latest: KillDetail & { startupProbeYaml: string | null };
  links: AlertLinks;
  runbookUrl: string | null;
}

export function webhookBody(n: Notification, links: AlertLinks): WebhookBody {
  const a = n.alert;
  return {
    version: 1,
    kind: n.kind,
    dedupKey: n.dedupKey,
    notificationId: n.id,
    seq: n.seq,
    status: a.status,
    alertname: a.alertname,
    rule: a.rule,
    severity: a.severity,
    labels: a.labels,
    summary: alertSummary(a),
    count: a.count,
    firstKillAt: a.firstKillAt,
    lastKillAt: a.lastKillAt,
    startsAt: a.startsAt,
    endsAt: a.endsAt,
    latest: { ...a.latest, startupProbeYaml: startupProbeYaml(a.latest) },
    links,
    runbookUrl: a.runbookUrl,
  };
}

type SlackText = { type: 'mrkdwn' | 'plain_text'; text: string };
type SlackBlock =
  | { type: 'header'; text: SlackText }
  | { type: 'section'; text?: SlackText; fields?: SlackText[] }
  | { type: 'context'; elements: SlackText[] }
  | { type: 'actions'; elements: { type: 'button'; text: SlackText; url: string }[] }
  | { type: 'divider' };

/** A Slack incoming-webhook message (Block Kit), with `text` as the notification fallback. */
export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

/** Slack's mrkdwn needs `&`, `<` and `>` escaped. */
function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Slack refuses a section text over 3,000 characters; long explanations are cut with an ellipsis. */
function fit(text: string, max = 2_900): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const ICON: Record<string, string> = { critical: ':rotating_light:', warning: ':warning:', info: ':information_source:' };

/** The Slack message of a notification: explanation, step against the probe budget, the startupProbe fix, links. */
export function slackMessage(n: Notification, links: AlertLinks): SlackMessage {
  const a = n.alert;
  const d = a.latest;
  const resolved = a.status === 'resolved';
  const title = `${resolved ? 'RESOLVED' : a.severity.toUpperCase()}: ${a.alertname} ${d.namespace}/${d.workload}`;
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: fit(`${resolved ? ':white_check_mark:' : (ICON[a.severity] ?? '')} *${esc(alertSummary(a))}*\n${esc(d.explanation)}`) } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Step*\n${esc(d.step ?? (d.duringInit ? 'init (step unknown)' : 'running'))}` },
        { type: 'mrkdwn', text: `*Elapsed vs probe budget*\n${seconds(d.stepElapsedSeconds)} / ${seconds(d.budgetSeconds)}` },
        { type: 'mrkdwn', text: `*Kills*\n${a.count} (last ${a.lastKillAt})` },
        { type: 'mrkdwn', text: `*Cause*\n${esc(d.cause)} (${esc(d.pod)})` },
      ],
    },
  ];
  const yaml = startupProbeYaml(d);
  if (!resolved && yaml !== null) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: fit(`*Recommended startupProbe* (the explanation above says why)\n\`\`\`\n${esc(yaml)}\n\`\`\``) } });
  }
  const buttons: { type: 'button'; text: SlackText; url: string }[] = [];
  if (links.timeline !== null) buttons.push({ type: 'button', text: { type: 'plain_text', text: 'Timeline' }, url: links.timeline });
  if (links.kibana !== null) buttons.push({ type: 'button', text: { type: 'plain_text', text: 'Kibana Discover' }, url: links.kibana });
  if (a.runbookUrl !== null) buttons.push({ type: 'button', text: { type: 'plain_text', text: 'Runbook' }, url: a.runbookUrl });
  if (buttons.length > 0) blocks.push({ type: 'actions', elements: buttons });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `killtrace · rule ${a.rule} · ${d.cluster} · record ${esc(d.recordId)}` }] });
  return { text: `${title}: ${alertSummary(a)}`, blocks };
}
