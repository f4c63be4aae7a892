/** What every `bench/*.bench.ts` exports (default): a named case that returns rows for the summary table. */
export interface BenchOptions {
  /** Size of the generated container logs (`--log-mb`, env `KILLTRACE_BENCH_LOG_MB`). */
  logMb: number;
  /** Keep generated data (`--keep`). */
  keep: boolean;
  /** Fresh processes per measurement (`--runs`, default 1); the fastest counts (the machine may be busy). */
  runs: number;
  /** `--smoke`: every case at a tiny size, to prove the benchmarks still work (targets are not judged). */
  smoke: boolean;
  /** Prints a table of peers side by side (after the summary). */
  report(table: PeerTable): void;
}

/** One table of a case: a column per peer (or per size), a row per figure. */
export interface PeerTable {
  title: string;
  columns: string[];
  rows: Array<{ metric: string; cells: string[] }>;
  /** Lines printed under the table (how it was measured). */
  notes?: string[];
}

export interface BenchRow {
  metric: string;
  value: number | string;
  unit?: string;
  /** Human-readable target, e.g. `>= 0.5`. */
  target?: string;
  /** Whether the target is met (absent when there is no target). */
  ok?: boolean;
}

export interface BenchCase {
  name: string;
  description: string;
  run(options: BenchOptions): Promise<BenchRow[]>;
}
