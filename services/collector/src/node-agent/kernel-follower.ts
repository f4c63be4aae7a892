import type { Logger } from '@killtrace/logging';
import { KernelOomParser } from '@killtrace/parsers';
import type { KernelOomSignal } from '@killtrace/schemas';
import type { SignalPublisher } from '../publish/types.js';
import { JournalctlProcess } from './journal-follower.js';
import { HEALTHY_AFTER_MS, JournalHealth } from './journal-health.js';
import type { NodeAgentMetrics } from './metrics.js';
import { publishSignals } from './publish-signals.js';

export const KERNEL_STAGE = 'collector.node-agent.kernel';

export interface KernelFollowerOptions {
  /** journalctl executable (`nodeAgent.journalctlCommand`). */
  command: string;
  /** Journal directory (`-D`), when the journal is not in its default place. */
  directory?: string;
  nodeName: string;
  maxLinesPerPoll: number;
  publisher: SignalPublisher;
  metrics: NodeAgentMetrics;
  logger: Logger;
  now: () => number;
}

/** The arguments `journalctl` is run with for the kernel's messages: follow as JSON, after the saved cursor (else the last hour). */
export function kernelJournalctlArgs(directory: string | undefined, cursor: string | undefined): string[] {
  return ['-k', '-f', '-o', 'json', '--no-pager', ...(directory !== undefined ? ['-D', directory] : []), ...(cursor !== undefined ? [`--after-cursor=${cursor}`] : ['--since=-1h'])];
}

const CURSOR = /"__CURSOR"\s*:\s*"([^"]*)"/;

/**
 * Follows `journalctl -k -f -o json` through KernelOomParser and publishes the kernel's OOM kills (keyed by the pod
 * uid of their cgroup path, so they meet the pod's other signals in one partition). The cursor advances only past
 * acknowledged kills, and never into an OOM report whose kill line has not come yet: a restart reads the whole
 * report again (its cgroup and limit lines come before the kill).
 */
export class KernelFollower {
  private parser: KernelOomParser;
  private process: JournalctlProcess | undefined;
  private cursor: string | undefined;
  /** The cursor before the first line of an OOM report still open. */
  private hold: { cursor: string | undefined } | undefined;
  private restartAt = 0;
  private started = false;
  private lineNo = 0;
  private spawnedAt = 0;
  private readonly health: JournalHealth;

  constructor(private readonly options: KernelFollowerOptions) {
    this.parser = this.newParser();
    this.health = new JournalHealth({
      subject: 'kernel journal',
      collects: 'kernel OOM kills',
      event: 'KernelJournal',
      healthy: options.metrics.kernelJournalHealthy,
      failures: options.metrics.kernelJournalFailures,
      logger: options.logger,
    });
  }

  get ready(): boolean {
    return this.started && this.health.ok;
  }

  /** Whether the kernel journal is being read, and why not: the other inputs may still flow, but OOM kills do not. */
  readiness(): { ok: boolean; detail?: string } {
    if (!this.started) return { ok: false, detail: 'kernel journal not opened yet' };
    return this.health.ok ? { ok: true } : { ok: false, detail: `kernel journal: ${this.health.detail}` };
  }

  start(cursor: string | undefined): void {
    this.cursor = cursor;
    this.spawn();
    this.started = true;
  }

  checkpoint(): { cursor?: string } {
    return this.cursor !== undefined ? { cursor: this.cursor } : {};
  }

  async pump(): Promise<void> {
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
      const kills: KernelOomSignal[] = [];
      let cursor = this.cursor;
      let hold = this.hold;
      for (const line of lines) {
        this.options.metrics.linesRead.inc({ input: 'kernel' });
        const before = cursor;
        const wasPending = this.parser.pending;
        kills.push(...this.parser.push(line, ++this.lineNo));
        if (!this.parser.pending) hold = undefined;
        else if (!wasPending) hold = { cursor: before };
        cursor = CURSOR.exec(line)?.[1] ?? cursor;
      }
      this.options.metrics.bytesRead.inc({ input: 'kernel' }, lines.reduce((n, l) => n + l.length + 1, 0));
      if (!(await this.publish(kills))) {
        await this.restart();
        return;
      }
      this.hold = hold;
      this.cursor = hold !== undefined ? hold.cursor : cursor;
    }
    if (proc.exited && proc.queued === 0) {
      const delayMs = this.health.ended(proc.exitDetail);
      this.process = undefined;
      this.parser = this.newParser();
      this.hold = undefined;
      this.restartAt = this.options.now() + delayMs;
    }
  }

  async close(): Promise<void> {
    await this.process?.stop();
  }

  private newParser(): KernelOomParser {
    return new KernelOomParser({ referenceYear: new Date(this.options.now()).getUTCFullYear(), notAfter: () => this.options.now(), host: this.options.nodeName, file: 'journalctl -k' });
  }

  private spawn(): void {
    this.process = new JournalctlProcess(this.options.command, kernelJournalctlArgs(this.options.directory, this.cursor), this.options.logger);
    this.spawnedAt = this.options.now();
    this.process.start();
  }

  private async restart(): Promise<void> {
    await this.process?.stop();
    this.process = undefined;
    this.parser = this.newParser();
    this.hold = undefined;
    this.restartAt = this.options.now() + 1_000;
  }

  private publish(kills: KernelOomSignal[]): Promise<boolean> {
    return publishSignals(this.options, kills, 'kernel', KERNEL_STAGE, 'kernel OOM kills');
  }

}
