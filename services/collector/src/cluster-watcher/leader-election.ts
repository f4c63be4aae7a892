import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '@killtrace/logging';
import { sendJson } from './kube.js';

/**
 * Leader election through a `coordination.k8s.io/v1` Lease, following client-go's LeaderElector
 * (`tryAcquireOrRenew` and `release` in k8s.io/client-go tools/leaderelection/leaderelection.go):
 * - a replica takes the Lease when it does not exist (create) or when its holder has not renewed it for
 *   `leaseDurationSeconds` as measured on OUR clock since we last saw the record change (`observedTime`), so clock
 *   skew between replicas does not matter; taking it over increments `leaseTransitions`;
 * - the leader renews every retry period (update with the resourceVersion it read: a concurrent writer makes the
 *   update fail with 409 and the leader re-reads); when it cannot renew for `renewDeadline` it stops leading;
 * - on a graceful stop the leader releases the Lease (no holder, duration 1 s), so a standby takes over at once.
 * Only the named Lease is ever read or written (the RBAC Role in deploy/kubernetes grants exactly that).
 */

export interface LeaderElectionOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  logger: Logger;
  /** Called once when this replica becomes the leader. */
  onStartedLeading: () => Promise<void> | void;
  /** Called once when it stops leading (lost the Lease or stopped). */
  onStoppedLeading: (reason: string) => Promise<void> | void;
  now?: () => number;
}

interface LeaseObject {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

/** Kubernetes MicroTime (RFC 3339 with microseconds), as the Lease's acquireTime and renewTime require. */
const microTime = (ms: number): string => new Date(ms).toISOString().replace('Z', '000Z');

const statusOf = (error: unknown): number | undefined => {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
};

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private observed: LeaseObject | undefined;
  private observedRaw = '';
  private observedAt = 0;
  private lastRenewal = 0;
  private lastError: string | undefined;
  private lastKind = '';
  private readonly now: () => number;
  private readonly path: string;

