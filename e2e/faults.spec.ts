/**
 * Faults: the signaling server restarts while the network works. Open WebRTC channels carry on,
 * every tab re-registers on its own, and a volunteer that arrives after the restart joins.
 */
import { expect, test } from './support/browser.ts';
import { restartSignalingAfterEach, signaling } from './support/signaling.ts';
import { expectVerifiedOnce, requesterKeyOf, submitMnist } from './support/requester.ts';
import { appState } from './support/state.ts';

restartSignalingAfterEach();

test('signaling stops for 5 s and restarts without the app server; the network recovers and the job completes @faults', async ({ openRoles, appOrigin }) => {
  test.setTimeout(180_000);
  const [coord] = await openRoles(['coordinator']);
  await expect(coord!.page.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  const key = await requesterKeyOf(coord!.page);
  const volunteers = await openRoles(['volunteer?autostart=1', 'volunteer?autostart=1']);
  await expect(coord!.page.getByTestId('volunteer-count')).toHaveText('2', { timeout: 30_000 });
  const [req] = await openRoles(['requester']);
  const page = req!.page;
  await expect(page.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });

  // Signaling goes away: the coordinator notices, but its channels to the others stay open.
  await signaling(appOrigin, 'stop');
  await expect.poll(async () => (await appState(coord!.page)).coordinator.signaling, { timeout: 15_000 }).toBe('lost');
  const outageStarted = Date.now();

  // A job submitted during the outage still reaches the coordinator over WebRTC and runs.
  const jobId = await submitMnist(page, { key, count: 1000, shardSize: 50 });

  await page.waitForTimeout(Math.max(0, 5_000 - (Date.now() - outageStarted)));
  await signaling(appOrigin, 'start');
  await expect.poll(async () => (await appState(coord!.page)).coordinator.signaling, { timeout: 30_000 }).toBe('connected');

  // Signaling works again: a volunteer that opens now can reach the coordinator.
  const [late] = await openRoles(['volunteer?autostart=1']);
  await expect(coord!.page.getByTestId('volunteer-count')).toHaveText('3', { timeout: 40_000 });
  await expect(late!.page.getByTestId('phase')).not.toHaveText('connecting', { timeout: 20_000 });

  const results = await expectVerifiedOnce(page, jobId, 1000, 1, 120_000);
  expect(results.accuracy).toBeGreaterThanOrEqual(0.94);
  for (const v of volunteers) await expect(v.page.getByTestId('connection-state')).toHaveText('connected');
});
