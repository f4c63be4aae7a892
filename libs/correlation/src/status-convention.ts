import type { ContainerStatus, TerminatedState } from '@killtrace/schemas';

/**
 * How the kubelet reports restarts in a container status (pkg/kubelet/kubelet_pods.go,
 * `convertToAPIContainerStatuses`): the status describes the newest container, whose `restartCount` N is the one
 * it was created with (and the `N` of its `N.log`).
 * - running: `state.running` is N, `lastState` is N-1's termination;
 * - waiting after a death (CrashLoopBackOff): the newest container N is dead, the kubelet moves its termination
 *   into `lastState` and reports `waiting`, so `restartCount` is still N and `lastState` is N's OWN termination
 *   (N = 0 included: a first crash shows `restartCount: 0` with a `lastState`);
 * - waiting because the newest container N was created but not started: `lastState` is N-1's;
 * - terminated (restartPolicy Never/OnFailure, or the moment before back-off): `state` is N, `lastState` N-1.
 * Identity decides before arithmetic: in the back-off case the status' `containerID` is the dead container's, the
 * same id as `lastState.terminated.containerID`; a different id means `lastState` is the previous incarnation's.
 */

/** How a restart count was established, most reliable first (`killtrace.restart.count_source`). */
export type CountSource = 'container_id' | 'log_file' | 'start_time' | 'pod_status' | 'event_counts' | 'episode_order' | 'fallback';

export interface StatusTermination {
  restartCount: number;
  state: TerminatedState;
  /** `container_id` when identity placed it, `pod_status` when the restartCount/state convention did. */
  via: 'container_id' | 'pod_status';
}

export interface StatusView {
  terminations: StatusTermination[];
  /** The running incarnation, if any. */
  running?: { restartCount: number; containerId?: string; startedAt?: number };
  /** The newest incarnation that has ended, if the status says. */
  newestEnded?: number;
  /** How many terminations the status counts in all (0..newestEnded). */
  terminationCount: number;
}

/** Reads one container status the way the kubelet writes it. */
export function readStatus(status: ContainerStatus | undefined): StatusView {
  if (!status) return { terminations: [], terminationCount: 0 };
  const n = status.restartCount;
  const last = status.lastTerminated;
  const terminations: StatusTermination[] = [];
  let newestEnded: number | undefined;
  let running: StatusView['running'];
  switch (status.state.kind) {
    case 'running':
      running = { restartCount: n, containerId: status.containerId, startedAt: status.state.startedAt };
      if (last && n > 0) terminations.push({ restartCount: n - 1, state: last, via: 'pod_status' });
      newestEnded = n > 0 ? n - 1 : undefined;
      break;
    case 'terminated': {
      const { kind: _kind, ...state } = status.state;
      terminations.push({ restartCount: n, state, via: 'pod_status' });
      if (last && n > 0) terminations.push({ restartCount: n - 1, state: last, via: 'pod_status' });
      newestEnded = n;
      break;
    }
    case 'waiting':
    case 'unknown':
      if (last) {
        const same = sameId(last, status.containerId);
        // Created but never started: the status id is the new container's, lastState the previous one's.
        if (same === false && n > 0) {
          terminations.push({ restartCount: n - 1, state: last, via: 'container_id' });
          newestEnded = n - 1;
        } else {
          terminations.push({ restartCount: n, state: last, via: same === true ? 'container_id' : 'pod_status' });
          newestEnded = n;
        }
      } else if (n > 0) {
        newestEnded = n - 1;
      }
      break;
  }
  return { terminations, running, newestEnded, terminationCount: newestEnded === undefined ? 0 : newestEnded + 1 };
}

/** True/false when both ids are known, undefined otherwise. */
function sameId(terminated: TerminatedState, statusId: string | undefined): boolean | undefined {
  if (terminated.containerId === undefined || statusId === undefined) return undefined;
  return terminated.containerId === statusId;
}
