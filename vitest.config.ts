import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // End-to-end tests start real daemons and sockets; give them room on a busy machine.
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
