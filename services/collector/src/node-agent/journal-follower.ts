import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { dirname, basename, join } from 'node:path';
import { readdir, stat } from 'node:fs/promises';
import type { Logger } from '@killtrace/logging';
import { KubeletJournalParser } from '@killtrace/parsers';
import type { KubeletSignal } from '@killtrace/schemas';
import type { SignalPublisher } from '../publish/types.js';
import type { FollowerCheckpoint, NodeAgentCheckpoint } from './checkpoint-store.js';
import { FileFollower, type FileSource, type FollowerEvent } from './file-follower.js';
import { HEALTHY_AFTER_MS, JournalHealth } from './journal-health.js';
import type { NodeAgentMetrics } from './metrics.js';
import { publishSignals } from './publish-signals.js';
import type { PodUidIndex } from './pod-index.js';
import { redact, type CompiledRedaction } from './redaction.js';

export const JOURNAL_STAGE = 'collector.node-agent.journal';

export type JournalCheckpoint = NodeAgentCheckpoint['journal'];

/** Where kubelet log lines come from. */
export type JournalSourceSpec =
  | { mode: 'journalctl'; command: string; unit: string; directory?: string; extraArgs?: readonly string[] }
  | { mode: 'file'; path: string };

export interface JournalFollowerOptions {
  source: JournalSourceSpec;
  nodeName: string;
  rotateWaitMs: number;
  readChunkBytes: number;
  maxLinesPerPoll: number;
  publisher: SignalPublisher;
  podIndex: PodUidIndex;
  /** Applied to probe outputs and kill messages too (exec probe output may echo secrets). */
  redaction: CompiledRedaction;
  metrics: NodeAgentMetrics;
  logger: Logger;
  now: () => number;
}

/** The arguments journalctl is run with: follow the unit as JSON, after the saved cursor (else the last hour). */
export function journalctlArgs(spec: Extract<JournalSourceSpec, { mode: 'journalctl' }>, cursor: string | undefined): string[] {
  return [
    '-u',
    spec.unit,
    '-f',
    '-o',
    'json',
    '--no-pager',
    ...(spec.directory !== undefined ? ['-D', spec.directory] : []),
    ...(cursor !== undefined ? [`--after-cursor=${cursor}`] : ['--since=-1h']),
    ...(spec.extraArgs ?? []),
  ];
}

const CURSOR = /"__CURSOR"\s*:\s*"([^"]*)"/;

/** Does this journal message open a klog multi-line value (`key=<`), or close one (` >`)? */
export function multilineMarker(message: string): 'open' | 'close' | undefined {
  if (/=<$/.test(message)) return 'open';
  if (/^ >(?: |$)/.test(message)) return 'close';
  return undefined;
}

