import { readBundle } from '@killtrace/bundle';
import { Correlator } from '@killtrace/correlation';
import type { RestartRecord } from '@killtrace/schemas';
import { beforeAll, describe, expect, it } from 'vitest';
import { csvField } from './timeline-csv.js';
import { incarnationRow, parseDuration, recordKey } from './timeline-model.js';
import { inScope, streamTimeline } from './timeline-stream.js';
import { compareRecords } from './timeline-summary.js';
import { timelineCss } from './svg-timeline.js';
import { renderTimeline, summarize, timelineFormats } from './timeline-writer.js';

// Records of the example bundles, from the same core the CLI and the correlator run.
async function analyse(example: string): Promise<RestartRecord[]> {
  const correlator = new Correlator({ clusterName: 'test', profiles: [] });
  await readBundle({ paths: [new URL(`../../../examples/${example}`, import.meta.url).pathname], onSignal: (s) => correlator.ingest(s) });
  return correlator.records();
}

let host: RestartRecord[];
let shop: RestartRecord[];
const workload = { kind: 'workload', namespace: 'onecloud', workload: 'default-host' } as const;

beforeAll(async () => {
  host = (await analyse('host-agent-crashloop')).sort(compareRecords);
  shop = (await analyse('shop-inventory-mixed')).sort(compareRecords);
});

const byRestart = (n: number): RestartRecord => {
  const r = host.find((x) => x.killtrace.restart.count === n);
  if (!r) throw new Error(`no restart ${n}`);
  return r;
};

describe('incarnationRow', () => {
  it('draws restart 6 of the crash loop: steps, probe failures, the budget ending at the kill, the back-off before it', () => {
    const row = incarnationRow(byRestart(6), byRestart(5));
    expect(row.steps.map((s) => [s.name, s.completed])).toEqual([
      ['host-info', true],
      ['gpu-vfio-bind', false],
    ]);
    expect((row.steps[0]?.toMs ?? 0) - (row.steps[0]?.fromMs ?? 0)).toBe(4900);
    expect(((row.steps[1]?.toMs ?? 0) - (row.steps[1]?.fromMs ?? 0)) / 1000).toBeCloseTo(38.319, 3);
    expect(row.probeFailures).toHaveLength(3);
    expect(row.budget).toMatchObject({ seconds: 15, label: 'liveness budget 15 s (3 × 5 s)' });
    expect((row.budget?.toMs ?? 0) - (row.budget?.fromMs ?? 0)).toBe(15_000);
    expect(row.budget?.toMs).toBe(row.killMs);
    // Restart 5 ended 06:39:42.252, restart 6 started 06:44:42.848: the kubelet's 5 min back-off cap.
    expect(row.backoffMs).toBe(300_596);
    expect(incarnationRow(byRestart(6)).backoffMs).toBeNull();
  });

  it('reads the durations formatSeconds writes', () => {
    expect(parseDuration('4.9 s')).toBe(4900);
    expect(parseDuration('2 min')).toBe(120_000);
    expect(parseDuration('2 min 30 s')).toBe(150_000);
    expect(parseDuration('soon')).toBeNull();
  });
});

describe('summary', () => {
  it('counts the crash loop and picks the newest probe kill to explain it', () => {
    const s = summarize(workload, host);
    expect(s).toMatchObject({ restarts: 7, probeKills: 7, duringInit: 7, pods: 1, nodes: ['gpu-node-1'], firstKill: '2026-10-02T06:30:46.169Z', lastKill: '2026-10-02T06:45:26.169Z' });
    expect(s.representative?.killtrace.restart.count).toBe(6);
    expect(s.maxBackoffMs).toBe(300_596);
    expect(s.openQuestions).toEqual([]);
    const mixed = summarize({ kind: 'workload', namespace: 'shop', workload: 'orders' }, shop);
    expect(mixed.openQuestions.map((q) => q.confidence)).toContain('medium');
  });
});

describe('markdown', () => {
  it('is a postmortem section: summary, impact, root cause, evidence table, recommendation with YAML', () => {
    const md = renderTimeline('markdown', workload, host);
    const headings = md.replace(/```[\s\S]*?```/g, '').split('\n').filter((l) => l.startsWith('#'));
    expect(headings).toEqual(['# Restart timeline: workload onecloud/default-host', '## Summary', '## Impact', '## Root cause', '## Evidence timeline', '## Recommendation']);
    expect(md).toContain('7 restarts (7 liveness probe kills, all during init) in 1 pod on gpu-node-1.');
    expect(md).toContain('| Time spent crash looping | 15 min 24 s |');
    expect(md).toContain('```yaml\n# container "host": keep the livenessProbe and add a startupProbe with the same http check\nstartupProbe:');
    expect(md).toContain('  failureThreshold: 60');
    const tableRows = md.split('\n').filter((l) => /^\| 2026-/.test(l));
    expect(tableRows).toHaveLength(host.reduce((n, r) => n + r.killtrace.timeline.length, 0));
  });

  it('lists open questions when confidence is not high, and escapes table cells', () => {
    const md = renderTimeline('markdown', { kind: 'pod', namespace: 'shop', pod: 'orders-6d5c4b3a2-n4f7d' }, shop.filter((r) => r.kubernetes.pod.name === 'orders-6d5c4b3a2-n4f7d'));
    expect(md).toContain('## Open questions');
    expect(md).toMatch(/- shop\/orders-6d5c4b3a2-n4f7d restart 3 .*confidence medium/);
    const record = structuredClone(byRestart(0));
    record.killtrace.timeline = [{ at: record['@timestamp'], source: 'app_log', text: 'a | b\nc' }];
    expect(renderTimeline('markdown', { kind: 'record', id: recordKey(record) }, [record])).toContain('| a \\| b c |');
  });
});

