import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // 2-core machines: suites that start servers must not fight each other for ports or CPU.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
