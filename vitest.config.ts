import { defineConfig } from 'vitest/config';

// Two projects: parser unit tests (fast, no root) and everything that drives a real lab. The lab
// tests share one machine's namespaces and two cores, so they run one file at a time.
export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'lab',
          include: ['test/integration/**/*.test.ts', 'scenarios/**/*.test.ts'],
          globalSetup: ['lib/vitest/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 180_000,
          sequence: { concurrent: false },
        },
      },
    ],
  },
});
