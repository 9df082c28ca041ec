/**
 * Recovery faults (issue #4):
 *
 * - A volunteer tab is reloaded while it holds a result nobody has acknowledged: the result
 *   survives in IndexedDB ([W-15]), the reloaded tab comes back under the same peer id and resume
 *   token from sessionStorage ([W-17], [I-1]) and delivers it once the coordinator is back
 *   ([W-16]); the job completes with the reference predictions.
 * - The coordinator's IndexedDB cannot be used at all (private mode, storage blocked): the page
 *   says so with the documented alert and takes no job ([S-3]), without crashing.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './support/browser.ts';
import { storedLiveLeases, storedRecords } from './support/idb.ts';
import { expectReferenceMatch, expectVerifiedOnce, requesterKeyOf, submitMnist } from './support/requester.ts';
import { appState as state } from './support/state.ts';

const DIGITS = 200;
const SHARD_SIZE = 50;
const SHARDS = DIGITS / SHARD_SIZE;
/**
 * Long enough that the reloaded volunteer is still computing when the coordinator goes (so its
 * result has nobody to go to), short enough that it computes every shard of the job in time:
 * with two volunteers and the default replication of 2, each of them computes every shard.
 */
const SLOW_MS = 4_000;

async function volunteerStats(page: Page) {
  const s = (await state(page)).volunteer;
  // The stats' own `peerId` is the id the coordinator welcomed (null until then): kept apart from
  // the tab's id, which is known as soon as signaling registers it.
  return { ...(s.stats ?? {}), peerId: s.peerId, welcomedAs: s.stats?.peerId ?? null, phase: s.stats?.phase ?? null };
}

