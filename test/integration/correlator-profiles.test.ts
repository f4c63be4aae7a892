import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Correlator } from '@killtrace/correlation';
import { loadProfileFile, mergeProfiles } from '@killtrace/profiles';
import { restartRecordId, type RestartRecord } from '@killtrace/schemas';
import { runAnalysis } from '../../services/cli/src/run-analysis.js';
import {
  buildCorrelator,
  bundleSignals,
  CLUSTER,
  cleanup,
  CorrelatorProcess,
  elasticFor,
  kafkaFor,
  pipelineSetup,
  produceSignals,
  root,
  waitForDocs,
  withoutStatus,
  type PipelineSetup,
} from '../e2e/harness.js';
import { waitFor } from './helpers.js';

/**
 * The correlator process reads `correlation.profiles` at start and again on SIGHUP, keeping its state: incarnations
 * whose logs start after the reload get the new profile, the others keep theirs, nothing is replayed or lost.
 */

const EXAMPLE = join(root, 'examples', 'host-agent-crashloop');
const dir = mkdtempSync(join(tmpdir(), 'kt-it-profiles-'));
const processes: CorrelatorProcess[] = [];
const setups: PipelineSetup[] = [];

/** The built-in `cloudpods-host` profile with the step names of `variant`, the same ready line (same init history). */
function hostProfile(variant: string): string {
  return [
    'profiles:',
    '  - name: cloudpods-host',
    '    match: { namespace: "^onecloud$", pod: "^default-host-", container: "^host$" }',
    '    ready: "Start host service|host is ready"',
    '    steps:',
    `      - { name: probing-${variant}, start: "Start probe host info" }`,
    `      - { name: passthrough-${variant}, start: "bind .* to vfio-pci", end: "vfio-pci bind done" }`,
  ].join('\n');
}

async function analyzeWith(file: string): Promise<Map<string, RestartRecord>> {
  const { records } = await runAnalysis({ dir: EXAMPLE, clusterName: CLUSTER, profiles: await loadProfileFile(file) });
  return new Map(records.map((r) => [restartRecordId(r.kubernetes.pod.uid, r.kubernetes.container.name, r.killtrace.restart.count), withoutStatus(r)]));
}

beforeAll(() => buildCorrelator(), 300_000);

afterAll(async () => {
  for (const p of processes) await p.stop();
  for (const setup of setups) await cleanup(setup, kafkaFor(setup), elasticFor(setup));
});

describe('step profiles in the correlator service', () => {
  it('refuses to start on a broken profile file, naming the file, line and key (exit 2)', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'profiles:\n  - name: a\n    steps:\n      - { name: s, start: "[" }\n');
    // Refused before it connects: no topics to clean up.
    const setup = pipelineSetup('profiles-bad', 1, { KILLTRACE_CORRELATION_PROFILES: bad });
    const p = new CorrelatorProcess(setup.env);
    processes.push(p);
    await p.start();
    expect(await p.waitExit()).toBe(2);
    expect(p.output.join('\n')).toContain(`${bad}:4 profiles.0.steps.0.start: not a valid JavaScript regular expression`);
  });

  it('reloads correlation.profiles on SIGHUP without losing state, and keeps the old ones when the new file is broken', async () => {
    const file = join(dir, 'host.yaml');
    writeFileSync(file, hostProfile('a'));
    const withA = await analyzeWith(file);
    const setup = pipelineSetup('profiles-hup', 1, { KILLTRACE_CORRELATION_PROFILES: file });
    setups.push(setup);
    const kafka = kafkaFor(setup);
    const es = elasticFor(setup);
    const p = new CorrelatorProcess(setup.env);
    processes.push(p);
    await p.start();
    await p.ready();

    // Everything but the logs of the newest incarnation (restart 6).
    const items = await bundleSignals(EXAMPLE);
    const newest = (i: (typeof items)[number]): boolean => i.signal.kind === 'app_log' && i.signal.restartCount === 6;
    await produceSignals(kafka, setup.topics, items.filter((i) => !newest(i)));
    const ids = [...withA.keys()];
    const last = ids.at(-1) as string;
    const core = new Correlator({ clusterName: CLUSTER, profiles: mergeProfiles(await loadProfileFile(file)) });
    for (const { signal } of items.filter((i) => !newest(i))) core.ingest(signal);
    const firstPhase = new Map(core.records().map((r) => [restartRecordId(r.kubernetes.pod.uid, r.kubernetes.container.name, r.killtrace.restart.count), withoutStatus(r)]));
    expect(firstPhase.get(ids[5] as string)?.killtrace.init.step).toBe('passthrough-a');
    expect(firstPhase.get(last)?.killtrace.init.step).toBeNull();
    const before = await waitForDocs(es, setup.alias, firstPhase, 60_000);
    for (const [id, record] of firstPhase) expect(withoutStatus(before.docs.get(id) as RestartRecord)).toEqual(record);

    writeFileSync(file, hostProfile('b'));
    const withB = await analyzeWith(file);
    process.kill(p.pid as number, 'SIGHUP');
    await waitFor('ProfilesReloaded', () => p.output.some((l) => l.includes('"ProfilesReloaded"')), 30_000);
    expect(await p.metric('killtrace_correlator_profile_reloads_total', { result: 'ok' })).toBe(1);

    await produceSignals(kafka, setup.topics, items.filter(newest));
    // Restarts 0-5 keep profile a (their logs were followed before the reload); restart 6 gets b, joined with the
    // kubelet lines and pod status ingested before the reload: exactly what analyze gives with each profile.
    const expected = new Map([...withA].map(([id, r]) => [id, id === last ? (withB.get(id) as RestartRecord) : r]));
    expect(expected.get(last)?.killtrace.init.step).toBe('passthrough-b');
    const final = await waitForDocs(es, setup.alias, expected, 60_000);
    expect(final.total).toBe(expected.size);
    for (const [id, record] of expected) expect(withoutStatus(final.docs.get(id) as RestartRecord)).toEqual(record);

    writeFileSync(file, 'profiles:\n  - name: cloudpods-host\n    ready: "("\n');
    process.kill(p.pid as number, 'SIGHUP');
    await waitFor('ProfilesReloadFailed', () => p.output.some((l) => l.includes('"ProfilesReloadFailed"')), 30_000);
    const failure = p.output.find((l) => l.includes('"ProfilesReloadFailed"')) ?? '';
    expect(failure).toContain(`${file}:3 profiles.0.ready: not a valid JavaScript regular expression`);
    expect(await p.metric('killtrace_correlator_profile_reloads_total', { result: 'failed' })).toBe(1);
    expect(p.running).toBe(true);
    expect((await p.http('/readyz')).status).toBe(200);
  });
});
