import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH, CONTEXT_PERMISSIONS, E2E_ADMIN_TOKEN, E2E_BASE_URL, E2E_DIST, E2E_HOST, E2E_PORT } from './e2e/support/env.ts';

// Run through `npm run test:e2e` (scripts/test-e2e.mjs): it builds dist-test/ first and runs this
// inside a loopback-only network namespace. Tag tests in their titles (@smoke, @loop, ...) and
// pick them with `npm run test:e2e -- --grep @loop`.
export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  outputDir: 'test-results/e2e',
  fullyParallel: false,
  workers: 1, // 2 cores; WebRTC tabs are CPU hungry
  retries: 0,
  forbidOnly: Boolean(process.env['CI']),
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['json', { outputFile: 'test-results/e2e-report.json' }]],
  use: {
    baseURL: E2E_BASE_URL,
    browserName: 'chromium',
    headless: true,
    permissions: [...CONTEXT_PERMISSIONS],
    launchOptions: {
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS],
    },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    video: 'off',
  },
  webServer: {
    command: 'node --import tsx server/main.ts',
    url: `${E2E_BASE_URL}/healthz`,
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: 'pipe',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
    env: {
      PORT: String(E2E_PORT),
      HOST: E2E_HOST,
      QUORUM_DIST: E2E_DIST,
      QUORUM_ICE_SERVERS: '[]',
      // Loopback-only operator endpoints: the @faults tests restart signaling through them.
      QUORUM_ADMIN: '1',
      QUORUM_ADMIN_TOKEN: E2E_ADMIN_TOKEN,
      QUORUM_LOG_SIGNALING: process.env['QUORUM_LOG_SIGNALING'] ?? '0',
    },
  },
});
