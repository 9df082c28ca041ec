/**
 * Settings shared by playwright.config.ts and the e2e helpers. Kept free of @playwright/test
 * imports so the config can load it.
 */

/** Port of the e2e server (server/main.ts serving dist-test/ on 127.0.0.1). */
export const E2E_PORT = Number(process.env['E2E_PORT'] ?? 18080);
export const E2E_HOST = '127.0.0.1';
export const E2E_BASE_URL = `http://${E2E_HOST}:${E2E_PORT}`;
export const E2E_DIST = process.env['E2E_DIST'] ?? 'dist-test';
/**
 * The e2e server's admin token (server/admin.ts): its admin endpoints answer only requests that
 * carry it. The server listens on loopback for the suite alone, so a fixed value is enough.
 */
export const E2E_ADMIN_TOKEN = process.env['E2E_ADMIN_TOKEN'] ?? 'e2e-admin-token-not-secret';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/**
 * Offline, loopback-WebRTC-capable headless Chromium (see shared RECIPES.md):
 * no update/component traffic, no DNS except localhost, and ICE candidates on loopback.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--allow-loopback-in-peer-connection',
  '--use-fake-ui-for-media-stream',
  '--component-updater=url-source=http://127.0.0.1:9/',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-sandbox',
];

/** Chromium gathers no loopback ICE candidates without media permission. */
export const CONTEXT_PERMISSIONS: readonly string[] = ['camera', 'microphone'];
