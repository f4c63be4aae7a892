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

/** Whose `kubectl logs --timestamps` output a file is, when its name says: `[<namespace>_]<pod>_<container>[_previous].log`. */
export interface KubectlLogName {
  namespace?: string;
  pod: string;
  container: string;
  previous: boolean;
}

const LABEL = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * Reads the documented file name for `kubectl logs [--previous] --timestamps` output: `<pod>_<container>.log`,
 * `<namespace>_<pod>_<container>.log`, with `_previous` before the extension for `--previous` (`.txt` works too).
 * Names are DNS labels, so `_` separates them.
 */
export function parseKubectlLogName(path: string): KubectlLogName | undefined {
  const file = path.split(/[/\\]/).pop() ?? '';
  const m = /^(.+?)(?:\.log|\.txt)$/.exec(file);
  if (!m) return undefined;
  const parts = (m[1] as string).split('_');
  const previous = parts[parts.length - 1] === 'previous';
  if (previous) parts.pop();
  if (!parts.every((p) => LABEL.test(p))) return undefined;
  if (parts.length === 2) return { pod: parts[0] as string, container: parts[1] as string, previous };
  if (parts.length === 3) return { namespace: parts[0] as string, pod: parts[1] as string, container: parts[2] as string, previous };
  return undefined;
}
