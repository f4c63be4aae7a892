import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ROOT, toolPath } from '../deploy/render.js';

/**
 * docker-compose.yml as Docker Compose v2 loads it (tools/compose-check: compose-go, the loader Compose uses, with
 * the Compose Specification's schema, interpolation and profiles), without an engine.
 */

const summarySchema = z.object({
  name: z.string(),
  services: z.record(
    z.string(),
    z.object({
      image: z.string().optional(),
      build: z.string().optional(),
      buildArgs: z.record(z.string(), z.string()).optional(),
      command: z.array(z.string()).optional(),
      profiles: z.array(z.string()).optional(),
      dependsOn: z.array(z.string()).optional(),
      environment: z.record(z.string(), z.string()).optional(),
    }),
  ),
  disabled: z.array(z.string()),
  volumes: z.array(z.string()),
});

// Resolved (and on a fresh machine built) while the file is collected, outside any test's timeout.
const COMPOSE_CHECK = toolPath('compose-check');
const temp = mkdtempSync(join(tmpdir(), 'killtrace-compose-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function check(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  // A clean environment: COMPOSE_PROFILES or KILLTRACE_* of the developer's shell must not change the result.
  const result = spawnSync(COMPOSE_CHECK, args, { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: temp, ...env } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function load(profiles: string[], env: Record<string, string> = {}): z.infer<typeof summarySchema> {
  const result = check(['-f', 'docker-compose.yml', ...profiles.flatMap((p) => ['--profile', p])], env);
  if (result.status !== 0) throw new Error(`compose-check failed: ${result.stderr}`);
  return summarySchema.parse(JSON.parse(result.stdout));
}

describe('docker-compose.yml, loaded as Compose v2 loads it', () => {
  it('starts Kafka, Elasticsearch, Kibana and the one-shot setup by default, and no Killtrace service', () => {
    const project = load([]);
    expect(project.name).toBe('killtrace');
    expect(Object.keys(project.services).sort()).toEqual(['elasticsearch', 'kafka', 'kibana', 'setup']);
    expect(project.disabled).toEqual(expect.arrayContaining(['correlator', 'demo-replay', 'collector-node-agent']));
  });

  it('the demo profile feeds the example bundle through replay and the correlator, after the Kibana setup', () => {
    const project = load(['demo']);
    expect(Object.keys(project.services).sort()).toEqual(['correlator', 'demo-replay', 'elasticsearch', 'kafka', 'kibana', 'setup']);
    const replay = project.services['demo-replay'];
    expect(replay?.build).toBe('Dockerfile');
    expect(replay?.buildArgs).toEqual({ SERVICE: 'cli' });
    expect(replay?.command).toEqual(['replay', '/bundles/host-agent-crashloop', '--speed', '60']);
    expect(replay?.environment?.KAFKA_BROKERS).toBe('kafka:29092');
    expect(replay?.dependsOn).toEqual(['correlator', 'kafka', 'setup']);
    expect(project.services.correlator?.environment?.ELASTICSEARCH_URL).toBe('http://elasticsearch:9200');
  });

  it('interpolates the demo settings from the environment', () => {
    const project = load(['demo'], { KILLTRACE_DEMO_BUNDLE: 'shop-inventory-mixed', KILLTRACE_DEMO_SPEED: 'max', KILLTRACE_CLUSTER_NAME: 'laptop' });
    expect(project.services['demo-replay']?.command).toEqual(['replay', '/bundles/shop-inventory-mixed', '--speed', 'max']);
    expect(project.services.correlator?.environment?.KILLTRACE_CLUSTER_NAME).toBe('laptop');
  });

  it('builds every Killtrace service from the one Dockerfile, SERVICE naming its workspace', () => {
    const project = load(['collector', 'correlator', 'demo', 'alerter']);
    const built = Object.entries(project.services).filter(([, s]) => s.build !== undefined);
    expect(built.map(([name]) => name).sort()).toEqual(['alerter', 'collector-cluster-watcher', 'collector-node-agent', 'correlator', 'demo-replay', 'setup']);
    for (const [name, service] of built) {
      expect(service.build, name).toBe('Dockerfile');
      const workspace = service.buildArgs?.SERVICE ?? '';
      expect(existsSync(join(ROOT, 'services', workspace, 'package.json')), `${name}: SERVICE=${workspace}`).toBe(true);
      expect(service.image, name).toBe(`killtrace-${workspace}:dev`);
    }
    for (const [name, service] of Object.entries(project.services)) {
      if (service.build === undefined) expect(service.image, name).toMatch(/:v?[0-9][^:]*$/);
    }
  });

  it('rejects what Compose rejects, naming the problem', () => {
    const file = join(temp, 'broken.yml');
    writeFileSync(file, 'services:\n  app:\n    image: busybox:1.37\n    depends_on: [missing]\n');
    const dangling = check(['-f', file]);
    expect(dangling.status).toBe(1);
    expect(dangling.stderr).toMatch(/missing/);
    writeFileSync(file, 'services:\n  app:\n    image: busybox:1.37\n    restart: sometimes-maybe\n    ports: "80"\n');
    const invalid = check(['-f', file]);
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toMatch(/ports/);
    writeFileSync(file, 'services:\n  app:\n    image: "busybox:${TAG:?set TAG}"\n');
    const required = check(['-f', file]);
    expect(required.status).toBe(1);
    expect(required.stderr).toMatch(/set TAG/);
  });
});
