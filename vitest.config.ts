import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

// Tests import workspace packages from source, so `npm test` needs no build first.
const alias = [{ find: /^@killtrace\/([a-z-]+)$/, replacement: `${root}libs/$1/src/index.ts` }];

export default defineConfig({
  resolve: { alias },
  test: {
    // CI also writes a JSON report, from which .ci/run prints the plain "N passed, N failed" line.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: process.env.CI ? { json: '.ci/test-results.json' } : undefined,
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          // Projects run one after another: the e2e tests stop Elasticsearch on purpose, which must not
          // overlap the integration tests that need it.
          sequence: { groupOrder: 0 },
          // A hang guard, not a speed target: the CLI tests analyse whole example bundles (some in child
          // processes), which takes well over vitest's 5 s default on a loaded 2-core machine.
          testTimeout: 30_000,
          include: ['libs/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'test/unit/**/*.test.ts', 'test/fakes/**/*.test.ts', 'test/scenarios/**/*.test.ts'],
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
          // Most of these files wait on servers (consumer-group joins, watches, restarts) rather than compute, so
          // two at a time roughly halve the project's wall time on 2 cores. They are isolated: unique topics,
          // indices, groups, namespaces and Nodes (helpers.ts uniqueSuffix()), ports of their own, and the one file
          // that restarts the API server brings its own (private-kube.ts). docs/decisions/0027-ci-wall-time.md.
          fileParallelism: true,
          maxWorkers: 2,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'e2e',
          sequence: { groupOrder: 2 },
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
