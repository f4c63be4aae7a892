import { describe, expect, it } from 'vitest';
import type { ContainerStatus } from '@killtrace/schemas';
import { incarnationOfContainerId, incarnationOfKubectlLogs, parseContainerLogName, parseKubectlLogName } from './container-log-name.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

describe('parseContainerLogName (/var/log/containers names, kubelet getContainerLogsPath)', () => {
  it('splits <pod>_<namespace>_<container>-<id>.log, the container name may hold dashes', () => {
    expect(parseContainerLogName(`/var/log/containers/web-5b4c-p8s6l_shop_istio-proxy-${A}.log`)).toEqual({ pod: 'web-5b4c-p8s6l', namespace: 'shop', container: 'istio-proxy', containerId: A });
    expect(parseContainerLogName('/var/log/pods/shop_web_uid/web/0.log')).toBeUndefined();
    expect(parseContainerLogName(`web_shop_c-${'a'.repeat(12)}.log`)).toBeUndefined();
  });
});

describe('which incarnation a status names (convertToAPIContainerStatuses)', () => {
  const running: ContainerStatus = { name: 'c', restartCount: 3, containerId: A, ready: true, state: { kind: 'running' }, lastTerminated: { exitCode: 1, containerId: B } };
  const waiting: ContainerStatus = { name: 'c', restartCount: 3, containerId: A, ready: false, state: { kind: 'waiting', reason: 'CrashLoopBackOff' }, lastTerminated: { exitCode: 1, containerId: A } };
  it('while incarnation N runs: containerID is N, lastState is N-1', () => {
    expect(incarnationOfContainerId(running, A)).toBe(3);
    expect(incarnationOfContainerId(running, B)).toBe(2);
    expect(incarnationOfKubectlLogs(running, false)).toBe(3);
    expect(incarnationOfKubectlLogs(running, true)).toBe(2);
  });
  it('in back-off: restartCount is still N and lastState is N itself (kubectl logs and --previous both show N)', () => {
    expect(incarnationOfContainerId(waiting, A)).toBe(3);
    expect(incarnationOfKubectlLogs(waiting, true)).toBe(3);
    expect(incarnationOfKubectlLogs(waiting, false)).toBe(3);
    expect(incarnationOfContainerId(waiting, 'c'.repeat(64))).toBeUndefined();
  });
});

describe('parseKubectlLogName', () => {
  it('reads [<namespace>_]<pod>_<container>[_previous].log|.txt', () => {
    expect(parseKubectlLogName('/tmp/web-1_web_previous.log')).toEqual({ pod: 'web-1', container: 'web', previous: true });
    expect(parseKubectlLogName('shop_web-1_istio-proxy.txt')).toEqual({ namespace: 'shop', pod: 'web-1', container: 'istio-proxy', previous: false });
    expect(parseKubectlLogName('kubelet.log')).toBeUndefined();
    expect(parseKubectlLogName('a_b_c_d.log')).toBeUndefined();
  });
});
