import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBundle } from '@killtrace/bundle';
import { Correlator } from '@killtrace/correlation';
import { createLogger } from '@killtrace/logging';
import { createRegistry } from '@killtrace/service-http';
import { createTelemetry } from '../../services/correlator/src/telemetry.js';
import { builtinProfiles } from '@killtrace/profiles';

/**
 * `killtrace_probe_init_margin_seconds` (issue 13): the correlator's /metrics gives, per workload container and node
 * class, what its probes allow for init minus the p90 init seen there. Fed the GPU example's evidence.
 */
describe('killtrace_probe_init_margin_seconds', () => {
  it('reports the margin per workload and node class of the host agent', async () => {
    const correlator = new Correlator({ clusterName: 'test', profiles: builtinProfiles() });
    await readBundle({ paths: [join(import.meta.dirname, '../../examples/host-agent-crashloop')], onSignal: (s) => correlator.ingest(s) });
    const registry = createRegistry('correlator');
    const telemetry = createTelemetry(registry, createLogger({ name: 'gauge-test', level: 'warn', format: 'json' }));
    telemetry.probeMargins(() => correlator.workloadProbes());
    const text = await registry.metrics();
    const lines = text.split('\n').filter((l) => l.startsWith('killtrace_probe_init_margin_seconds{'));
    // The liveness probe allows 30 s + 3 x 5 s = 45 s; CPU nodes finish init in ~12.7 s, the T4 node in ~24.4 s. The
    // 8-GPU class never finished init: no margin to report (killtrace lint reports its kills).
    expect(lines).toHaveLength(2);
    const value = (cls: string): number => Number(lines.find((l) => l.includes(`node_class="${cls}"`))?.split(' ').pop());
    expect(lines[0]).toContain('namespace="onecloud",workload="DaemonSet default-host",container="host"');
    expect(value('instance-type=m6a.8xlarge')).toBeCloseTo(45 - 12.7, 0);
    expect(value('instance-type=g4dn.xlarge,gpu.present=true,gpu.product=Tesla-T4,pci-10de.present=true')).toBeCloseTo(45 - 24.4, 0);
  });
});
