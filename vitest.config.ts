import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'test/**/*.test.ts', 'proto/test/**/*.test.ts', 'deploy/test/**/*.test.ts'],
    // Integration suites start real processes against the one PostgreSQL: run files one at a time on 2 cores.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 90_000,
    // Service logs go to $DOMIQ_TEST_LOG_DIR; at the end of the run they are scanned for every secret used (a leak fails the run).
    globalSetup: ['./packages/testkit/src/vitest-global-setup.ts'],
    reporters: ['default'],
  },
});