describe('html', () => {
  it('is one self-contained file with one SVG row per incarnation, themed and printable', () => {
    const html = renderTimeline('html', workload, host);
    expect(html.match(/<svg class="kt-row-svg"/g)).toHaveLength(7);
    expect(html).not.toMatch(/<link|<script src|@import|url\(http|src="http|href="http/);
    expect(html).toContain('prefers-color-scheme: dark');
    expect(html).toContain('@page { size: A4;');
    expect(html).toContain('break-inside: avoid');
    expect(html.match(/class="kt-probe-failure"/g)).toHaveLength(host.reduce((n, r) => n + incarnationRow(r).probeFailures.length, 0));
    expect(html.match(/class="kt-kill"/g)).toHaveLength(7);
    expect(html.match(/class="kt-budget"/g)).toHaveLength(7);
    expect(html.match(/class="kt-backoff"/g)).toHaveLength(6);
    expect(html).toContain('data-at="2026-10-02T06:45:26.169Z"');
  });

  it('escapes text from logs', () => {
    const record = structuredClone(byRestart(6));
    record.message = '<img src=x onerror=alert(1)> & more';
    record.killtrace.timeline.push({ at: record['@timestamp'], source: 'app_log', text: '</svg><script>alert(1)</script>' });
    const html = renderTimeline('html', { kind: 'record', id: recordKey(record) }, [record]);
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;/svg&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});

describe('csv and json', () => {
  it('CSV has one row per timeline entry, quoted, with formula cells defused', () => {
    const csv = renderTimeline('csv', workload, host);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe('record_id,namespace,pod,container,node,restart,cause,confidence,at,source,text');
    expect(lines).toHaveLength(1 + host.reduce((n, r) => n + r.killtrace.timeline.length, 0));
    expect(csvField('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvField('-1')).toBe("'-1");
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('plain')).toBe('plain');
  });

  it('JSON carries the summary, and each record with its drawn row', () => {
    const doc = JSON.parse(renderTimeline('json', workload, host)) as { summary: { restarts: number }; incarnations: Array<{ id: string; record: RestartRecord; row: { backoffMs: number | null } }> };
    expect(doc.summary.restarts).toBe(7);
    expect(doc.incarnations.map((i) => i.record.killtrace.restart.count)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(doc.incarnations[0]?.row.backoffMs).toBeNull();
    expect(doc.incarnations[6]?.row.backoffMs).toBe(300_596);
  });
});

describe('streamTimeline', () => {
  it('writes, in two passes and many chunks, exactly the one-shot document', async () => {
    for (const format of timelineFormats) {
      const chunks: string[] = [];
      async function* records(): AsyncGenerator<RestartRecord> {
        yield* host;
      }
      const passes: string[] = [];
      await streamTimeline({ format, scope: workload, open: records, write: (c) => void chunks.push(c), onProgress: (pass) => passes.push(pass), progressEvery: 2 });
      expect(chunks.join('')).toBe(renderTimeline(format, workload, host));
      expect(passes).toContain('summary');
      expect(passes).toContain('rows');
    }
  });

  it('selects a scope the way the Elasticsearch filter does', () => {
    const all = [...host, ...shop];
    expect(all.filter((r) => inScope(r, { kind: 'workload', namespace: 'shop', workload: 'orders' }))).toHaveLength(5);
    expect(all.filter((r) => inScope(r, { kind: 'workload', namespace: 'shop', workload: 'orders-6d5c4b3a2' }))).toHaveLength(5);
    expect(all.filter((r) => inScope(r, { kind: 'pod', namespace: 'onecloud', pod: 'default-host-x7k2p', from: '2026-10-02T06:32:00Z', to: '2026-10-02T06:40:00Z' }))).toHaveLength(4);
    expect(all.filter((r) => inScope(r, { kind: 'record', id: recordKey(byRestart(3)) }))).toHaveLength(1);
  });
});

describe('colours', () => {
  // WCAG 2.x relative luminance and contrast ratio.
  const luminance = (hex: string): number => {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0);
  };
  const contrast = (a: string, b: string): number => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return ((hi ?? 0) + 0.05) / ((lo ?? 0) + 0.05);
  };
  const palettes = (): Array<Record<string, string>> =>
    timelineCss
      .split('prefers-color-scheme: dark')
      .map((block) => Object.fromEntries([...block.matchAll(/--kt-([a-z-]+):(#[0-9a-f]{6})/g)].map((m) => [m[1] ?? '', m[2] ?? ''])));

  it('keeps text readable (WCAG AA, 4.5:1) and marks visible (3:1) in the light and the dark theme', () => {
    for (const p of palettes()) {
      const bg = p.bg ?? '';
      for (const text of ['fg', 'muted', 'kill', 'budget-text']) expect(contrast(p[text] ?? '', bg), text).toBeGreaterThanOrEqual(4.5);
      expect(contrast(p['step-text'] ?? '', p.step ?? ''), 'step label').toBeGreaterThanOrEqual(4.5);
      expect(contrast(p['step-text'] ?? '', p.killed ?? ''), 'killed step label').toBeGreaterThanOrEqual(3);
      for (const mark of ['probe', 'kill', 'step', 'killed']) expect(contrast(p[mark] ?? '', bg), mark).toBeGreaterThanOrEqual(3);
    }
  });
});
