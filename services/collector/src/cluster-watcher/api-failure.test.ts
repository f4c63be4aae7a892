import { describe, expect, it } from 'vitest';
import { classifyApiFailure, describePath } from './api-failure.js';

const forbidden = Object.assign(new Error('Forbidden'), { statusCode: 403 });

describe('classifyApiFailure', () => {
  it('names the verb, resource and namespace of a 403 and calls it a missing permission while the API server is ready', () => {
    const failure = classifyApiFailure(forbidden, 'watch', '/api/v1/namespaces/shop/events', true);
    expect(failure).toMatchObject({ kind: 'forbidden', verb: 'watch', resource: 'events', namespace: 'shop', status: 403 });
    expect(failure.message).toContain('watch events in namespace shop answered 403 Forbidden: the watcher\'s ServiceAccount lacks the permission "watch" on "events"');
  });

  it('calls a 403 the RBAC warm-up while the API server\'s own /readyz fails (right after its start)', () => {
    const failure = classifyApiFailure(forbidden, 'list', '/api/v1/pods', false);
    expect(failure).toMatchObject({ kind: 'rbac-warm-up', verb: 'list', resource: 'pods', namespace: undefined });
    expect(failure.message).toContain('list pods cluster-wide answered 403 Forbidden while the API server is not ready yet');
  });

  it('tells an unreachable API server from an HTTP error', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:16443'), { code: 'ECONNREFUSED' });
    expect(classifyApiFailure(refused, 'watch', '/api/v1/pods')).toMatchObject({ kind: 'unreachable' });
    expect(classifyApiFailure(new Error('Premature close'), 'watch', '/api/v1/pods')).toMatchObject({ kind: 'unreachable' });
    expect(classifyApiFailure(Object.assign(new Error('Service Unavailable'), { statusCode: 503 }), 'list', '/api/v1/pods')).toMatchObject({ kind: 'http', status: 503 });
    expect(classifyApiFailure(Object.assign(new Error('Unauthorized'), { statusCode: 401 }), 'list', '/api/v1/pods')).toMatchObject({ kind: 'unauthorized' });
  });

  it('reads resource and namespace from core/v1 collection paths', () => {
    expect(describePath('/api/v1/pods?limit=500')).toEqual({ resource: 'pods', namespace: undefined });
    expect(describePath('/api/v1/namespaces/a%2Fb/pods')).toEqual({ resource: 'pods', namespace: 'a/b' });
  });
});
