import { kubeRequest, type KubeApiServer } from './kube-api.js';

/**
 * What a kubelet writes to the API server, done through the same API calls, so the watcher meets real objects:
 * - pod status through the `status` subresource with a strategic merge patch, as `PatchPodStatus`
 *   (k8s.io/kubernetes pkg/util/pod/pod.go) does for the kubelet's status manager;
 * - core/v1 Events created, then patched with a higher `count` and a new `lastTimestamp` when they repeat, as
 *   client-go's legacy recorder does (`recordEvent` in k8s.io/client-go tools/record/event.go);
 * - events.k8s.io/v1 Events, whose repeats update `series` (client-go tools/events), visible through core/v1 too.
 */

export interface KubePod {
  metadata: { uid: string; name: string; namespace: string; resourceVersion: string };
}

/** A pod already bound to a node, with one container and a liveness probe. */
export function createPod(server: KubeApiServer, namespace: string, name: string): Promise<KubePod> {
  return kubeRequest<KubePod>(server, `/api/v1/namespaces/${namespace}/pods`, {
    method: 'POST',
    body: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: { app: name } },
      spec: {
        nodeName: 'kt-node-1',
        automountServiceAccountToken: false,
        containers: [{ name: 'app', image: 'registry.example/app:1.0', livenessProbe: { httpGet: { path: '/livez', port: 8080 }, periodSeconds: 10, failureThreshold: 3 } }],
      },
    },
  });
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The kubelet's status patch: the container running with `restartCount`, after a termination when given. */
export function patchContainerStatus(
  server: KubeApiServer,
  namespace: string,
  name: string,
  state: { restartCount: number; startedAt: number; lastTerminated?: { exitCode: number; reason: string; startedAt: number; finishedAt: number } },
): Promise<KubePod> {
  const lastState = state.lastTerminated === undefined
    ? {}
    : { terminated: { exitCode: state.lastTerminated.exitCode, reason: state.lastTerminated.reason, startedAt: iso(state.lastTerminated.startedAt), finishedAt: iso(state.lastTerminated.finishedAt), containerID: `containerd://${name}-${state.restartCount - 1}` } };
  return kubeRequest<KubePod>(server, `/api/v1/namespaces/${namespace}/pods/${name}/status`, {
    method: 'PATCH',
    contentType: 'application/strategic-merge-patch+json',
    body: {
      status: {
        phase: 'Running',
        startTime: iso(state.startedAt),
        containerStatuses: [
          {
            name: 'app',
            image: 'registry.example/app:1.0',
            imageID: 'registry.example/app@sha256:0000000000000000000000000000000000000000000000000000000000000000',
            containerID: `containerd://${name}-${state.restartCount}`,
            ready: true,
            started: true,
            restartCount: state.restartCount,
            state: { running: { startedAt: iso(state.startedAt) } },
            lastState,
          },
        ],
      },
    },
  });
}

/** Only a condition's heartbeat moves (what the status manager also writes): nothing Killtrace reads. */
export function patchConditionOnly(server: KubeApiServer, namespace: string, name: string, at: number): Promise<KubePod> {
  return kubeRequest<KubePod>(server, `/api/v1/namespaces/${namespace}/pods/${name}/status`, {
    method: 'PATCH',
    contentType: 'application/strategic-merge-patch+json',
    body: { status: { conditions: [{ type: 'PodReadyToStartContainers', status: 'True', lastTransitionTime: iso(at) }] } },
  });
}

export interface CoreEventInput {
  name: string;
  pod: KubePod;
  reason: string;
  message: string;
  type?: 'Normal' | 'Warning';
  at: number;
}

/** A core/v1 Event from the kubelet about a container, count 1. */
export function createCoreEvent(server: KubeApiServer, input: CoreEventInput): Promise<unknown> {
  const { pod } = input;
  return kubeRequest(server, `/api/v1/namespaces/${pod.metadata.namespace}/events`, {
    method: 'POST',
    body: {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: input.name, namespace: pod.metadata.namespace },
      involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid, fieldPath: 'spec.containers{app}' },
      reason: input.reason,
      message: input.message,
      type: input.type ?? 'Normal',
      source: { component: 'kubelet', host: 'kt-node-1' },
      firstTimestamp: iso(input.at),
      lastTimestamp: iso(input.at),
      count: 1,
      reportingComponent: 'kubelet',
      reportingInstance: 'kt-node-1',
    },
  });
}

/** The recorder's patch for a repeat of the same event: count and lastTimestamp (and message) only. */
export function repeatCoreEvent(server: KubeApiServer, namespace: string, name: string, count: number, at: number, message?: string): Promise<unknown> {
  return kubeRequest(server, `/api/v1/namespaces/${namespace}/events/${name}`, {
    method: 'PATCH',
    contentType: 'application/strategic-merge-patch+json',
    body: { count, lastTimestamp: iso(at), ...(message === undefined ? {} : { message }) },
  });
}

/** An events.k8s.io/v1 Event (eventTime with microseconds, `regarding`, `note`). */
export function createEventsV1(server: KubeApiServer, input: CoreEventInput): Promise<unknown> {
  const { pod } = input;
  return kubeRequest(server, `/apis/events.k8s.io/v1/namespaces/${pod.metadata.namespace}/events`, {
    method: 'POST',
    body: {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: input.name, namespace: pod.metadata.namespace },
      eventTime: new Date(input.at).toISOString().replace('Z', '000Z'),
      reportingController: 'kubelet',
      reportingInstance: 'kt-node-1',
      action: 'Killing',
      reason: input.reason,
      note: input.message,
      type: input.type ?? 'Normal',
      regarding: { kind: 'Pod', apiVersion: 'v1', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid, fieldPath: 'spec.containers{app}' },
    },
  });
}

/** A repeat in the events.k8s.io/v1 API: `series` (count, lastObservedTime), as client-go tools/events does. */
export function repeatEventsV1(server: KubeApiServer, namespace: string, name: string, count: number, at: number): Promise<unknown> {
  return kubeRequest(server, `/apis/events.k8s.io/v1/namespaces/${namespace}/events/${name}`, {
    method: 'PATCH',
    contentType: 'application/merge-patch+json',
    body: { series: { count, lastObservedTime: new Date(at).toISOString().replace('Z', '000Z') } },
  });
}
