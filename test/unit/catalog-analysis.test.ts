import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { restartRecordSchema, type RestartRecord } from '@killtrace/schemas';
import { runAnalysis } from '../../services/cli/src/run-analysis.js';
import { CATALOG, writeScenario } from '../scenarios/catalog.js';
import type { TerminationTruth } from '../scenarios/types.js';

/**
 * The analyser against the kubelet simulator's ground truth: every scenario of the catalog (one per cause and
 * confidence level, plus the example stories) is written as a real bundle, analysed as `killtrace analyze` does,
 * and each termination's record is compared with what really happened.
 */

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function recordFor(records: RestartRecord[], t: TerminationTruth): RestartRecord | undefined {
  return records.find((r) => r.kubernetes.pod.uid === t.podUid && r.kubernetes.container.name === t.container && r.killtrace.restart.count === t.restartCount);
}

describe.each(Object.entries(CATALOG))('scenario %s', (name, scenario) => {
  it('explains every termination as the ground truth says', async () => {
    const dir = mkdtempSync(join(tmpdir(), `killtrace-${name}-`));
    dirs.push(dir);
    const sim = writeScenario(dir, scenario());
    const result = await runAnalysis({ dir, clusterName: 'test' });
    for (const record of result.records) expect(() => restartRecordSchema.parse(record)).not.toThrow();
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);

    const scenarioUids = new Set(sim.truth.map((t) => t.podUid));
    for (const t of sim.truth) {
      const label = `${name}: ${t.pod}/${t.container} #${t.restartCount}`;
      const record = recordFor(result.records, t);
      const evidenced = t.evidence.killEvent || t.evidence.kubeletKill || t.evidence.kubeletDeath || t.evidence.podStatus !== 'none' || t.evidence.logFile || t.evidence.unhealthyEvents > 0;
      if (!evidenced) continue;
      expect(record, `${label}: no record`).toBeDefined();
      if (!record) continue;
      const kt = record.killtrace;
      expect(kt.cause, `${label}: cause`).toBe(t.expectedCause);
      expect(kt.confidence, `${label}: confidence`).toBe(t.expectedConfidence);
      expect(kt.probe_induced, `${label}: probe_induced`).toBe(t.expectedCause === 'liveness_probe' || t.expectedCause === 'startup_probe');
      if (t.expectedConfidence === 'high' && t.killedAt && t.evidence.kubeletKill) {
        expect(kt.killed_at, `${label}: killed_at`).not.toBeNull();
        // The journal's kill line follows the decision by microseconds to milliseconds.
        expect(Math.abs(Date.parse(kt.killed_at ?? '') - Date.parse(t.killedAt)), `${label}: killed_at ${kt.killed_at} vs ${t.killedAt}`).toBeLessThan(50);
      }
      if (t.evidence.podStatus !== 'none') expect(kt.exit_code, `${label}: exit code`).toBe(t.exitCode);
      if (t.evidence.logFile && kt.init.profile !== null) {
        expect(kt.init.step, `${label}: step`).toBe(t.step);
        expect(kt.init.completed_steps, `${label}: completed steps`).toEqual(t.completedSteps);
        expect(kt.during_init, `${label}: during init`).toBe(t.duringInit);
      }
      if (t.expectedCause === 'liveness_probe' && t.evidence.kubeletKill) {
        expect(kt.probe.failures, `${label}: failures`).toBe(t.probeFailures);
        expect(kt.probe.first_failure_at, `${label}: first failure`).toBe(t.firstFailureAt);
        expect(kt.probe.last_failure_message, `${label}: last failure message`).toBe(t.lastFailureMessage);
      }
    }
    // Nothing invented: every record about the scenario's pods is a real termination.
    for (const record of result.records.filter((r) => scenarioUids.has(r.kubernetes.pod.uid))) {
      const truth = sim.truth.find((t) => t.podUid === record.kubernetes.pod.uid && t.container === record.kubernetes.container.name && t.restartCount === record.killtrace.restart.count);
      expect(truth, `${name}: unexpected record ${record.kubernetes.pod.name}/${record.kubernetes.container.name} #${record.killtrace.restart.count} (${record.killtrace.cause})`).toBeDefined();
    }
  });
});
