import { defineConfig } from 'vitest/config';

/** `npm run test:crash`: the crash test alone (test/crash/), minutes long, so not part of `npm test`. */
export default defineConfig({
  test: {
    include: ['test/crash/**/*.test.ts'],
    // The run is bounded at 4 minutes by the test itself; the rest is start-up and the verdict.
    testTimeout: 360_000,
    hookTimeout: 60_000,
    setupFiles: ['test/setup.ts'],
  },
});
