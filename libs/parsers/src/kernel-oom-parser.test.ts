import { describe, expect, it } from 'vitest';
import type { KernelOomSignal } from '@killtrace/schemas';
import { KernelOomParser, parseKubepodsCgroup } from './kernel-oom-parser.js';

const UID = '6a1e2c3d-4b5f-4a6b-8c7d-9e0f1a2b3c4d';
const ID = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function parse(lines: string[], options: Partial<ConstructorParameters<typeof KernelOomParser>[0]> = {}): { signals: KernelOomSignal[]; parser: KernelOomParser } {
  const parser = new KernelOomParser({ referenceYear: 2026, file: 'kernel.log', ...options });
  const signals: KernelOomSignal[] = [];
  lines.forEach((line, i) => signals.push(...parser.push(line, i + 1)));
  signals.push(...parser.end());
  return { signals, parser };
}

// The lines of one memcg OOM report in the order mm/oom_kill.c prints them: dump_header ("invoked oom-killer"),
// mem_cgroup_print_oom_meminfo ("memory: usage ..., limit ..."), dump_oom_summary ("oom-kill:constraint=..."),
// then __oom_kill_process ("<message>: Killed process ...", message "Memory cgroup out of memory").
const systemdCgroup = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID.replace(/-/g, '_')}.slice/cri-containerd-${ID}.scope`;
const report = (prefix: string): string[] => [
  `${prefix}java invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=968`,
  `${prefix}CPU: 1 PID: 4242 Comm: java Not tainted 6.1.0-18-amd64 #1  Debian 6.1.76-1`,
  `${prefix}memory: usage 524288kB, limit 524288kB, failcnt 1337`,
  `${prefix}swap: usage 0kB, limit 0kB, failcnt 0`,
  `${prefix}Tasks state (memory values in pages):`,
  `${prefix}[   4242]     0  4242  1207334   131500  1134592        0           968 java`,
  `${prefix}oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-${ID}.scope,mems_allowed=0,oom_memcg=${systemdCgroup},task_memcg=${systemdCgroup},task=java,pid=4242,uid=0`,
  `${prefix}Memory cgroup out of memory: Killed process 4242 (java) total-vm:4829336kB, anon-rss:521320kB, file-rss:4680kB, shmem-rss:0kB, UID:0 pgtables:1108kB oom_score_adj:968`,
];

describe('parseKubepodsCgroup (kubelet cgroup naming: cgroupfs and systemd drivers)', () => {
  it('reads the pod uid (underscores of the systemd driver back to dashes) and the container id', () => {
    expect(parseKubepodsCgroup(systemdCgroup)).toEqual({ podUid: UID, containerId: ID });
    expect(parseKubepodsCgroup(`/kubepods/burstable/pod${UID}/${ID}`)).toEqual({ podUid: UID, containerId: ID });
    expect(parseKubepodsCgroup(`/kubepods.slice/kubepods-pod${UID.replace(/-/g, '_')}.slice/crio-${ID}.scope`)).toEqual({ podUid: UID, containerId: ID });
  });
  it('gives the pod alone for a pod-level cgroup and nothing outside kubepods', () => {
    expect(parseKubepodsCgroup(`/kubepods/besteffort/pod${UID}`)).toEqual({ podUid: UID });
    expect(parseKubepodsCgroup('/system.slice/containerd.service')).toEqual({});
    expect(parseKubepodsCgroup(undefined)).toEqual({});
  });
});

