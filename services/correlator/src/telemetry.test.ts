import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createLogger } from '@killtrace/logging';
import { killRecord } from '../../../test/fixtures/alerting/records.js';
import { createTelemetry } from './telemetry.js';

describe('correlator restart metrics', () => {
  it('counts each restart once across its provisional and final records, and observes the step at the final one', async () => {
    const registry = new Registry();
    const telemetry = createTelemetry(registry, createLogger({ name: 'unit', level: 'silent', format: 'json' }));
    const provisional = killRecord({ restart: 5, status: 'provisional', step: null });
    const final = killRecord({ restart: 5, status: 'final' });
    const other = killRecord({ restart: 6, status: 'final', duringInit: false, step: null });
    telemetry.recordsWritten(0, [provisional], 0, 1);
    telemetry.recordsWritten(0, [final, other], 0, 1);
    telemetry.recordsWritten(0, [final], 0, 1);

    const restarts = await registry.getSingleMetric('killtrace_restarts_total')?.get();
    expect(restarts?.values.map((v) => [v.labels, v.value])).toEqual([
      [{ namespace: 'onecloud', workload: 'default-host', container: 'host', cause: 'liveness_probe', probe_induced: 'true', during_init: 'true' }, 1],
      [{ namespace: 'onecloud', workload: 'default-host', container: 'host', cause: 'liveness_probe', probe_induced: 'true', during_init: 'false' }, 1],
    ]);
    const text = await registry.metrics();
    expect(text).toContain('killtrace_init_step_elapsed_seconds_count{namespace="onecloud",workload="default-host",container="host",step="gpu-vfio-bind"} 1');
    expect(text).toContain('killtrace_init_step_elapsed_seconds_sum{namespace="onecloud",workload="default-host",container="host",step="gpu-vfio-bind"} 37.833');
    expect(text).not.toMatch(/pod=/);
  });
});
