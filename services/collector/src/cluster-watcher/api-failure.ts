/**
 * What a failed LIST or WATCH means for the operator, as one line: which verb on which resource in which namespace,
 * and for a 403 whether a permission is missing (fix the ClusterRole) or the API server is still warming up its RBAC
 * caches right after its start (wait: its `/readyz` is failing then, and the same request succeeds a moment later).
 */

export type FailureKind = 'forbidden' | 'rbac-warm-up' | 'unauthorized' | 'unreachable' | 'http' | 'other';

export interface ApiFailure {
  kind: FailureKind;
  verb: 'list' | 'watch';
  resource: string;
  /** `undefined`: cluster-wide. */
  namespace: string | undefined;
  status?: number;
  /** One line for the log and `/readyz`. */
  message: string;
}

/** The resource and namespace a core/v1 collection path names (`/api/v1/pods`, `/api/v1/namespaces/ns/events`). */
export function describePath(path: string): { resource: string; namespace: string | undefined } {
  const parts = path.split('?')[0]!.split('/').filter((p) => p !== '');
  const ns = parts.indexOf('namespaces');
  if (ns >= 0 && parts.length > ns + 2) return { resource: parts[ns + 2]!, namespace: decodeURIComponent(parts[ns + 1]!) };
  return { resource: parts[parts.length - 1] ?? path, namespace: undefined };
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  const message = error instanceof Error ? error.message : String(error);
  return [...NETWORK_CODES].find((code) => message.includes(code)) ?? (/socket hang up|timed out|network timeout|premature close|other side closed/i.test(message) ? 'network error' : undefined);
}

/**
 * Classifies a LIST/WATCH failure. `apiServerReady` is the API server's own `/readyz` verdict, asked only for a 403:
 * while it is false the denial is the RBAC warm-up after a start, not a missing permission.
 */
export function classifyApiFailure(error: unknown, verb: 'list' | 'watch', path: string, apiServerReady?: boolean): ApiFailure {
  const { resource, namespace } = describePath(path);
  const where = namespace === undefined ? 'cluster-wide' : `in namespace ${namespace}`;
  const status = statusOf(error);
  const detail = error instanceof Error ? error.message : String(error);
  const base = { verb, resource, namespace, ...(status === undefined ? {} : { status }) };
  if (status === 403) {
    if (apiServerReady === false) {
      return { ...base, kind: 'rbac-warm-up', message: `${verb} ${resource} ${where} answered 403 Forbidden while the API server is not ready yet (its /readyz is failing): RBAC warm-up after its start; retrying` };
    }
    return {
      ...base,
      kind: 'forbidden',
      message: `${verb} ${resource} ${where} answered 403 Forbidden: the watcher's ServiceAccount lacks the permission "${verb}" on "${resource}" (the ClusterRole in deploy/kubernetes/collector-cluster-watcher.yaml grants get, list and watch on pods and events)`,
    };
  }
  if (status === 401) return { ...base, kind: 'unauthorized', message: `${verb} ${resource} ${where} answered 401 Unauthorized: the token is invalid or expired` };
  if (status !== undefined) return { ...base, kind: 'http', message: `${verb} ${resource} ${where} answered HTTP ${status}: ${detail}` };
  const network = networkCode(error);
  if (network !== undefined) return { ...base, kind: 'unreachable', message: `${verb} ${resource} ${where}: the API server is unreachable (${network}): ${detail}` };
  return { ...base, kind: 'other', message: `${verb} ${resource} ${where} failed: ${detail}` };
}
