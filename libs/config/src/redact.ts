import type { Config } from './schema.js';
import { secretPaths } from './settings.js';

/** What replaces a secret in dumps and logs. */
export const REDACTED = '[REDACTED]';

/** A deep copy of the configuration with every secret that is set replaced by `[REDACTED]`, safe to log or print. */
export function redactedConfig(config: Config): Config {
  const copy = structuredClone(config) as unknown as Record<string, unknown>;
  for (const key of secretPaths()) {
    const path = key.split('.');
    let node: Record<string, unknown> | undefined = copy;
    for (const part of path.slice(0, -1)) {
      const next: unknown = node?.[part];
      node = typeof next === 'object' && next !== null ? (next as Record<string, unknown>) : undefined;
    }
    const last = path[path.length - 1] as string;
    if (node !== undefined && node[last] !== undefined) node[last] = REDACTED;
  }
  return copy as unknown as Config;
}
