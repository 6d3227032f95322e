import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The crash test runs on its own: `npm run test:crash` (vitest.crash.config.ts).
    exclude: [...configDefaults.exclude, 'test/crash/**'],
    // Workflow and end-to-end tests start real local services; give them room on 2 cores.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    setupFiles: ['test/setup.ts'],
  },
});