test('a volunteer tab reloaded while holding an unacknowledged result keeps its id and delivers it @faults', async ({ openRoles }) => {
  test.setTimeout(240_000);
  const [coord] = await openRoles(['coordinator']);
  await expect(coord!.page.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  const key = await requesterKeyOf(coord!.page);

  // The slow one is reloaded; the other is an ordinary volunteer that makes quorum 2 possible.
  const [reloaded, other] = await openRoles([`volunteer?autostart=1&slowMs=${SLOW_MS}`, 'volunteer?autostart=1']);
  await expect(coord!.page.getByTestId('volunteer-count')).toHaveText('2', { timeout: 30_000 });
  const idBefore = (await volunteerStats(reloaded!.page)).peerId;
  expect(idBefore).toBeTruthy();

  const [req] = await openRoles(['requester']);
  const page = req!.page;
  await expect(page.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  // Replication and quorum 2 (the form's defaults, set anyway): both volunteers compute every shard.
  const jobId = await submitMnist(page, { key, count: DIGITS, shardSize: SHARD_SIZE, replication: 2, quorum: 2 });

  // The slow volunteer is inside its engine's hold with a shard whose lease the coordinator has
  // stored ([S-1]: a lease not yet written would be forgotten by the reopened coordinator, and its
  // result acked unknown-lease, which is another test's subject).
  await expect.poll(async () => (await volunteerStats(reloaded!.page)).phase, { timeout: 60_000 }).toBe('running');
  const inHand = (await volunteerStats(reloaded!.page)).currentShard;
  expect(inHand).toBeTruthy();
  await expect
    .poll(async () => (await storedLiveLeases(coord!.page)).some((l) => l.volunteer === idBefore && `${l.jobId}/${l.shardIndex}` === inHand), {
      timeout: 20_000,
    })
    .toBe(true);
  const context = coord!.context;
  await coord!.page.close();

  // With no coordinator the shard finishes and its result waits in the outbox, in IndexedDB. (The
  // volunteer may not have noticed yet that the coordinator is gone, as its link only gives up
  // after 12 s of silence: then the result went into a dead channel, and stays stored until acked.)
  await expect
    .poll(async () => (await storedRecords(reloaded!.page, 'outbox')).some((e) => e.volunteerId === idBefore && e.shardId === inHand), { timeout: 30_000 })
    .toBe(true);
  expect((await volunteerStats(reloaded!.page)).outbox ?? 0).toBeGreaterThan(0);

  // The reload: same tab, so same sessionStorage; everything in memory is gone.
  await reloaded!.page.reload({ waitUntil: 'load' });
  // [W-15] The result is back from IndexedDB before any coordinator could have acknowledged it,
  // under the id the tab had.
  await expect.poll(async () => (await volunteerStats(reloaded!.page)).outbox ?? 0, { timeout: 30_000 }).toBeGreaterThan(0);
  await expect.poll(async () => (await volunteerStats(reloaded!.page)).peerId, { timeout: 20_000 }).toBe(idBefore);
  expect((await volunteerStats(reloaded!.page)).heldBackDelivered ?? 0).toBe(0);

  // The coordinator comes back from the same profile, with the job and the stored lease.
  const coordPage = await context.newPage();
  await coordPage.goto('/#/coordinator', { waitUntil: 'load' });
  await expect(coordPage.getByTestId('connection-state')).toHaveText('connected', { timeout: 30_000 });

  // Stats start from zero at a reload, so this delivery is the restored result's.
  await expect.poll(async () => (await volunteerStats(reloaded!.page)).heldBackDelivered ?? 0, { timeout: 60_000 }).toBeGreaterThanOrEqual(1);
  const after = await volunteerStats(reloaded!.page);
  // [I-1] Welcomed under its old id: the coordinator took its resume token, not a newcomer's hello.
  expect(after.peerId).toBe(idBefore);
  expect(after.welcomedAs).toBe(idBefore);
  await expect(reloaded!.page.getByTestId('held-back-delivered')).not.toHaveText('0');
  console.log(`after the reload: held-back sent ${after.heldBackSent ?? 0}, delivered ${after.heldBackDelivered ?? 0}, outbox ${after.outbox ?? 0}`);

  // The job completes: every item verified exactly once, with the predictions of a local run.
  const results = await expectVerifiedOnce(page, jobId, DIGITS);
  // The reloaded volunteer's id is among those that agreed on the shard it held across the reload.
  const heldIndex = Number(inHand!.slice(inHand!.lastIndexOf('/') + 1));
  expect(results.provenance.find((p) => p.start === heldIndex * SHARD_SIZE)?.volunteers).toContain(idBefore);
  await expectReferenceMatch(page, results.predictions);

  const c = await state(coordPage);
  expect(c.coordinator.jobs.find((j) => j.jobId === jobId)).toMatchObject({ verified: SHARDS, unverifiable: 0, done: true });
  for (const tc of [req!, reloaded!, other!]) expect(tc.foreignRequests()).toEqual([]);
});

/**
 * Two ways a browser denies IndexedDB: the property is missing (some private modes), or reading
 * it throws (Firefox with site data blocked). Each runs before any of the app's code.
 */
const NO_INDEXEDDB = [
  {
    name: 'missing',
    install: () => {
      Object.defineProperty(window, 'indexedDB', { configurable: true, value: undefined });
    },
    reason: 'IndexedDB is not available in this browser (private mode?): Quorum cannot keep data here',
  },
  {
    name: 'denied',
    install: () => {
      Object.defineProperty(window, 'indexedDB', {
        configurable: true,
        get() {
          throw new DOMException('The user denied permission to access the database.', 'SecurityError');
        },
      });
    },
    reason: 'The user denied permission to access the database',
  },
] as const;

for (const variant of NO_INDEXEDDB) {
  test(`a coordinator without IndexedDB (${variant.name}) shows the storage error and takes no job @faults`, async ({ openContexts, openRoles }) => {
    test.setTimeout(120_000);
    const [coord] = await openContexts(['coordinator']);
    await coord!.context.addInitScript(variant.install);
    await coord!.gotoRole('coordinator');
    const cpage = coord!.page;

    // [S-3] It still joins the network, to say why it takes no work.
    await expect(cpage.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
    const alert = cpage.getByTestId('storage-error');
    await expect(alert).toBeVisible({ timeout: 20_000 });
    await expect(alert).toHaveAttribute('role', 'alert');
    // README, "Coordinator storage": `Storage failed: <the browser's reason>. This coordinator takes no new jobs or leases, …`
    await expect(alert).toContainText(
      `Storage failed: ${variant.reason}. This coordinator takes no new jobs or leases, and counts no result as verified, until it can write again`,
    );
    expect((await state(cpage)).coordinator.log.some((l) => l.level === 'error' && l.text.includes('Storage failed'))).toBe(true);
    // The key lives only in this tab, but a requester still needs it to be told why it is refused
    // rather than that its key is wrong.
    const key = await requesterKeyOf(cpage);

    const [req] = await openRoles(['requester']);
    const page = req!.page;
    await expect(page.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
    await page.locator('input[name=requesterKey]').fill(key);
    await page.locator('input[name=count]').fill(String(DIGITS));
    await page.locator('input[name=shardSize]').fill(String(SHARD_SIZE));
    await page.getByTestId('submit-job').click();
    const sub = page.locator('[data-testid=submissions] li').first();
    await expect(sub).toHaveAttribute('data-state', 'rejected', { timeout: 30_000 });
    // README, submission errors: the coordinator's storage is failing ([S-3]).
    await expect(sub.getByTestId('rejection')).toContainText('the coordinator cannot store new jobs right now (its storage failed): try again later');

    // "Retry storage" cannot help while IndexedDB is missing: the alert stays and nothing breaks.
    await cpage.getByTestId('storage-retry').click();
    await page.waitForTimeout(1_000);
    await expect(alert).toBeVisible();
    const c = (await state(cpage)).coordinator;
    expect(c.state).toBe('connected');
    expect(c.jobs).toEqual([]);
    expect(c.activeLeases).toBe(0);
    await expect(cpage.getByTestId('connection-state')).toHaveText('connected');
    expect(coord!.logs.filter((l) => / pageerror: | CRASH$/.test(l))).toEqual([]);
    for (const tc of [coord!, req!]) expect(tc.foreignRequests()).toEqual([]);
  });
}
