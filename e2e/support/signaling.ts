/**
 * The server's signaling switch (server/admin.ts), for fault tests. A test that stops signaling
 * registers `restartSignalingAfterEach()`: if it fails while signaling is down, the next tests
 * would otherwise find no signaling at all and fail for a reason that is not theirs.
 */
import { expect, test } from './browser.ts';
import { E2E_ADMIN_TOKEN, E2E_BASE_URL } from './env.ts';

export async function signaling(origin: string, action: 'stop' | 'start'): Promise<void> {
  const res = await fetch(`${origin}/admin/signaling/${action}`, { method: 'POST', headers: { Authorization: `Bearer ${E2E_ADMIN_TOKEN}` } });
  expect(res.status, `POST /admin/signaling/${action}`).toBe(200);
}

/** After every test of the file, signaling runs again (start is a no-op when it runs). */
export function restartSignalingAfterEach(): void {
  test.afterEach(async ({ baseURL }) => {
    await signaling(new URL(baseURL ?? E2E_BASE_URL).origin, 'start');
  });
}
