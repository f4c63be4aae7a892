import type { ContainerStatus } from '@killtrace/schemas';

/** What a `/var/log/containers/<pod>_<namespace>_<container>-<id>.log` name tells (no pod uid, no restart count). */
export interface ContainerLogName {
  pod: string;
  namespace: string;
  container: string;
  /** Runtime container id (64 hex digits). */
  containerId: string;
}

const NAME = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)_([a-z0-9]([-a-z0-9]*[a-z0-9])?)_([a-z0-9]([-a-z0-9]*[a-z0-9])?)-([0-9a-f]{64})\.log$/;

/**
 * Parses the kubelet's `/var/log/containers` symlink name, `<pod>_<namespace>_<container>-<container id>.log`
 * (kubelet `BuildContainerLogsDirectory`/`getContainerLogsPath` naming). Names are DNS labels, so the underscores
 * split them and the last `-` before the 64-digit id ends the container name.
 */
export function parseContainerLogName(path: string): ContainerLogName | undefined {
  const file = path.split(/[/\\]/).pop() ?? '';
  const m = NAME.exec(file);
  if (!m) return undefined;
  return { pod: m[1] as string, namespace: m[3] as string, container: m[5] as string, containerId: m[7] as string };
}

/**
 * The incarnation (restart count) a container id belongs to, from the pod status as the kubelet's
 * `convertToAPIContainerStatuses` writes it: `containerID` is the newest container, incarnation `restartCount`;
 * `lastState.terminated` is the one before it while the newest runs (or ended), but the newest itself once it waits
 * in back-off (then both ids are the same container).
 */
export function incarnationOfContainerId(status: ContainerStatus, containerId: string): number | undefined {
  if (status.containerId === containerId) return status.restartCount;
  if (status.state.kind === 'terminated' && status.state.containerId === containerId) return status.restartCount;
  if (status.lastTerminated?.containerId === containerId) {
    const k = status.state.kind === 'waiting' ? status.restartCount : status.restartCount - 1;
    return k >= 0 ? k : undefined;
  }
  return undefined;
}

/**
 * The incarnation `kubectl logs` (`previous` false) or `kubectl logs --previous` (`previous` true) printed: the
 * newest container, or the one `lastState` describes (same rule as `incarnationOfContainerId`).
 */
export function incarnationOfKubectlLogs(status: ContainerStatus, previous: boolean): number | undefined {
  if (!previous) return status.restartCount;
  if (status.lastTerminated === undefined) return undefined;
  const k = status.state.kind === 'waiting' ? status.restartCount : status.restartCount - 1;
  return k >= 0 ? k : undefined;
}
