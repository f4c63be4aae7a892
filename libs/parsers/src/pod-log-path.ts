/** A container log file's place in the kubelet's `/var/log/pods` layout. */
export interface PodLogPath {
  namespace: string;
  pod: string;
  uid: string;
  container: string;
  /** The incarnation: `N` in `N.log`. */
  restartCount: number;
  /** Rotation time from `N.log.<YYYYMMDD-hhmmss>` (node clock, read as UTC); absent for the live `N.log`. */
  rotatedAt?: number;
  /** The raw `<YYYYMMDD-hhmmss>` suffix, which sorts chronologically as text. */
  rotatedSuffix?: string;
  /** True for `.gz` files. */
  gzip: boolean;
}

const FILE = /^(\d{1,9})\.log(?:\.(\d{8}-\d{6}))?(\.gz)?$/;
const SEGMENT_OK = /^[^\s/\\]+$/;

/**
 * Parses `<namespace>_<pod>_<uid>/<container>/<N>.log`, rotated `N.log.<YYYYMMDD-hhmmss>` and `.gz` forms from the
 * last three segments of any path (`/` or `\` separators). Namespaces and pod names never contain `_`, so the
 * first two underscores split the directory. Returns undefined for anything else.
 */
export function parsePodLogPath(path: string): PodLogPath | undefined {
  if (typeof path !== 'string') return undefined;
  const segments = path.split(/[/\\]/);
  const file = segments[segments.length - 1];
  const container = segments[segments.length - 2];
  const podDir = segments[segments.length - 3];
  if (file === undefined || container === undefined || podDir === undefined) return undefined;
  const m = FILE.exec(file);
  if (!m || !SEGMENT_OK.test(container) || !SEGMENT_OK.test(podDir)) return undefined;
  const first = podDir.indexOf('_');
  const second = first < 0 ? -1 : podDir.indexOf('_', first + 1);
  if (first <= 0 || second <= first + 1 || second === podDir.length - 1) return undefined;
  const result: PodLogPath = {
    namespace: podDir.slice(0, first),
    pod: podDir.slice(first + 1, second),
    uid: podDir.slice(second + 1),
    container,
    restartCount: Number(m[1]),
    gzip: m[3] !== undefined,
  };
  const suffix = m[2];
  if (suffix !== undefined) {
    const at = Date.UTC(
      Number(suffix.slice(0, 4)),
      Number(suffix.slice(4, 6)) - 1,
      Number(suffix.slice(6, 8)),
      Number(suffix.slice(9, 11)),
      Number(suffix.slice(11, 13)),
      Number(suffix.slice(13, 15)),
    );
    result.rotatedSuffix = suffix;
    if (Number.isFinite(at)) result.rotatedAt = at;
  }
  return result;
}

/**
 * Orders one incarnation's files as the kubelet wrote them: rotated files oldest first (gzipped or not), then the
 * live `N.log`. Incarnations are ordered by restart count.
 */
export function comparePodLogPaths(a: PodLogPath, b: PodLogPath): number {
  if (a.restartCount !== b.restartCount) return a.restartCount - b.restartCount;
  const sa = a.rotatedSuffix ?? '\uffff';
  const sb = b.rotatedSuffix ?? '\uffff';
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}