  constructor(private readonly options: LeaderElectionOptions) {
    this.now = options.now ?? Date.now;
    this.path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(options.namespace)}/leases`;
  }

  /** Starts trying to acquire (then renew) the Lease every retry period. */
  start(): void {
    this.stopped = false;
    this.options.logger.info({ lease: `${this.options.namespace}/${this.options.name}`, identity: this.options.identity }, 'leader election: standing by until this replica holds the Lease');
    void this.tick();
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** For `/readyz` and logs: leading, or standing by behind whom. */
  describe(): { leader: boolean; holder?: string; lastError?: string } {
    return { leader: this.leading, ...(this.observed?.spec.holderIdentity ? { holder: this.observed.spec.holderIdentity } : {}), ...(this.lastError === undefined ? {} : { lastError: this.lastError }) };
  }

  /** Stops electing; a leader stops leading and releases the Lease so that a standby takes over without waiting. */
  async stop(release = true): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    await this.options.onStoppedLeading('stopped');
    if (release) await this.release();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.options.retryPeriodMs);
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const ok = await this.tryAcquireOrRenew();
    if (this.stopped) return;
    if (ok && !this.leading) {
      this.leading = true;
      this.lastRenewal = this.now();
      this.options.logger.info({ lease: `${this.options.namespace}/${this.options.name}`, identity: this.options.identity, transitions: this.observed?.spec.leaseTransitions }, 'leader election: this replica holds the Lease and leads');
      await this.options.onStartedLeading();
    } else if (ok) {
      this.lastRenewal = this.now();
    } else if (this.leading && this.now() - this.lastRenewal > this.options.renewDeadlineMs) {
      this.leading = false;
      const reason = `could not renew the Lease for ${this.options.renewDeadlineMs} ms${this.lastError === undefined ? '' : `: ${this.lastError}`}`;
      this.options.logger.warn({ code: 'KT_ERR_COLLECTOR_LEASE', lease: `${this.options.namespace}/${this.options.name}`, identity: this.options.identity }, `leader election: lost the Lease (${reason}); stopping the watch`);
      await this.options.onStoppedLeading(reason);
    }
    this.schedule();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { name, namespace, identity, leaseDurationMs, kubeConfig } = this.options;
    const now = this.now();
    let current: LeaseObject;
    try {
      current = (await sendJson(kubeConfig, 'GET', `${this.path}/${encodeURIComponent(name)}`)) as LeaseObject;
    } catch (error) {
      if (statusOf(error) !== 404) return this.failed('reading', error);
      const created: LeaseObject = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace },
        spec: { holderIdentity: identity, leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000), acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
      };
      try {
        this.observe((await sendJson(kubeConfig, 'POST', this.path, created)) as LeaseObject);
        return this.succeeded();
      } catch (createError) {
        return this.failed('creating', createError);
      }
    }
    this.observe(current);
    const holder = current.spec.holderIdentity ?? '';
    const durationMs = (current.spec.leaseDurationSeconds ?? Math.ceil(leaseDurationMs / 1000)) * 1000;
    const valid = this.observedAt + durationMs > now;
    if (holder !== '' && holder !== identity && valid) {
      this.lastError = undefined;
      return false;
    }
    const mine = holder === identity;
    const updated: LeaseObject = {
      ...current,
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
        acquireTime: mine && current.spec.acquireTime !== undefined ? current.spec.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: (current.spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
      },
    };
    try {
      this.observe((await sendJson(kubeConfig, 'PUT', `${this.path}/${encodeURIComponent(name)}`, updated)) as LeaseObject);
      return this.succeeded();
    } catch (error) {
      return this.failed(mine ? 'renewing' : 'taking over', error);
    }
  }

  /** Remembers the record and, when it changed, when we saw it change (client-go's observedTime). */
  private observe(lease: LeaseObject): void {
    const raw = JSON.stringify(lease.spec);
    if (raw !== this.observedRaw) {
      this.observedRaw = raw;
      this.observedAt = this.now();
    }
    this.observed = lease;
  }

  private succeeded(): true {
    if (this.lastError !== undefined) this.options.logger.info({ lease: `${this.options.namespace}/${this.options.name}` }, 'leader election: the Lease answers again');
    this.lastError = undefined;
    return true;
  }

  /** One line per failure kind change (step and HTTP status), not per retry. */
  private failed(what: string, error: unknown): false {
    const message = `${what} Lease ${this.options.namespace}/${this.options.name}: ${error instanceof Error ? error.message : String(error)}`;
    const kind = `${what}:${String(statusOf(error))}`;
    if (this.lastError === undefined || kind !== this.lastKind) {
      this.options.logger.warn({ code: 'KT_ERR_COLLECTOR_LEASE', status: statusOf(error), identity: this.options.identity }, `leader election: ${message}; retrying every ${this.options.retryPeriodMs} ms`);
    }
    this.lastKind = kind;
    this.lastError = message;
    return false;
  }

  private async release(): Promise<void> {
    const { name, kubeConfig } = this.options;
    try {
      const current = (await sendJson(kubeConfig, 'GET', `${this.path}/${encodeURIComponent(name)}`)) as LeaseObject;
      if (current.spec.holderIdentity !== this.options.identity) return;
      const now = this.now();
      await sendJson(kubeConfig, 'PUT', `${this.path}/${encodeURIComponent(name)}`, {
        ...current,
        spec: { leaseDurationSeconds: 1, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: current.spec.leaseTransitions ?? 0 },
      });
      this.options.logger.info({ lease: `${this.options.namespace}/${this.options.name}` }, 'leader election: released the Lease');
    } catch (error) {
      this.options.logger.warn({ code: 'KT_ERR_COLLECTOR_LEASE', err: (error as Error).message }, 'leader election: could not release the Lease; a standby takes over once it expires');
    }
  }
}

/** The Lease namespace when not configured: the pod's (downward API or service-account mount), else `killtrace`. */
export function defaultLeaseNamespace(env: NodeJS.ProcessEnv, readNamespaceFile: () => string | undefined): string {
  return env.POD_NAMESPACE ?? readNamespaceFile()?.trim() ?? 'killtrace';
}
