import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { restartRecordSchema, type RestartRecord } from '@killtrace/schemas';
import { runAnalysis } from '../../services/cli/src/run-analysis.js';
import { CATALOG, writeScenario } from '../scenarios/catalog.js';
import { KUBELET_CONVENTION_CATALOG } from '../scenarios/catalog-kubelet.js';
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

/**
 * The kubelet-convention scenarios (test/scenarios/catalog-kubelet.ts): every expectation a scenario states is
 * asserted on its record, whatever the ground truth's evidence flags say.
 */
describe.each(Object.entries(KUBELET_CONVENTION_CATALOG))('kubelet convention scenario %s', (name, make) => {
  it('gives the records its expectations state, and no others for its pods', async () => {
    const dir = mkdtempSync(join(tmpdir(), `killtrace-${name}-`));
    dirs.push(dir);
    const scenario = make();
    const sim = writeScenario(dir, scenario);
    const result = await runAnalysis({ dir, clusterName: 'test', profiles: scenario.profiles ?? [] });
    for (const record of result.records) expect(() => restartRecordSchema.parse(record)).not.toThrow();
    const expectations = scenario.expect ?? [];
    expect(expectations.length, `${name}: states expectations`).toBeGreaterThan(0);
    for (const e of expectations) {
      const label = `${name}: ${e.pod}/${e.container} #${e.restartCount}`;
      const uid = sim.truth.find((t) => t.pod === e.pod)?.podUid;
      const record = result.records.find((r) => r.kubernetes.pod.uid === uid && r.kubernetes.container.name === e.container && r.killtrace.restart.count === e.restartCount);
      expect(record, `${label}: no record (have ${result.records.map((r) => `${r.kubernetes.container.name}#${r.killtrace.restart.count}`).join(', ')})`).toBeDefined();
      if (!record) continue;
      const kt = record.killtrace;
      const truth = sim.truth.find((t) => t.pod === e.pod && t.container === e.container && t.restartCount === e.restartCount);
      expect(truth, `${label}: a real termination`).toBeDefined();
      // The expectation is the simulator's ground truth, not a transcript of the analyser's output.
      expect(truth?.expectedCause, `${label}: truth cause`).toBe(e.cause);
      expect(truth?.expectedConfidence, `${label}: truth confidence`).toBe(e.confidence);
      if (truth?.evidence.podStatus !== 'none') expect(truth?.exitCode, `${label}: truth exit code`).toBe(e.exitCode);
      if (truth?.evidence.logFile && (scenario.profiles ?? []).length > 0) {
        expect(truth.step, `${label}: truth step`).toBe(e.step);
        expect(truth.duringInit, `${label}: truth during init`).toBe(e.duringInit);
      }
      expect(kt.cause, `${label}: cause`).toBe(e.cause);
      expect(kt.confidence, `${label}: confidence`).toBe(e.confidence);
      expect(kt.exit_code, `${label}: exit code`).toBe(e.exitCode);
      expect(kt.init.step, `${label}: step`).toBe(e.step);
      expect(kt.during_init, `${label}: during init`).toBe(e.duringInit);
      expect(kt.restart.count_source, `${label}: count source`).toBe(e.countSource);
      expect(kt.container.kind, `${label}: container kind`).toBe(e.kind);
      if (e.decidedBy !== undefined) expect(kt.decided_by, `${label}: decided by`).toBe(e.decidedBy);
      if (e.phase !== undefined) expect(kt.init.phase, `${label}: phase`).toBe(e.phase);
      if (e.killEventCount !== undefined) expect(kt.kill_event?.count, `${label}: kill event count`).toBe(e.killEventCount);
      if (e.preStopOutlivedGrace !== undefined) expect(kt.prestop_outlived_grace, `${label}: preStop outlived the grace`).toBe(e.preStopOutlivedGrace);
      if (e.messageIncludes !== undefined) expect(record.message, `${label}: message`).toContain(e.messageIncludes);
      if (e.messageExcludes !== undefined) expect(record.message, `${label}: message`).not.toContain(e.messageExcludes);
    }
    // Nothing invented: every record about the scenario's pods is a real termination.
    const uids = new Set(sim.truth.map((t) => t.podUid));
    for (const record of result.records.filter((r) => uids.has(r.kubernetes.pod.uid))) {
      const truth = sim.truth.find((t) => t.podUid === record.kubernetes.pod.uid && t.container === record.kubernetes.container.name && t.restartCount === record.killtrace.restart.count);
      expect(truth, `${name}: unexpected record ${record.kubernetes.container.name} #${record.killtrace.restart.count} (${record.killtrace.cause})`).toBeDefined();
    }
  });
});
