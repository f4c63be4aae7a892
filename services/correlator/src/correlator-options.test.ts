import { loadConfig } from '@killtrace/config';
import { describe, expect, it } from 'vitest';
import { compileOptions } from './correlator-options.js';

describe('compileOptions', () => {
  it('takes every tuning knob from the validated configuration', () => {
    const config = loadConfig({
      env: {
        KILLTRACE_CLUSTER_NAME: 'c',
        KILLTRACE_CORRELATOR_GROUP_ID: 'g',
        KILLTRACE_CORRELATOR_STATE_WINDOW_MS: '1000',
        KILLTRACE_CORRELATOR_ALLOWED_LATENESS_MS: '10',
        KILLTRACE_CORRELATOR_FLUSH_INTERVAL_MS: '100',
        KILLTRACE_CORRELATOR_MAX_UNFLUSHED: '7',
        KILLTRACE_CORRELATOR_READY_MAX_LAG: '3',
        KILLTRACE_CORRELATOR_RETRY_INITIAL_MS: '5',
        KILLTRACE_CORRELATOR_RETRY_MAX_MS: '50',
        KILLTRACE_CORRELATOR_SHUTDOWN_GRACE_MS: '9',
      },
    });
    expect(compileOptions(config)).toMatchObject({
      groupId: 'g',
      stateWindowMs: 1_000,
      allowedLatenessMs: 10,
      flushIntervalMs: 100,
      maxUnflushedMessages: 7,
      readyMaxLag: 3,
      retryInitialMs: 5,
      retryMaxMs: 50,
      shutdownGraceMs: 9,
    });
  });

  it('derives the consumer group from the Kafka client id when none is configured', () => {
    const config = loadConfig({ env: { KILLTRACE_CLUSTER_NAME: 'c', KILLTRACE_KAFKA_CLIENT_ID: 'kt-prod' } });
    const options = compileOptions(config);
    expect(options.groupId).toBe('kt-prod.correlator');
    expect(options.stateWindowMs).toBe(24 * 3_600_000);
    expect(options.flushIntervalMs).toBe(200);
  });

  it('turns snapshots on by default with the configured topic and cadence, and off on request', () => {
    const on = compileOptions(loadConfig({ env: { KILLTRACE_CLUSTER_NAME: 'c', KILLTRACE_KAFKA_TOPIC_SNAPSHOTS: 'snaps', KILLTRACE_CORRELATOR_SNAPSHOT_INTERVAL_MS: '5000', KILLTRACE_CORRELATOR_SNAPSHOT_EVERY_MESSAGES: '10' } }));
    expect(on.snapshots).toEqual({ topic: 'snaps', intervalMs: 5_000, everyMessages: 10 });
    const off = compileOptions(loadConfig({ env: { KILLTRACE_CLUSTER_NAME: 'c', KILLTRACE_CORRELATOR_SNAPSHOTS: 'false' } }));
    expect(off.snapshots).toBeUndefined();
    expect(on.sessionTimeoutMs).toBe(15_000);
  });
});