function messageOf(line: string, json: boolean): string {
  if (!json) {
    const m = /^(?:\S+ +\S+ +\S+|\S+T\S+) \S+ [^\s[:]+(?:\[\d+\])?: ?(.*)$/s.exec(line);
    return m ? (m[1] as string) : line;
  }
  if (!line.includes('=<') && !line.includes('" >')) return '';
  try {
    const value = (JSON.parse(line) as { MESSAGE?: unknown }).MESSAGE;
    return typeof value === 'string' ? value : '';
  } catch {
    return '';
  }
}

/** `journalctl ... -f -o json` as a child process whose stdout lines are queued (paused when the queue is long). */
export class JournalctlProcess {
  private child: ChildProcess | undefined;
  private rl: Interface | undefined;
  private queue: string[] = [];
  private paused = false;
  exited = false;
  exitDetail = '';

  constructor(
    private readonly command: string,
    private readonly args: string[],
    private readonly logger: Logger,
  ) {}

  start(): void {
    const child = spawn(this.command, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const stdout = child.stdout;
    if (stdout === null) throw new Error('journalctl has no stdout');
    this.rl = createInterface({ input: stdout, crlfDelay: Infinity });
    this.rl.on('line', (line) => {
      this.queue.push(line);
      if (this.queue.length > 10_000 && !this.paused) {
        this.paused = true;
        this.rl?.pause();
      }
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString('utf8');
    });
    child.on('error', (error) => {
      this.exited = true;
      this.exitDetail = error.message;
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      this.exitDetail = `exit ${code ?? signal}${stderr ? `: ${stderr.trim()}` : ''}`;
    });
    this.logger.info({ command: this.command, args: this.args }, 'following the journal');
  }

  take(max: number): string[] {
    const out = this.queue.splice(0, max);
    if (this.paused && this.queue.length < 1_000) {
      this.paused = false;
      this.rl?.resume();
    }
    return out;
  }

  get queued(): number {
    return this.queue.length;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.rl?.close();
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, 2_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}

/**
 * Follows the kubelet's log (journalctl as JSON, or a plain file with rotation) through KubeletJournalParser,
 * resolves pods without a uid (kill decisions name only ns/name) from the log tree, and publishes KubeletSignals.
 * Positions (journal cursor, file offset) advance only after the publisher acknowledged the signals before them;
 * a klog multi-line value (`key=<` ... ` >`) open at a batch end keeps the position at its first line.
 */
export class JournalFollower {
  private parser: KubeletJournalParser;
  private lineNo = 0;
  private process: JournalctlProcess | undefined;
  private follower: FileFollower | undefined;
  private cursor: string | undefined;
  /** journalctl: cursor before the open multi-line entry; file: its first line. */
  private hold: { cursor: string | undefined } | { source: FileSource; offset: number } | undefined;
  private restartAt = 0;
  private started = false;
  private spawnedAt = 0;
  private readonly health: JournalHealth;

  constructor(private readonly options: JournalFollowerOptions) {
    this.parser = this.newParser();
    this.health = new JournalHealth({
      subject: 'kubelet journal',
      collects: 'kill decisions',
      event: 'Journal',
      healthy: options.metrics.journalHealthy,
      failures: options.metrics.journalFailures,
      logger: options.logger,
    });
  }

  get ready(): boolean {
    return this.started && this.health.ok;
  }

  /** Whether the kubelet journal is being read, and why not: logs may still flow, but kill decisions do not. */
  readiness(): { ok: boolean; detail?: string } {
    if (!this.started) return { ok: false, detail: 'kubelet journal not opened yet' };
    return this.health.ok ? { ok: true } : { ok: false, detail: this.health.detail };
  }

  async start(checkpoint: JournalCheckpoint, savedAt = 0): Promise<void> {
    const { source } = this.options;
    if (source.mode === 'journalctl') {
      this.cursor = checkpoint.cursor;
      this.spawn();
    } else {
      const path = source.path;
      this.follower = new FileFollower(path, {
        rotateWaitMs: this.options.rotateWaitMs,
        now: this.options.now,
        onEvent: (e) => this.onEvent(e),
        listRotated: () => listRotatedLogs(path),
      });
      await this.follower.init(checkpoint.file, savedAt, false);
    }
    this.started = true;
  }

  checkpoint(): JournalCheckpoint {
    if (this.options.source.mode === 'journalctl') return this.cursor !== undefined ? { cursor: this.cursor } : {};
    const file: FollowerCheckpoint | undefined = this.follower?.checkpoint();
    return file !== undefined ? { file } : {};
  }

  async pump(stopping: () => boolean): Promise<void> {
    try {
      if (this.follower !== undefined) await this.pumpFile(stopping);
      else await this.pumpJournalctl();
    } catch (error) {
      this.options.logger.warn({ err: error }, 'reading the kubelet log failed; retrying from its checkpoint');
      await this.rewind();
    }
  }

  async close(): Promise<void> {
    await this.process?.stop();
    await this.follower?.close();
  }

  private newParser(): KubeletJournalParser {
    const file = this.options.source.mode === 'file' ? this.options.source.path : 'journalctl';
    // A live log's lines are never after the wall clock: December lines read in January keep their year.
    return new KubeletJournalParser({ referenceYear: new Date(this.options.now()).getUTCFullYear(), notAfter: () => this.options.now(), host: this.options.nodeName, file });
  }

  private spawn(): void {
    const spec = this.options.source;
    if (spec.mode !== 'journalctl') return;
    this.process = new JournalctlProcess(spec.command, journalctlArgs(spec, this.cursor), this.options.logger);
    this.spawnedAt = this.options.now();
    this.process.start();
  }

  private onEvent(event: FollowerEvent): void {
    if (event.type === 'rotated') this.options.metrics.rotations.inc();
    else if (event.type === 'truncated') this.options.metrics.truncations.inc();
    else if (event.type === 'lost') this.options.metrics.lostFiles.inc();
    this.options.logger.debug({ path: event.path, detail: event.detail }, `kubelet log ${event.type}`);
  }

  private async rewind(): Promise<void> {
    this.parser = this.newParser();
    this.hold = undefined;
    if (this.follower !== undefined) {
      this.follower.rewind();
      return;
    }
    await this.process?.stop();
    this.process = undefined;
    this.restartAt = this.options.now() + 1_000;
  }

  private async pumpJournalctl(): Promise<void> {
    if (this.process === undefined) {
      if (this.options.now() < this.restartAt) return;
      this.spawn();
    }
    const proc = this.process as JournalctlProcess;
    if (!proc.exited && this.options.now() - this.spawnedAt >= HEALTHY_AFTER_MS) this.health.works();
    let budget = this.options.maxLinesPerPoll;
    while (budget > 0) {
      const lines = proc.take(Math.min(budget, 1_000));
      if (lines.length === 0) break;
      this.health.works();
      budget -= lines.length;
      const signals: KubeletSignal[] = [];
      let cursor = this.cursor;
      let hold = this.hold;
      let bytes = 0;
      for (const line of lines) {
        bytes += line.length + 1;
        const marker = multilineMarker(messageOf(line, true));
        if (marker === 'open') hold = { cursor };
        signals.push(...this.parse(line));
        if (marker === 'close') hold = undefined;
        cursor = CURSOR.exec(line)?.[1] ?? cursor;
      }
      this.options.metrics.bytesRead.inc({ input: 'journal' }, bytes);
      if (!(await this.publish(signals))) {
        await this.rewind();
        return;
      }
      this.hold = hold;
      this.cursor = hold !== undefined && 'cursor' in hold ? hold.cursor : cursor;
    }
    if (proc.exited && proc.queued === 0) {
      const delayMs = this.health.ended(proc.exitDetail);
      this.process = undefined;
      this.parser = this.newParser();
      this.hold = undefined;
      this.restartAt = this.options.now() + delayMs;
    }
  }

  /** A configured journal file that does not exist is reported (and counted once per absence), not waited for silently. */
  private async checkFile(path: string): Promise<void> {
    try {
      await stat(path);
      this.health.set(true, '');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      this.health.unreadable(`journal file ${path} ${code === 'ENOENT' ? 'does not exist' : `cannot be read: ${(error as Error).message}`}`);
    }
  }

  private async pumpFile(stopping: () => boolean): Promise<void> {
    const follower = this.follower as FileFollower;
    if (this.options.source.mode === 'file') await this.checkFile(this.options.source.path);
    await follower.poll();
    let budget = this.options.maxLinesPerPoll;
    while (budget > 0 && !stopping()) {
      const batch = await follower.read(this.options.readChunkBytes);
      if (batch === undefined) break;
      budget -= batch.lines.length;
      this.options.metrics.bytesRead.inc({ input: 'journal' }, batch.bytes);
      const signals: KubeletSignal[] = [];
      let hold = this.hold;
      for (const line of batch.lines) {
        const marker = multilineMarker(messageOf(line.text, line.text.startsWith('{')));
        if (marker === 'open') hold = { source: batch.source, offset: line.start };
        signals.push(...this.parse(line.text));
        if (marker === 'close') hold = undefined;
      }
      if (!(await this.publish(signals))) {
        await this.rewind();
        return;
      }
      this.hold = hold;
      follower.commit(batch, hold !== undefined && 'source' in hold ? new Map([[hold.source, hold.offset]]) : new Map());
    }
  }

  private parse(line: string): KubeletSignal[] {
    this.options.metrics.linesRead.inc({ input: 'journal' });
    const signals = this.parser.push(line, ++this.lineNo);
    const malformed = this.parser.takeDiagnostics().length;
    if (malformed > 0) this.options.metrics.malformedLines.inc({ input: 'journal' }, malformed);
    for (const signal of signals) {
      if (signal.output !== undefined) {
        const masked = redact(signal.output, this.options.redaction);
        if (masked.count > 0) {
          signal.output = masked.text;
          this.options.metrics.redactions.inc(masked.count);
        }
      }
      if (signal.pod.uid !== undefined) continue;
      const uid = this.options.podIndex.resolve(signal.pod.namespace, signal.pod.name);
      if (uid !== undefined) signal.pod = { ...signal.pod, uid };
    }
    return signals;
  }

  private publish(signals: KubeletSignal[]): Promise<boolean> {
    return publishSignals(this.options, signals, 'journal', JOURNAL_STAGE, 'kubelet signals');
  }

}

/** logrotate-style siblings of a log file (`kubelet.log.1`, `kubelet.log-20240101.gz`), oldest first. */
async function listRotatedLogs(path: string): Promise<string[]> {
  const dir = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const rotated: { path: string; mtimeMs: number }[] = [];
  for (const name of names) {
    if (name === base || !(name.startsWith(`${base}.`) || name.startsWith(`${base}-`))) continue;
    try {
      const full = join(dir, name);
      rotated.push({ path: full, mtimeMs: (await stat(full)).mtimeMs });
    } catch {
      // gone meanwhile
    }
  }
  return rotated.sort((a, b) => a.mtimeMs - b.mtimeMs).map((r) => r.path);
}
