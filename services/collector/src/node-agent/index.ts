/**
 * The collector's node-agent mode: tails the kubelet's container logs, the kubelet's own log and the kernel's
 * messages (OOM kills) on one node and publishes AppLogSignals, KubeletSignals and KernelOomSignals, with durable, acknowledged checkpoints (at least once). Design and
 * guarantees: docs/decisions/0005-node-agent-tailing-and-checkpoints.md.
 */
import { hostname } from 'node:os';
import type { NodeAgentDeps, NodeAgentHandle } from '../node-agent-contract.js';
import { CheckpointStore, type NodeAgentCheckpoint } from './checkpoint-store.js';
import { CriTailer } from './cri-tailer.js';
import { JournalFollower, type JournalSourceSpec } from './journal-follower.js';
import { KernelFollower } from './kernel-follower.js';
import { createNodeAgentMetrics } from './metrics.js';
import { compileRedaction } from './redaction.js';

export { compileRedaction, redact, DEFAULT_REDACTION_PATTERNS, REDACTION_MASK, RedactionPatternError } from './redaction.js';
export { CheckpointStore, CHECKPOINT_FILE, type NodeAgentCheckpoint } from './checkpoint-store.js';
export { journalctlArgs, type JournalSourceSpec } from './journal-follower.js';
export { kernelJournalctlArgs } from './kernel-follower.js';

/** Knobs that are not settings (tests and benchmarks tune them). */
export interface NodeAgentTuning {
  readChunkBytes?: number;
  maxBytesPerPoll?: number;
  maxJournalLinesPerPoll?: number;
  now?: () => number;
}

export type { NodeAgentDeps, NodeAgentHandle } from '../node-agent-contract.js';

function journalSpec(config: NodeAgentDeps['config']['nodeAgent']): JournalSourceSpec | undefined {
  switch (config.journalMode) {
    case 'off':
      return undefined;
    case 'file':
      return { mode: 'file', path: config.journalPath ?? '/var/log/kubelet.log' };
    case 'journalctl':
      return {
        mode: 'journalctl',
        command: config.journalctlCommand,
        unit: config.journalUnit,
        ...(config.journalPath !== undefined ? { directory: config.journalPath } : {}),
      };
  }
}

/**
 * Starts the node agent: loads the checkpoint, starts the journal source, then polls every `pollIntervalMs`:
 * discovery of the log tree, CRI tailing, journal following, checkpoint write (at most every
 * `checkpointIntervalMs`, only acknowledged positions). `close()` finishes the cycle in flight (whose signals are
 * then acknowledged), writes the checkpoint, closes the files and stops journalctl.
 */
