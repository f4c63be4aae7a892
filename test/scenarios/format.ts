/**
 * How Kubernetes components print times and values. Times are integer epoch microseconds throughout the
 * simulator (exact in a double for the next few centuries), nanoseconds added only when printing CRI lines.
 */

export const US_PER_S = 1_000_000;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function parts(us: number): { d: Date; micros: number } {
  const ms = Math.floor(us / 1000);
  return { d: new Date(ms), micros: us - Math.floor(us / US_PER_S) * US_PER_S };
}

export function parseIso(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`not an ISO time: ${iso}`);
  return ms * 1000;
}

/** `2026-10-02T06:30:00Z`: metav1.Time (second precision, truncated). */
export function isoSeconds(us: number): string {
  return new Date(Math.floor(us / US_PER_S) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `2026-10-02T06:30:00.123Z`: what the restart record keeps. */
export function isoMillis(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString();
}

/** `2026-10-02T06:30:00.123456Z`: metav1.MicroTime. */
export function isoMicros(us: number): string {
  const { d, micros } = parts(us);
  return `${d.toISOString().slice(0, 19)}.${pad(micros, 6)}Z`;
}

/** RFC3339Nano as Go prints it: fraction with trailing zeros trimmed (and no dot at all when zero). */
export function rfc3339Nano(us: number, extraNs: number): string {
  const { d, micros } = parts(us);
  const frac = `${pad(micros, 6)}${pad(extraNs, 3)}`.replace(/0+$/, '');
  return `${d.toISOString().slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
}

/** klog header: `I1002 06:30:45.750000    2211 prober.go:107] `. */
export function klogHeader(severity: 'I' | 'W' | 'E', us: number, pid: number, site: string): string {
  const { d, micros } = parts(us);
  const date = `${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}`;
  const time = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(micros, 6)}`;
  return `${severity}${date} ${time} ${String(pid).padStart(7, ' ')} ${site}] `;
}

/** journalctl prefix (empty for `-o cat`). */
export function journalPrefix(format: 'short-precise' | 'short-iso' | 'short' | 'cat', us: number, host: string, pid: number): string {
  if (format === 'cat') return '';
  const { d, micros } = parts(us);
  const hms = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  const mon = `${MONTHS[d.getUTCMonth()] ?? 'Jan'} ${pad(d.getUTCDate(), 2)}`;
  const tail = ` ${host} kubelet[${pid}]: `;
  if (format === 'short-precise') return `${mon} ${hms}.${pad(micros, 6)}${tail}`;
  if (format === 'short') return `${mon} ${hms}${tail}`;
  return `${d.toISOString().slice(0, 19)}+0000${tail}`;
}

/** A klog structured value: strings quoted like Go's %q; objects as JSON. */
export function klogValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** `10s`, `1m20s`, `5m0s`: Go's time.Duration.String() for whole seconds. */
export function goDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  const s = seconds - m * 60;
  if (m < 60) return `${m}m${s}s`;
  return `${Math.floor(m / 60)}h${m % 60}m${s}s`;
}

/** Rotated log suffix `YYYYMMDD-hhmmss`. */
export function rotationStamp(us: number): string {
  const d = new Date(Math.floor(us / 1000));
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}-${pad(d.getUTCHours(), 2)}${pad(
    d.getUTCMinutes(),
    2,
  )}${pad(d.getUTCSeconds(), 2)}`;
}

/** glog header as the Cloudpods host agent prints it: `[I 261002 06:30:45 hostinfo.go:214] `. */
export function glogPrefix(severity: 'I' | 'W' | 'E', us: number, site: string): string {
  const d = new Date(Math.floor(us / 1000));
  const ymd = `${pad(d.getUTCFullYear() % 100, 2)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}`;
  const hms = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  return `[${severity} ${ymd} ${hms} ${site}] `;
}

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

export function hex(random: () => number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += Math.floor(random() * 16).toString(16);
  return out;
}

export function uuid(random: () => number): string {
  const h = hex(random, 32);
  const variant = '89ab'[Math.floor(random() * 4)] ?? '8';
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
