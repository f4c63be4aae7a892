import type { Diagnostic, Signal } from '@killtrace/schemas';
import type { BundleReport, ReadBundleOptions } from './bundle-options.js';
import { readBundle } from './read-bundle.js';

/** One item of `iterateBundle`. */
export type BundleItem = { signal: Signal; diagnostic?: never } | { diagnostic: Diagnostic; signal?: never };

export type IterateBundleOptions = Omit<ReadBundleOptions, 'onSignal' | 'onDiagnostic'> & {
  /** Items buffered ahead of the consumer before reading pauses (default 1024). */
  highWaterMark?: number;
};

class Cancelled extends Error {
  constructor() {
    super('bundle iteration cancelled');
    this.name = 'Cancelled';
  }
}

/**
 * `readBundle` as an async generator of `{ signal }` / `{ diagnostic }` items (same order), returning the report.
 * Reading pauses while `highWaterMark` items wait; breaking out of the loop stops the read. The callback form is
 * faster for bulk consumers (no per-item promise).
 */
export async function* iterateBundle(options: IterateBundleOptions): AsyncGenerator<BundleItem, BundleReport, undefined> {
  const highWaterMark = options.highWaterMark ?? 1024;
  let queue: BundleItem[] = [];
  let head = 0;
  let done = false;
  let failure: { error: unknown } | undefined;
  let cancelled = false;
  let wakeConsumer: (() => void) | undefined;
  let wakeProducer: (() => void) | undefined;
  const notify = (): void => {
    wakeConsumer?.();
    wakeConsumer = undefined;
  };
  const push = (item: BundleItem): void | Promise<void> => {
    if (cancelled) throw new Cancelled();
    queue.push(item);
    notify();
    if (queue.length - head >= highWaterMark) {
      return new Promise<void>((resolve) => {
        wakeProducer = resolve;
      });
    }
  };
  let report: BundleReport | undefined;
  const running = readBundle({
    ...options,
    onSignal: (signal) => push({ signal }),
    onDiagnostic: (diagnostic) => {
      if (!cancelled) {
        queue.push({ diagnostic });
        notify();
      }
    },
  }).then(
    (r) => {
      report = r;
      done = true;
      notify();
    },
    (error: unknown) => {
      if (!(error instanceof Cancelled)) failure = { error };
      done = true;
      notify();
    },
  );
  try {
    for (;;) {
      if (head < queue.length) {
        const item = queue[head++] as BundleItem;
        if (head > 4096 && head * 2 > queue.length) {
          queue = queue.slice(head);
          head = 0;
        }
        if (wakeProducer && queue.length - head < highWaterMark / 2) {
          const w = wakeProducer;
          wakeProducer = undefined;
          w();
        }
        yield item;
        continue;
      }
      if (done) break;
      await new Promise<void>((resolve) => {
        wakeConsumer = resolve;
      });
    }
    await running;
    if (failure) throw failure.error;
    return report as BundleReport;
  } finally {
    if (!done) {
      cancelled = true;
      const w = wakeProducer;
      wakeProducer = undefined;
      w?.();
      await running;
    }
  }
}