export async function startNodeAgent(deps: NodeAgentDeps, tuning: NodeAgentTuning = {}): Promise<NodeAgentHandle> {
  const settings = deps.config.nodeAgent;
  const now = tuning.now ?? Date.now;
  const logger = deps.logger.child({ component: 'node-agent' });
  const nodeName = settings.nodeName ?? hostname();
  const redaction = compileRedaction(settings.redactPatterns, settings.redactDefaults);
  const store = new CheckpointStore(settings.checkpointDir);
  const loaded = await store.load();
  if (loaded.problem !== undefined) logger.warn({ file: store.file, problem: loaded.problem }, 'checkpoint unreadable; reading every log from its start');
  let lastCheckpointAt = now();
  const metrics = createNodeAgentMetrics(deps.registry, () => (now() - lastCheckpointAt) / 1000);

  const tailer = new CriTailer(
    {
      root: settings.logRoot,
      rotateWaitMs: settings.rotateWaitMs,
      readChunkBytes: tuning.readChunkBytes ?? settings.readChunkBytes,
      maxBytesPerPoll: tuning.maxBytesPerPoll ?? settings.maxBytesPerPoll,
      maxBytesInFlight: settings.maxBytesInFlight,
      redaction,
      logMessageVersion: settings.logMessageVersion === 1 ? 1 : 2,
      publisher: deps.publisher,
      metrics,
      logger,
      now,
    },
    { files: loaded.checkpoint.files, savedAt: loaded.checkpoint.savedAt },
  );
  const spec = journalSpec(settings);
  const journal =
    spec === undefined
      ? undefined
      : new JournalFollower({
          source: spec,
          nodeName,
          rotateWaitMs: settings.rotateWaitMs,
          readChunkBytes: tuning.readChunkBytes ?? settings.readChunkBytes,
          maxLinesPerPoll: tuning.maxJournalLinesPerPoll ?? 50_000,
          publisher: deps.publisher,
          podIndex: tailer.podIndex,
          redaction,
          metrics,
          logger,
          now,
        });

  const kernel = settings.kernelJournal
    ? new KernelFollower({
        command: settings.journalctlCommand,
        ...(settings.journalMode === 'journalctl' && settings.journalPath !== undefined ? { directory: settings.journalPath } : {}),
        nodeName,
        maxLinesPerPoll: tuning.maxJournalLinesPerPoll ?? 50_000,
        publisher: deps.publisher,
        metrics,
        logger,
        now,
      })
    : undefined;

  let stopping = false;
  let dirty = false;
  let lastWritten = '';
  const checkpoint = (): NodeAgentCheckpoint => ({
    v: 1,
    savedAt: now(),
    files: tailer.checkpoint(),
    journal: journal?.checkpoint() ?? loaded.checkpoint.journal,
    kernel: kernel?.checkpoint() ?? loaded.checkpoint.kernel,
  });
  const writeCheckpoint = async (force: boolean): Promise<void> => {
    if (!force && now() - lastCheckpointAt < settings.checkpointIntervalMs) return;
    const cp = checkpoint();
    const body = JSON.stringify({ ...cp, savedAt: 0 });
    if (body === lastWritten && !force) {
      lastCheckpointAt = now();
      return;
    }
    await store.save(cp);
    lastWritten = body;
    lastCheckpointAt = now();
    metrics.checkpointWrites.inc();
  };

  // During a long catch-up (many files, each pumped up to maxBytesPerPoll) a checkpoint is written as soon as one is
  // due, between incarnations, instead of once per cycle; one write at a time.
  let writing: Promise<void> | undefined;
  const checkpointIfDue = async (): Promise<void> => {
    if (writing !== undefined || now() - lastCheckpointAt < settings.checkpointIntervalMs) return;
    writing = writeCheckpoint(false).finally(() => {
      writing = undefined;
    });
    await writing;
  };

  const cycle = async (): Promise<void> => {
    await tailer.discover();
    await tailer.pump(() => stopping, checkpointIfDue);
    await journal?.pump(() => stopping);
    await kernel?.pump();
    dirty = true;
  };

  // The first discovery runs before the journal, so kill decisions already resolve pod uids from the log tree.
  await tailer.discover();
  await journal?.start(loaded.checkpoint.journal, loaded.checkpoint.savedAt);
  kernel?.start(loaded.checkpoint.kernel.cursor);
  logger.info({ root: settings.logRoot, journal: spec?.mode ?? 'off', kernelJournal: kernel !== undefined, checkpoint: store.file, resumed: loaded.found, nodeName }, 'node agent started');

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const loop = (): void => {
    running = (async () => {
      try {
        await cycle();
        if (dirty) await writeCheckpoint(false);
      } catch (error) {
        logger.error({ err: error }, 'node agent cycle failed');
      }
      if (!stopping) timer = setTimeout(loop, settings.pollIntervalMs);
    })();
  };
  loop();

  return {
    ready: () => tailer.ready && (journal?.ready ?? true) && (kernel?.ready ?? true) && deps.publisher.connected(),
    readiness: () => {
      // The journal first: its reason (a missing file, a failing journalctl) is what an operator must fix.
      const fromJournal = journal?.readiness() ?? { ok: true };
      if (!fromJournal.ok) return fromJournal;
      const fromKernel = kernel?.readiness() ?? { ok: true };
      if (!fromKernel.ok) return fromKernel;
      if (!tailer.ready) return { ok: false, detail: 'not tailing yet' };
      return deps.publisher.connected() ? { ok: true } : { ok: false, detail: 'producer not connected' };
    },
    async close() {
      if (stopping) return running;
      stopping = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
      try {
        await writeCheckpoint(true);
      } finally {
        await tailer.close();
        await journal?.close();
        await kernel?.close();
        logger.info({ checkpoint: store.file }, 'node agent stopped');
      }
    },
  };
}
