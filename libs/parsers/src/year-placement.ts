import type { YearlessTime } from './k8s-time.js';
import { yearAnchor, yearlessInYear, yearlessNearest, yearlessNotAfter } from './k8s-time.js';

/** How the journal parsers (kubelet, kernel) place timestamps printed without a year (`short`, `short-precise`). */
export interface YearPlacementOptions {
  /**
   * Year for year-less timestamps: the year of the first such line; later lines follow on (Dec -> Jan moves to the
   * next year). Ignored when `referenceTime` is given.
   */
  referenceYear: number;
  /**
   * Preferred: an epoch-ms time near the log's end (e.g. the newest pod/event timestamp). Each year-less timestamp
   * is placed in the year that puts it nearest to this time, which handles Dec -> Jan in either direction and
   * out-of-order lines.
   */
  referenceTime?: number;
  /**
   * Following a live log (the node agent): an epoch-ms time no line can be after (the wall clock when reading).
   * The first year-less line goes in the latest year that does not put it after this time (a day of slack for
   * clock skew) instead of `referenceYear`, so December lines read in January stay in the old year; later lines
   * follow on as with `referenceYear`. Ignored when `referenceTime` is given. A function is asked when that first
   * line arrives (a follower's parser may wait long for it).
   */
  notAfter?: number | (() => number);
}

/** Places year-less timestamps one line after another: each follows on from the last time placed or read. */
export class YearPlacement {
  private anchor: number | undefined;

  constructor(private readonly options: YearPlacementOptions) {}

  /** The epoch-ms time of a year-less timestamp, or undefined when that date does not exist in any near year. */
  place(t: YearlessTime): number | undefined {
    if (this.options.referenceTime !== undefined) return yearlessNearest(t, this.options.referenceTime);
    const notAfter = this.options.notAfter;
    const at =
      this.anchor !== undefined
        ? yearlessNearest(t, this.anchor)
        : notAfter !== undefined
          ? yearlessNotAfter(t, typeof notAfter === 'function' ? notAfter() : notAfter)
          : (yearlessInYear(t, this.options.referenceYear) ?? yearlessNearest(t, yearAnchor(this.options.referenceYear)));
    if (at !== undefined) this.anchor = at;
    return at;
  }

  /** A line with a full timestamp: later year-less lines follow on from it. */
  follow(at: number): void {
    if (this.options.referenceTime === undefined) this.anchor = at;
  }
}