describe('KernelOomParser', () => {
  it('joins one report of journalctl -k -o short-precise into a kill with process, pid, limit, usage and cgroup', () => {
    const { signals } = parse(report('Dec 01 08:12:03.123456 node-a kernel: '));
    expect(signals).toHaveLength(1);
    const s = signals[0] as KernelOomSignal;
    expect(s.at).toBeCloseTo(Date.UTC(2026, 11, 1, 8, 12, 3, 123) + 0.456, 6);
    expect(s).toMatchObject({
      kind: 'kernel_oom',
      host: 'node-a',
      podUid: UID,
      containerId: ID,
      process: 'java',
      pid: 4242,
      constraint: 'CONSTRAINT_MEMCG',
      memoryLimitBytes: 524288 * 1024,
      memoryUsageBytes: 524288 * 1024,
      anonRssBytes: 521320 * 1024,
      cgroup: systemdCgroup,
      source: { file: 'kernel.log', line: 8 },
    });
  });

  it('reads short, short-iso, dmesg -T and json forms to the same kill', () => {
    const at = Date.UTC(2026, 11, 1, 8, 12, 3);
    const short = parse(report('Dec 01 08:12:03 node-a kernel: ')).signals;
    const iso = parse(report('2026-12-01T08:12:03+0000 node-a kernel: ')).signals;
    const dmesg = parse(report('[Tue Dec  1 08:12:03 2026] '), { host: 'node-b' }).signals;
    const json = parse(report('').map((m) => JSON.stringify({ __REALTIME_TIMESTAMP: String(at * 1000), _HOSTNAME: 'node-a', _TRANSPORT: 'kernel', MESSAGE: m }))).signals;
    for (const signals of [short, iso, dmesg, json]) {
      expect(signals).toHaveLength(1);
      expect(signals[0]).toMatchObject({ at, podUid: UID, containerId: ID, process: 'java', memoryLimitBytes: 536870912 });
    }
    expect(dmesg[0]?.host).toBe('node-b');
  });

  it('reads the cgroup v1 form of older kernels: "Task in ... killed as a result of limit of ..." and a bare "Killed process"', () => {
    // mem_cgroup_print_oom_info (before 4.19) and oom_kill_process's pr_err("Killed process %d (%s) total-vm:...")
    const cgroup = `/kubepods/burstable/pod${UID}/${ID}`;
    const { signals } = parse([
      'Mar  3 10:00:00 node-a kernel: [1234.5678] stress invoked oom-killer: gfp_mask=0x24000c0, order=0, oom_score_adj=999',
      `Mar  3 10:00:00 node-a kernel: [1234.5679] Task in ${cgroup} killed as a result of limit of /kubepods/burstable/pod${UID}`,
      'Mar  3 10:00:00 node-a kernel: [1234.5680] memory: usage 131072kB, limit 131072kB, failcnt 77',
      'Mar  3 10:00:00 node-a kernel: [1234.5681] Memory cgroup out of memory: Kill process 31337 (stress) score 1999 or sacrifice child',
      'Mar  3 10:00:00 node-a kernel: [1234.5682] Killed process 31337 (stress) total-vm:139548kB, anon-rss:130556kB, file-rss:272kB, shmem-rss:0kB',
    ]);
    expect(signals).toHaveLength(1);
    expect(signals[0]).toMatchObject({ podUid: UID, containerId: ID, process: 'stress', pid: 31337, memoryLimitBytes: 131072 * 1024, cgroup, limitCgroup: `/kubepods/burstable/pod${UID}` });
  });

  it('keeps a summary whose kill line was cut off, and tells two reports apart', () => {
    const first = report('Dec 01 08:12:03 node-a kernel: ').slice(0, 7);
    const second = report('Dec 01 08:20:00 node-a kernel: ');
    const { signals } = parse([...first, ...second]);
    expect(signals.map((s) => [s.process, s.pid, s.at])).toEqual([
      ['java', 4242, Date.UTC(2026, 11, 1, 8, 12, 3)],
      ['java', 4242, Date.UTC(2026, 11, 1, 8, 20, 0)],
    ]);
  });

  it('reports a system OOM (no cgroup limit) without a pod, and ignores every other kernel line', () => {
    const { signals, parser } = parse([
      'Dec 01 09:00:00 node-a kernel: e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex',
      'Dec 01 09:00:01 node-a kernel: oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/system.slice/rsyslog.service,task=rsyslogd,pid=600,uid=0',
      'Dec 01 09:00:01 node-a kernel: Out of memory: Killed process 600 (rsyslogd) total-vm:224000kB, anon-rss:150000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:300kB oom_score_adj:0',
    ]);
    expect(signals).toHaveLength(1);
    expect(signals[0]).toMatchObject({ process: 'rsyslogd', constraint: 'CONSTRAINT_NONE' });
    expect(signals[0]?.podUid).toBeUndefined();
    expect(parser.stats).toEqual({ lines: 3, kills: 1, untimed: 0 });
  });

  it('diagnoses a kill it cannot place in time (journalctl -o cat, plain dmesg)', () => {
    const { signals, parser } = parse(report('[ 8123.456789] '));
    expect(signals).toEqual([]);
    expect(parser.stats.untimed).toBe(1);
    expect(parser.takeDiagnostics()).toEqual([expect.objectContaining({ code: 'KT_INPUT_KERNEL_NO_TIME', file: 'kernel.log', line: 8 })]);
  });

  it('places year-less lines next to the reference time (Dec lines read in January stay in the old year)', () => {
    const { signals } = parse(report('Dec 31 23:59:59 node-a kernel: '), { referenceTime: Date.UTC(2027, 0, 1, 0, 10) });
    expect(signals[0]?.at).toBe(Date.UTC(2026, 11, 31, 23, 59, 59));
  });
});

describe('KernelOomParser on a real report', () => {
  it('reads a cgroup v1 memcg OOM captured with dmesg -T on Linux 6.18 (test/fixtures/inputs/kernel-oom-real)', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(new URL('../../../test/fixtures/inputs/kernel-oom-real/dmesg-T.txt', import.meta.url), 'utf8');
    const { signals } = parse(text.split('\n'));
    expect(signals).toHaveLength(1);
    expect(signals[0]).toMatchObject({
      at: Date.UTC(2026, 11, 1, 9, 18, 6),
      podUid: UID,
      containerId: ID,
      constraint: 'CONSTRAINT_MEMCG',
      process: 'python3',
      pid: 7711,
      memoryLimitBytes: 32768 * 1024,
      memoryUsageBytes: 32768 * 1024,
      anonRssBytes: 32492 * 1024,
    });
  });
});
