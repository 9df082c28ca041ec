/**
 * [E-1]…[E-4] Issue 17's acceptance for the WebRTC connection budget, with the budget lowered
 * through the test hook: a volunteer tab outlasts a coordinator outage longer than its whole
 * budget's worth of retries and connects when the coordinator returns, and the coordinator page
 * warns before its own budget runs out.
 */
import type { Page } from '@playwright/test';
import type { BudgetStatus } from '../src/core/connectionBudget.ts';
import type { QuorumTestHook } from '../src/testHook.ts';
import { expect, test } from './support/browser.ts';
import { appState } from './support/state.ts';

const NETWORK = 'budget';
/** The volunteer's lowered budget: its page load and first dial leave it two dials. */
const VOLUNTEER_BUDGET = 4;
/** The coordinator's: its page load and one volunteer bring it to the warning (⌊80 % of 3⌋ = 2). */
const COORDINATOR_BUDGET = 3;
/**
 * Longer than the volunteer's two spare dials would last without [E-4]: a dial to an absent peer
 * fails once signaling expires its offer (5-6 s), and the link retries after 0.5, 1, 2... s.
 */
const OUTAGE_MS = 30_000;

function lowerBudget(page: Page, limit: number): Promise<BudgetStatus> {
  return page.evaluate((n) => {
    const hook = (window as { __quorum?: QuorumTestHook }).__quorum;
    if (!hook) throw new Error('test hook missing: is this a test build (vite build --mode test)?');
    return hook.setConnectionBudget(n);
  }, limit);
}

async function volunteerUsed(page: Page): Promise<number> {
  return page.evaluate(() => (window as { __quorum?: QuorumTestHook }).__quorum?.connectionBudget().used ?? -1);
}

test('with the connection budget lowered, a volunteer tab outlasts a coordinator outage and connects when it returns; the coordinator page warns @budget', async ({
  openRoles,
}) => {
  test.setTimeout(180_000);
  const [coord] = await openRoles([`coordinator?network=${NETWORK}`]);
  await expect(coord!.page.getByTestId('connection-state')).toHaveText('connected', { timeout: 30_000 });
  // [E-2] peerjs constructs one RTCPeerConnection as it loads, counted from the start.
  expect(await lowerBudget(coord!.page, COORDINATOR_BUDGET)).toEqual({ used: 1, limit: 3, left: 2, level: 'ok' });
  await expect(coord!.page.getByTestId('connection-budget')).toHaveText('1 of 3 used, 2 left');
  await expect(coord!.page.getByTestId('connection-budget-warning')).toHaveCount(0);

  const [vol] = await openRoles([`volunteer?network=${NETWORK}`]);
  expect(await lowerBudget(vol!.page, VOLUNTEER_BUDGET)).toMatchObject({ used: 1, limit: VOLUNTEER_BUDGET });
  await vol!.page.getByTestId('start-volunteering').click();
  await expect(coord!.page.getByTestId('volunteer-count')).toHaveText('1', { timeout: 30_000 });
  expect(await volunteerUsed(vol!.page)).toBe(2);

  // [E-3] The coordinator's incoming connection brought it to 2 of 3: the page warns and says what to do.
  await expect(coord!.page.getByTestId('connection-budget')).toHaveText('2 of 3 used, 1 left');
  const warning = coord!.page.getByTestId('connection-budget-warning');
  await expect(warning).toContainText('only 1 of its 3 WebRTC connections left');
  await expect(warning).toContainText('Move the coordinator to a fresh window');
  await expect(warning).toContainText('IndexedDB');

  // The outage: the coordinator's tab closes.
  const context = coord!.context;
  await coord!.page.close();
  await expect
    .poll(async () => (await appState(vol!.page)).volunteer.log.some((l) => /quorum-budget is not online; waiting for it/.test(l.text)), { timeout: 30_000 })
    .toBe(true);
  const usedAtStart = await volunteerUsed(vol!.page);
  await vol!.page.waitForTimeout(OUTAGE_MS);
  // [E-4] Nothing spent while the coordinator was away (one dial may have raced its departure).
  expect(await volunteerUsed(vol!.page)).toBe(usedAtStart);
  expect(usedAtStart).toBeLessThan(VOLUNTEER_BUDGET);

  // The coordinator returns in a fresh window of the same profile (its state and key in IndexedDB).
  const back = await context.newPage();
  await back.goto(`/#/coordinator?network=${NETWORK}`, { waitUntil: 'load' });
  await expect(back.getByTestId('connection-state')).toHaveText('connected', { timeout: 30_000 });
  // A fresh window is a fresh budget: only peerjs' own check so far.
  expect(await lowerBudget(back, COORDINATOR_BUDGET)).toMatchObject({ used: 1, level: 'ok' });
  await expect(back.getByTestId('volunteer-count')).toHaveText('1', { timeout: 30_000 });
  await expect.poll(async () => (await appState(vol!.page)).volunteer.state, { timeout: 15_000 }).toBe('connected');
  expect(await volunteerUsed(vol!.page)).toBe(usedAtStart + 1);
  await expect(back.getByTestId('connection-budget-warning')).toContainText('Move the coordinator to a fresh window');
  expect(vol!.logs.filter((l) => /Cannot create so many PeerConnections|pageerror/.test(l))).toEqual([]);
});
