import { defineConfig } from 'vitest/config';

const roots = ['packages/*/test', 'services/*/test', 'test', 'proto/test', 'deploy/test'];
/** Integration files that need the machine to themselves (see the `heavy` project). */
const HEAVY = [
  'test/faults/**/*.test.ts',
  'test/e2e/**/*.test.ts',
  'test/security/tenant-isolation.test.ts',
  'test/security/log-secrets.test.ts',
  'services/resman-connector/test/replicas.test.ts',
  'services/resman-connector/test/lead-sync-queue.test.ts',
  'services/channel-gateway/test/webhook-crash.test.ts',
  'services/routing-sla/test/routing-batch.integration.test.ts',
  'packages/runtime/test/platform-streams.process.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 90_000,
    // Service logs go to $DOMIQ_TEST_LOG_DIR; at the end of the run they are scanned for every secret used (a leak fails the run).
    globalSetup: ['./packages/testkit/src/vitest-global-setup.ts'],
    reporters: ['default'],
    projects: [
      {
        extends: true,
        // Pure unit tests (no processes, no database): run in parallel.
        test: { name: 'unit', include: roots.map((r) => `${r}/**/*.unit.test.ts`), fileParallelism: true, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        // Integration suites start real processes against the one PostgreSQL (each file its own database, NATS and
        // ports): two files at a time on 2 cores, after the unit batch (groupOrder) so they never share the machine
        // with it. Most of their time is spent waiting on processes, so two overlap well.
        test: {
          name: 'integration', include: roots.map((r) => `${r}/**/*.test.ts`), exclude: ['**/*.unit.test.ts', '**/node_modules/**', ...HEAVY],
          fileParallelism: true, maxWorkers: 2, sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        // The suites that load the whole machine on purpose (every service, two replicas, bursts, timing of faults):
        // alone, one at a time, last.
        test: { name: 'heavy', include: HEAVY, fileParallelism: false, sequence: { groupOrder: 2 } },
      },
    ],
  },
});
