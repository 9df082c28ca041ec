/**
 * Faults, all at once, in one job: a 5,000-item MNIST job with 4 volunteers, during which a
 * volunteer tab closes and a new one opens, the coordinator tab is reloaded twice, and the
 * signaling server is down for 5 s. The job must complete, its verified predictions must equal a
 * single-tab reference run, and every item must appear exactly once.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './support/browser.ts';
import { restartSignalingAfterEach, signaling } from './support/signaling.ts';
import { expectReferenceMatch, expectVerifiedOnce, requesterKeyOf, submitMnist } from './support/requester.ts';
import { appState } from './support/state.ts';

const ITEMS = 5000;
const SHARD_SIZE = 50;
const SHARDS = ITEMS / SHARD_SIZE;
/** Each shard is held this long before it runs, so the job is surely still running through every fault. */
const VOLUNTEER = 'volunteer?autostart=1&slowMs=1000';

restartSignalingAfterEach();

async function verifiedOnCoordinator(page: Page): Promise<number> {
  return (await appState(page)).coordinator.jobs[0]?.verified ?? 0;
}

/** Reloads the coordinator tab and waits until it has its job back and volunteers working again. */
async function reloadCoordinator(page: Page, minVolunteers: number): Promise<void> {
  const before = await verifiedOnCoordinator(page);
  await page.reload();
  await expect(page.getByTestId('connection-state')).toHaveText('connected', { timeout: 30_000 });
  // [D] Restored from IndexedDB: nothing verified before the reload is forgotten.
  await expect.poll(() => verifiedOnCoordinator(page), { timeout: 15_000 }).toBeGreaterThanOrEqual(before);
  await expect.poll(async () => Number(await page.getByTestId('volunteer-count').textContent()), { timeout: 45_000 }).toBeGreaterThanOrEqual(minVolunteers);
}

test('a 5,000-item job survives a closed and a new volunteer, two coordinator reloads and 5 s without signaling @faults', async ({ openRoles, appOrigin }) => {
  test.setTimeout(420_000);
  const [coord] = await openRoles(['coordinator']);
  const cpage = coord!.page;
  await expect(cpage.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  const key = await requesterKeyOf(cpage);

  const volunteers = await openRoles([VOLUNTEER, VOLUNTEER, VOLUNTEER, VOLUNTEER]);
  await expect(cpage.getByTestId('volunteer-count')).toHaveText('4', { timeout: 40_000 });

  const [req] = await openRoles(['requester']);
  const rpage = req!.page;
  await expect(rpage.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  const jobId = await submitMnist(rpage, { key, count: ITEMS, shardSize: SHARD_SIZE, replication: 2, quorum: 2 });
  const progress: string[] = [];
  const mark = async (what: string): Promise<void> => {
    progress.push(`${what}: ${await verifiedOnCoordinator(cpage)}/${SHARDS} verified`);
  };
  await expect.poll(() => verifiedOnCoordinator(cpage), { timeout: 60_000 }).toBeGreaterThanOrEqual(5);

  // 1. A volunteer tab closes mid-job and a new one opens.
  await volunteers[0]!.context.close();
  await mark('volunteer closed');
  const [fresh] = await openRoles([VOLUNTEER]);
  await expect(fresh!.page.getByTestId('backend')).toHaveText(/wasm|webgpu/, { timeout: 30_000 });
  await expect(cpage.getByTestId('volunteer-count')).toHaveText('4', { timeout: 40_000 });

  // 2. The coordinator tab is reloaded.
  await reloadCoordinator(cpage, 3);
  await mark('first reload done');
  expect(await verifiedOnCoordinator(cpage), 'the job must still be running for the faults to mean anything').toBeLessThan(SHARDS);

  // 3. Signaling stops for 5 s and starts again.
  await signaling(appOrigin, 'stop');
  await cpage.waitForTimeout(5_000);
  await signaling(appOrigin, 'start');
  await expect.poll(async () => (await appState(cpage)).coordinator.signaling, { timeout: 30_000 }).toBe('connected');
  await mark('signaling back');

  // 4. The coordinator tab is reloaded again, still mid-job.
  expect(await verifiedOnCoordinator(cpage)).toBeLessThan(SHARDS);
  await reloadCoordinator(cpage, 3);
  await mark('second reload done');

  // The job completes; the requester (which reconnected on its own) gets every verified item.
  const results = await expectVerifiedOnce(rpage, jobId, ITEMS, 2, 300_000);
  expect(results.provenance).toHaveLength(SHARDS);

  // Equal to a single-tab reference run of the same model on the same digits.
  await expectReferenceMatch(rpage, results.predictions, 120_000);

  const c = await appState(cpage);
  expect(c.coordinator.jobs[0]).toMatchObject({ verified: SHARDS, unverifiable: 0, done: true });
  // Results computed while the coordinator was away and delivered after it came back.
  let heldBack = 0;
  for (const v of [...volunteers.slice(1), fresh!]) {
    heldBack += (await appState(v.page)).volunteer.stats?.heldBackDelivered ?? 0;
  }
  console.log(`${progress.join('; ')}; held-back results delivered: ${heldBack}`);
});
