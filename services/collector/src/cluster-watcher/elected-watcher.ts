import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { ClusterWatcher, ClusterWatcherDeps } from './watcher.js';
import { startClusterWatcher } from './watcher.js';
import { defaultLeaseNamespace, LeaderElector } from './leader-election.js';
import { loadKubeConfig } from './kube.js';

/** A replica of the cluster watcher under leader election: what `startCollector` holds in that mode. */
export interface ElectedClusterWatcher {
  close(): Promise<void>;
  ready(): boolean;
  readiness(): { ok: boolean; detail?: string };
  isLeader(): boolean;
  /** The watcher while this replica leads (tests). */
  active(): ClusterWatcher | undefined;
  /** Stops without releasing the Lease, as a killed process would (tests of the take-over). */
  crash(): Promise<void>;
}

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/**
 * Runs the cluster watcher only while this replica holds the Lease (`clusterWatcher.leaderElection`): a standby
 * starts no informer and publishes nothing; on taking over it lists everything (its de-duplication starts empty,
 * so the current state of every pod is published once more, which the correlator's record ids absorb).
 */
export function startElectedClusterWatcher(deps: ClusterWatcherDeps, env: NodeJS.ProcessEnv = process.env): ElectedClusterWatcher {
  const settings = deps.config.clusterWatcher;
  const kubeConfig = deps.kubeConfig ?? loadKubeConfig(settings.kubeconfig);
  let watcher: ClusterWatcher | undefined;
  let transition: Promise<void> = Promise.resolve();
  const identity = settings.leaseIdentity ?? env.POD_NAME ?? `${hostname()}_${randomUUID().slice(0, 8)}`;
  const namespace =
    settings.leaseNamespace ??
    defaultLeaseNamespace(env, () => {
      try {
        return readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8');
      } catch {
        return undefined;
      }
    });
  const elector = new LeaderElector({
    kubeConfig,
    namespace,
    name: settings.leaseName,
    identity,
    leaseDurationMs: settings.leaseDurationMs,
    renewDeadlineMs: settings.leaseRenewDeadlineMs,
    retryPeriodMs: settings.leaseRetryPeriodMs,
    logger: deps.logger,
    // Serialized: a start never overlaps the stop before it.
    onStartedLeading: () => {
      transition = transition.then(async () => {
        watcher = await startClusterWatcher({ ...deps, kubeConfig });
      });
      return transition;
    },
    onStoppedLeading: () => {
      transition = transition.then(async () => {
        const current = watcher;
        watcher = undefined;
        await current?.close();
      });
      return transition;
    },
  });
  elector.start();
  return {
    async close() {
      await elector.stop(true);
      await transition;
    },
    async crash() {
      await elector.stop(false);
      await transition;
    },
    ready: () => (watcher === undefined ? elector.describe().lastError === undefined : watcher.ready()),
    readiness: () => {
      // A standby that reads the Lease is healthy: ready to take over, nothing to serve until then.
      const election = elector.describe();
      if (watcher === undefined && election.lastError !== undefined) return { ok: false, detail: `standby, cannot read the Lease: ${election.lastError}` };
      if (watcher === undefined) return { ok: true, detail: `standby (Lease ${namespace}/${settings.leaseName} held by ${elector.describe().holder ?? 'nobody yet'})` };
      return watcher.readiness();
    },
    isLeader: () => elector.isLeader(),
    active: () => watcher,
  };
}
