import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // LOCKSTEP_TEST_CPU=FILE: record each test file's CPU time (test/cpu-profile-setup.ts).
    setupFiles: ['src/testing/matchers.ts', ...(process.env.LOCKSTEP_TEST_CPU ? ['test/cpu-profile-setup.ts'] : [])],
    include: ['src/**/*.test.ts', 'suites/**/*.test.ts', 'test/**/*.test.ts'],
    // ONNX Runtime sessions and model forging are CPU-heavy; CI has 2 cores.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
