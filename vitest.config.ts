import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Differential tests spawn tshark and the CLI; give them room on a slow CI machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The CLI tests run the compiled code in dist/; build it once before any test file runs.
    globalSetup: ['test/global-setup.ts'],
  },
});
