import { defineConfig } from 'vitest/config';

const roots = ['packages/*/test', 'services/*/test', 'test', 'proto/test', 'deploy/test'];

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
        // Integration suites start real processes against the one PostgreSQL: one file at a time on 2 cores, after the
        // unit batch (groupOrder) so they never share the machine with it.
        test: { name: 'integration', include: roots.map((r) => `${r}/**/*.test.ts`), exclude: ['**/*.unit.test.ts', '**/node_modules/**'], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
