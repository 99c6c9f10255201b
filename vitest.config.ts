import { defineConfig } from 'vitest/config';

// chDB binds one data directory per process, so every test file runs in its own
// forked process and opens its own directory (tests/helpers/store.ts).
export default defineConfig({
  test: {
    pool: 'forks',
    isolate: true,
    include: ['tests/unit/**/*.test.ts', 'tests/integration/**/*.test.ts', 'tests/e2e/**/*.test.ts', 'tests/fuzz/**/*.test.ts'],
    globalSetup: ['tests/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
