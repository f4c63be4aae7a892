import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { diagnosticSchema, signalSchema } from '@killtrace/schemas';
import type { AppLogSignal, Diagnostic, KubeletSignal, Signal } from '@killtrace/schemas';
import { afterAll, describe, expect, it } from 'vitest';
import { iterateBundle } from './iterate-bundle.js';
import { readBundle } from './read-bundle.js';
import type { BundleProgress, ReadBundleOptions } from './bundle-options.js';

const BUNDLE = fileURLToPath(new URL('../../../test/fixtures/inputs/bundle-rollover', import.meta.url));
const EVENTS = fileURLToPath(new URL('../../../test/fixtures/inputs/events', import.meta.url));
const JOURNAL = fileURLToPath(new URL('../../../test/fixtures/inputs/journal', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'killtrace-bundle-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function collect(options: Omit<ReadBundleOptions, 'onSignal'>) {
  const signals: Signal[] = [];
  const diagnostics: Diagnostic[] = [];
  const report = await readBundle({ ...options, onSignal: (s) => void signals.push(s), onDiagnostic: (d) => void diagnostics.push(d) });
  for (const s of signals) expect(signalSchema.safeParse(s).success, JSON.stringify(s).slice(0, 200)).toBe(true);
  for (const d of diagnostics) expect(diagnosticSchema.safeParse(d).success).toBe(true);
  return { signals, diagnostics, report, codes: diagnostics.map((d) => d.code) };
}

describe('readBundle on a directory', () => {
  it('recognises files by content and reads pods/events, then kubelet, then logs in order', async () => {
    const { signals, report, diagnostics } = await collect({ paths: [BUNDLE] });
    const kinds = signals.map((s) => s.kind);
    const firstKubelet = kinds.indexOf('kubelet');
    const firstLog = kinds.indexOf('app_log');
    expect(kinds.slice(0, firstKubelet).every((k) => k === 'pod' || k === 'event')).toBe(true);
    expect(kinds.slice(firstKubelet, firstLog).every((k) => k === 'kubelet')).toBe(true);
    expect(kinds.slice(firstLog).every((k) => k === 'app_log')).toBe(true);
    expect(report.stats.signals).toEqual({ pod: 1, event: 5, kubelet: 9, app_log: 17, kernel_oom: 0, total: 32 });
    expect(report.stats.files).toEqual({ kubernetes: 2, kubelet: 1, kernel: 0, containerLogs: 5, skipped: 2 });
    expect(report.reference).toEqual({ year: 2027, time: Date.UTC(2027, 0, 1, 0, 0, 45), basis: 'pods-events' });
    expect(diagnostics.map((d) => [d.code, d.file?.split('/').slice(-2).join('/')])).toEqual(
      expect.arrayContaining([
        ['KT_INPUT_UNRECOGNIZED_FILE', 'bundle-rollover/notes.txt'],
        ['KT_INPUT_EMPTY_FILE', 'envoy/0.log'],
        ['KT_INPUT_OUT_OF_ORDER', 'ledger/0.log'],
      ]),
    );
    expect(report.stats.diagnostics.error).toBe(0);
  });

  it('places year-less kubelet lines across the new year', async () => {
    const { signals } = await collect({ paths: [BUNDLE] });
    const kubelet = signals.filter((s): s is KubeletSignal => s.kind === 'kubelet');
    expect(kubelet[0]?.at).toBeCloseTo(Date.UTC(2026, 11, 31, 23, 58, 21, 500), 3);
    expect(kubelet.at(-1)?.at).toBeCloseTo(Date.UTC(2027, 0, 1, 0, 0, 32, 250), 3);
    expect(kubelet.find((s) => s.action === 'kill_decision')).toMatchObject({ probeType: 'startup', container: 'ledger' });
  });

  it('reads each incarnation rotated-gz, rotated, live, joining P chunks across files', async () => {
    const { signals } = await collect({ paths: [BUNDLE] });
    const ledger0 = signals.filter((s): s is AppLogSignal => s.kind === 'app_log' && s.container === 'ledger' && s.restartCount === 0);
    expect(ledger0.map((s) => s.text).slice(0, 7)).toEqual([
      'ledger 2.0 starting',
      'step=config-load begin',
      'step=config-load done',
      'step=index-warmup begin shards=8',
      'index shard 1/8 loaded',
      'index shard 2/8 loaded',
      'index shard 3/8 partial chunk one --chunk two completes shard 3/8',
    ]);
    expect(ledger0.at(-1)?.text).toBe('index shard 6/8 loading, bytes=');
    expect(ledger0[0]?.source?.file).toMatch(/0\.log\.20261231-235830\.gz$/);
    const order = signals.filter((s): s is AppLogSignal => s.kind === 'app_log').map((s) => `${s.container}/${s.restartCount}`);
    expect([...new Set(order)]).toEqual(['ledger/0', 'ledger/1', 'migrate/0']);
    expect(ledger0[0]?.pod).toEqual({ namespace: 'payments', name: 'ledger-5c9d7f6b8-x4q2m', uid: '7b1f0c3e-5a2d-4e8f-9c61-2d4b8a0f3e17' });
  });

  it('reports throttled progress ending at the total', async () => {
    const progress: BundleProgress[] = [];
    await collect({ paths: [BUNDLE], onProgress: (p) => progress.push(p), progressIntervalMs: 0 });
    const last = progress.at(-1);
    expect(last?.phase).toBe('done');
    expect(last?.bytesRead).toBe(last?.bytesTotal);
    expect(progress.length).toBeGreaterThan(3);
  });

  it('honours an explicit reference year', async () => {
    const { report, signals } = await collect({ paths: [BUNDLE], referenceYear: 2026 });
    expect(report.reference).toEqual({ year: 2026, basis: 'option' });
    expect(signals.find((s) => s.kind === 'kubelet')?.kind).toBe('kubelet');
  });
});

describe('readBundle with explicit inputs', () => {
  it('reads events, pods, kubelet and logs flags', async () => {
    const { report } = await collect({
      inputs: {
        events: [join(EVENTS, 'watch-pretty.json'), join(EVENTS, 'events-k8s-io-v1-eventlist.json')],
        pods: [join(BUNDLE, 'pods.json')],
        kubelet: [join(JOURNAL, 'kubelet-json.ndjson')],
        logs: [join(BUNDLE, 'var/log/pods')],
      },
    });
    // 11 kill-related lines and one "SyncLoop (probe)" readiness ready line.
    expect(report.stats.signals).toMatchObject({ pod: 1, event: 9, kubelet: 12, app_log: 17 });
    expect(report.stats.files).toMatchObject({ kubernetes: 3, kubelet: 1, containerLogs: 5 });
  });

  it('uses the journal mtime when there are no pods or events, and says so', async () => {
    const { report, codes } = await collect({ inputs: { kubelet: [join(JOURNAL, 'kubelet-cat.txt')] } });
    expect(report.reference.basis).toBe('file-mtime');
    expect(codes).toContain('KT_INPUT_NO_POD_DATA');
  });
});

describe('readBundle on bad input', () => {
  it('diagnoses truncated JSON, binary garbage, invalid UTF-8, huge lines, empty dirs and files', async () => {
    const dir = join(scratch, 'bad');
    mkdirSync(dir, { recursive: true });
    cpSync(join(EVENTS, 'watch-truncated-end.json'), join(dir, 'a-truncated.json'));
    const garbage = Buffer.alloc(4096);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919) % 256;
    writeFileSync(join(dir, 'core'), garbage);
    writeFileSync(join(dir, 'empty.json'), '');
    mkdirSync(join(dir, 'nothing-here'));
    const logDir = join(dir, 'ns_pod-a_uid-1/app');
    mkdirSync(logDir, { recursive: true });
    const huge = 'y'.repeat(5 * 1024 * 1024);
    writeFileSync(
      join(logDir, '0.log'),
      Buffer.concat([
        Buffer.from('2026-01-01T00:00:01Z stdout F caf'),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from(`\n2026-01-01T00:00:02Z stdout F ${huge}\n2026-01-01T00:00:03Z stdout F after\nnot a cri line\n`),
      ]),
    );
    let gzText = '';
    for (let i = 0; i < 3000; i++) gzText += `2026-01-01T00:01:00Z stdout F line ${(i * 7919) % 10007} ${Math.sin(i)}\n`;
    const gz = gzipSync(gzText);
    writeFileSync(join(logDir, '1.log.20260101-000000.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
    const { signals, codes, report } = await collect({ paths: [dir], maxLineChars: 1024 * 1024 });
    expect(codes).toEqual(
      expect.arrayContaining(['KT_INPUT_TRUNCATED_JSON', 'KT_INPUT_BINARY_FILE', 'KT_INPUT_EMPTY_FILE', 'KT_INPUT_INVALID_UTF8', 'KT_INPUT_LINE_TRUNCATED', 'KT_INPUT_BAD_CRI_LINE', 'KT_INPUT_GZIP_ERROR']),
    );
    const logs = signals.filter((s): s is AppLogSignal => s.kind === 'app_log');
    expect(logs[0]?.text).toBe('caf\ufffd(\ufffd');
    expect(logs[1]?.text.length).toBeLessThan(1024 * 1024 + 2048);
    expect(logs[1]?.text).toMatch(/truncated, \d+ chars in all\]$/);
    expect(logs[2]?.text).toBe('after');
    const fromGz = logs.filter((s) => s.restartCount === 1).length;
    expect(fromGz).toBeGreaterThan(100);
    expect(fromGz).toBeLessThan(3000);
    expect(report.stats.signals.event).toBe(2);
  });

  it('reports unreadable and missing paths with the path, and empty directories', async () => {
    const dir = join(scratch, 'perm');
    mkdirSync(join(dir, 'empty'), { recursive: true });
    const secret = join(dir, 'secret.json');
    writeFileSync(secret, readFileSync(join(BUNDLE, 'pods.json')));
    chmodSync(secret, 0o000);
    symlinkSync(join(dir, 'does-not-exist'), join(dir, 'dangling'));
    const missing = join(dir, 'missing.json');
    const { diagnostics, report } = await collect({ paths: [join(dir, 'empty'), dir], inputs: { pods: [missing] } });
    expect(diagnostics).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'KT_INPUT_UNREADABLE', file: missing, severity: 'error' })]));
    expect(diagnostics).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'KT_INPUT_EMPTY_DIR', file: join(dir, 'empty') })]));
    expect(diagnostics).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'KT_INPUT_UNREADABLE', file: join(dir, 'dangling') })]));
    if (process.getuid?.() !== 0) {
      expect(diagnostics).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'KT_INPUT_UNREADABLE', file: secret })]));
    } else {
      expect(report.stats.signals.pod).toBe(1); // root reads anything
    }
    chmodSync(secret, 0o644);
  });

  it('skips CRI-looking files outside the pod log layout', async () => {
    const dir = join(scratch, 'stray');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'app.log'), '2026-01-01T00:00:01Z stdout F hello\n');
    const { codes, report } = await collect({ paths: [dir] });
    expect(codes).toContain('KT_INPUT_BAD_LOG_PATH');
    expect(report.stats.signals.total).toBe(0);
  });
});

