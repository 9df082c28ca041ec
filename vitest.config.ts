import { defineConfig } from 'vitest/config';

// Unit tests run in Node. Pure core tests need nothing else; persistence tests bring
// fake-indexeddb themselves. e2e/ is Playwright's, not vitest's.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'server/**/*.test.ts', 'cli/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
  },
});
