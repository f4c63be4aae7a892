import { Counter, Gauge, type Registry } from 'prom-client';

export type InputKind = 'cri' | 'journal';

/** The node agent's metrics (`killtrace_node_agent_*`), registered once per registry. */
export interface NodeAgentMetrics {
  linesRead: Counter<'input'>;
  bytesRead: Counter<'input'>;
  signalsPublished: Counter<'input'>;
  deadLetters: Counter<'input'>;
  malformedLines: Counter<'input'>;
  publishFailures: Counter<'input'>;
  filesFollowed: Gauge;
  rotations: Counter;
  truncations: Counter;
  lostFiles: Counter;
  redactions: Counter;
  checkpointWrites: Counter;
  checkpointAge: Gauge;
  journalFailures: Counter;
  journalHealthy: Gauge;
  kernelJournalFailures: Counter;
  kernelJournalHealthy: Gauge;
}

export function createNodeAgentMetrics(registry: Registry, checkpointAgeSeconds: () => number): NodeAgentMetrics {
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> =>
    new Counter<L>({ name: `killtrace_node_agent_${name}`, help, labelNames, registers });
  return {
    linesRead: counter('lines_read_total', 'Physical lines read (CRI log lines, journal entries).', ['input']),
    bytesRead: counter('bytes_read_total', 'Bytes read from log files (decompressed for .gz).', ['input']),
    signalsPublished: counter('signals_published_total', 'Signals acknowledged by Kafka (joined app log lines, kubelet signals).', ['input']),
    deadLetters: counter('dead_letters_total', 'Signals or lines sent to the dead-letter topic.', ['input']),
    malformedLines: counter('malformed_lines_total', 'Lines that were not in the expected format.', ['input']),
    publishFailures: counter('publish_failures_total', 'Publish attempts that failed (the lines are read again from the checkpoint).', ['input']),
    filesFollowed: new Gauge({ name: 'killtrace_node_agent_files_followed', help: 'Files currently open for reading (live and rotated).', registers }),
    rotations: counter('rotations_total', 'Rotations detected (the followed path names a new file).'),
    truncations: counter('truncations_total', 'Files found shorter than their read offset and read again from 0.'),
    lostFiles: counter('lost_files_total', 'Checkpointed files that could not be found again (their unread lines are lost).'),
    redactions: counter('redactions_total', 'Secrets masked in log text before publishing.'),
    checkpointWrites: counter('checkpoint_writes_total', 'Checkpoints written.'),
    journalFailures: counter('journal_failures_total', 'Times the kubelet journal could not be read: journalctl ended or failed to start, or the journal file was missing.'),
    journalHealthy: new Gauge({
      name: 'killtrace_node_agent_journal_healthy',
      help: '1 while the kubelet journal is being read, 0 while it cannot be (missing file, journalctl failing): kill decisions are not collected then.',
      registers,
    }),
    kernelJournalFailures: counter('kernel_journal_failures_total', 'Times `journalctl -k` (the kernel journal) ended or failed to start.'),
    kernelJournalHealthy: new Gauge({
      name: 'killtrace_node_agent_kernel_journal_healthy',
      help: '1 while the kernel journal is being read, 0 while journalctl -k keeps failing: kernel OOM kills are not collected then.',
      registers,
    }),
    checkpointAge: new Gauge({
      name: 'killtrace_node_agent_checkpoint_age_seconds',
      help: 'Seconds since the last checkpoint write.',
      registers,
      collect() {
        this.set(checkpointAgeSeconds());
      },
    }),
  };
}