describe('iterateBundle', () => {
  it('yields the same signals in the same order, then returns the report', async () => {
    const { signals } = await collect({ paths: [BUNDLE] });
    const items: Signal[] = [];
    let diagnostics = 0;
    const iterator = iterateBundle({ paths: [BUNDLE], highWaterMark: 3 });
    let next = await iterator.next();
    while (!next.done) {
      if (next.value.signal) items.push(next.value.signal);
      else diagnostics++;
      next = await iterator.next();
    }
    expect(items).toEqual(signals);
    expect(diagnostics).toBeGreaterThan(0);
    expect(next.value.stats.signals.total).toBe(signals.length);
  });

  it('stops reading when the consumer breaks out', async () => {
    let seen = 0;
    for await (const item of iterateBundle({ paths: [BUNDLE], highWaterMark: 2 })) {
      if (item.signal) seen++;
      if (seen === 3) break;
    }
    expect(seen).toBe(3);
  });
});

describe('readBundle: kernel logs', () => {
  const KERNEL = new URL('../../../test/fixtures/inputs/kernel-oom', import.meta.url).pathname;
  it('recognises journalctl -k and dmesg -T by content and reads their OOM kills with pod uid and container id', async () => {
    const { signals, report } = await collect({ paths: [KERNEL] });
    expect(report.stats.files).toMatchObject({ kernel: 2, containerLogs: 2, skipped: 0 });
    const kills = signals.filter((s) => s.kind === 'kernel_oom');
    expect(kills).toHaveLength(2);
    for (const k of kills) {
      expect(k).toMatchObject({ podUid: '6a1e2c3d-4b5f-4a6b-8c7d-9e0f1a2b3c4d', containerId: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', process: 'redis-server', memoryLimitBytes: 262144 * 1024 });
    }
  });
  it('reads a file given with --kernel whatever it looks like, and the kernel lines of a mixed node journal', async () => {
    const { signals } = await collect({ inputs: { kernel: [`${KERNEL}/dmesg-T.txt`] } });
    expect(signals.map((s) => s.kind)).toEqual(['kernel_oom']);
    const dir = mkdtempSync(join(tmpdir(), 'killtrace-kernel-'));
    const journal = readFileSync(`${KERNEL}/kernel-journal.txt`, 'utf8');
    const kubeletLine = 'Dec 01 08:01:00.000001 node-a kubelet[811]: I1201 08:01:00.000001     811 prober.go:107] "Probe failed" probeType="Liveness" pod="shop/cache-0" podUID="6a1e2c3d-4b5f-4a6b-8c7d-9e0f1a2b3c4d" containerName="cache" probeResult="failure" output="timeout"\n';
    writeFileSync(join(dir, 'node.log'), kubeletLine + journal);
    const mixed = await collect({ paths: [dir] });
    expect(mixed.report.stats.files).toMatchObject({ kubelet: 1, kernel: 0 });
    expect(mixed.signals.map((s) => s.kind).sort()).toEqual(['kernel_oom', 'kubelet']);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('readBundle: container logs named without uid or incarnation', () => {
  const MIXED = fileURLToPath(new URL('../../../examples/shop-inventory-mixed', import.meta.url));
  const POD = 'shop_inventory-7d5f8b9c6-r5m2j_7d09ff4c-6872-41be-bc43-ec446f34187d';
  // From pods.json: restartCount 1, running; containerID is incarnation 1, lastState's is incarnation 0.
  const CURRENT = 'ee402ac5527984a3e';
  const PREVIOUS = '6136b996b33e10c5e';
  const fullId = (prefix: string): string => {
    const pods = JSON.parse(readFileSync(join(MIXED, 'pods.json'), 'utf8')) as { items: Array<{ status: { containerStatuses?: Array<{ containerID?: string; lastState?: { terminated?: { containerID?: string } } }> } }> };
    const ids = pods.items.flatMap((p) => (p.status.containerStatuses ?? []).flatMap((s) => [s.containerID, s.lastState?.terminated?.containerID]));
    return (ids.find((id) => id?.startsWith(`containerd://${prefix}`)) as string).slice('containerd://'.length);
  };
  const appLogs = (signals: Signal[]): Array<[number, string, string, number]> =>
    signals.filter((s): s is AppLogSignal => s.kind === 'app_log' && s.pod.name === 'inventory-7d5f8b9c6-r5m2j').map((s) => [s.restartCount, s.pod.uid, s.text, s.at]);

  it('places /var/log/containers/<pod>_<ns>_<container>-<id>.log copies by the container ids of the pod status (convertToAPIContainerStatuses)', async () => {
    const dir = mkdtempSync(join(scratch, 'containers-'));
    cpSync(join(MIXED, 'pods.json'), join(dir, 'pods.json'));
    mkdirSync(join(dir, 'containers'));
    cpSync(join(MIXED, 'pods', POD, 'inventory', '1.log'), join(dir, 'containers', `inventory-7d5f8b9c6-r5m2j_shop_inventory-${fullId(CURRENT)}.log`));
    cpSync(join(MIXED, 'pods', POD, 'inventory', '0.log'), join(dir, 'containers', `inventory-7d5f8b9c6-r5m2j_shop_inventory-${fullId(PREVIOUS)}.log`));
    const named = await collect({ paths: [dir] });
    const layout = await collect({ paths: [join(MIXED, 'pods.json')], inputs: { logs: [join(MIXED, 'pods', POD, 'inventory', '1.log'), join(MIXED, 'pods', POD, 'inventory', '0.log')] } });
    expect(appLogs(named.signals).length).toBeGreaterThan(2);
    expect(appLogs(named.signals)).toEqual(appLogs(layout.signals));
  });

  it('reads kubectl logs --previous --timestamps output given with --logs-of as the incarnation lastState describes', async () => {
    const dir = mkdtempSync(join(scratch, 'kubectl-'));
    const cri = readFileSync(join(MIXED, 'pods', POD, 'inventory', '0.log'), 'utf8');
    // kubectl logs --timestamps prints `<RFC3339Nano> <text>`, P chunks already joined by the kubelet.
    const kubectl = cri.replace(/^(\S+) (?:stdout|stderr) F /gm, '$1 ');
    writeFileSync(join(dir, 'previous.txt'), kubectl);
    const viaKubectl = await collect({ paths: [join(MIXED, 'pods.json')], inputs: { kubectlLogs: [{ path: join(dir, 'previous.txt'), namespace: 'shop', pod: 'inventory-7d5f8b9c6-r5m2j', container: 'inventory', previous: true }] } });
    const layout = await collect({ paths: [join(MIXED, 'pods.json')], inputs: { logs: [join(MIXED, 'pods', POD, 'inventory', '0.log')] } });
    expect(appLogs(viaKubectl.signals).every(([k]) => k === 0)).toBe(true);
    expect(appLogs(viaKubectl.signals).map(([, , text]) => text)).toEqual(appLogs(layout.signals).map(([, , text]) => text).filter((t) => kubectl.includes(t)));
    // Recognised by content when the file name says whose it is.
    writeFileSync(join(dir, 'shop_inventory-7d5f8b9c6-r5m2j_inventory_previous.log'), kubectl);
    const byName = await collect({ paths: [join(MIXED, 'pods.json'), join(dir, 'shop_inventory-7d5f8b9c6-r5m2j_inventory_previous.log')] });
    expect(appLogs(byName.signals)).toEqual(appLogs(viaKubectl.signals));
    const unknown = await collect({ inputs: { kubectlLogs: [{ path: join(dir, 'previous.txt'), pod: 'nope', container: 'x', previous: true }] } });
    expect(unknown.diagnostics).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'KT_INPUT_BAD_LOG_PATH', message: expect.stringContaining('no pod nope in the pods input') })]));
  });
});
