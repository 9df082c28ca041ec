/**
 * Faults: the coordinator tab closes while volunteers are mid-shard. They finish their shards
 * with nobody to send them to, keep the results in their outbox ([W-15]), reconnect under the
 * same peer id ([W-17]) once a coordinator is back on the network (reopened in the same browser
 * profile, so it restores its jobs and leases from IndexedDB) and deliver them ([W-16]). The job
 * completes with every item verified exactly once and the predictions of a local reference run.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './support/browser.ts';
import { storedLiveLeases } from './support/idb.ts';
import { expectReferenceMatch, expectVerifiedOnce, requesterKeyOf, submitMnist } from './support/requester.ts';
import { appState as state } from './support/state.ts';

const DIGITS = 400;
const SHARD_SIZE = 50;
const SHARDS = DIGITS / SHARD_SIZE;
/** Long enough that a shard is still running when the coordinator goes, and outlasts the detection of its departure. */
const SLOW_MS = 5_000;

async function volunteerStats(page: Page) {
  const s = (await state(page)).volunteer;
  return { peerId: s.peerId, welcomedAs: s.stats?.peerId ?? null, phase: s.stats?.phase ?? null, ...(s.stats ?? {}) };
}

test('a volunteer that finished a shard while the coordinator was gone delivers it after reconnecting @faults', async ({ openRoles }) => {
  test.setTimeout(240_000);
  const [coord] = await openRoles(['coordinator']);
  await expect(coord!.page.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  const key = await requesterKeyOf(coord!.page);

  const volunteers = await openRoles([`volunteer?autostart=1&slowMs=${SLOW_MS}`, `volunteer?autostart=1&slowMs=${SLOW_MS}`]);
  await expect(coord!.page.getByTestId('volunteer-count')).toHaveText('2', { timeout: 30_000 });
  const idsBefore = await Promise.all(volunteers.map(async (v) => (await volunteerStats(v.page)).peerId));
  for (const id of idsBefore) expect(id).toBeTruthy();

  const [req] = await openRoles(['requester']);
  const page = req!.page;
  await expect(page.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  const jobId = await submitMnist(page, { key, count: DIGITS, shardSize: SHARD_SIZE, replication: 2, quorum: 2 });

  // Mid-shard: a volunteer computes (inside the slow engine's hold) when the coordinator tab closes.
  await expect
    .poll(async () => (await Promise.all(volunteers.map(async (v) => (await volunteerStats(v.page)).phase))).includes('running'), { timeout: 60_000 })
    .toBe(true);
  const running = await Promise.all(volunteers.map(async (v) => (await volunteerStats(v.page)).phase === 'running'));
  // [S-1] Leases reach storage in batches shortly after they are sent; a lease sent just before a
  // reload is forgotten (its shard is simply leased again). This test is about delivery, so it
  // closes the coordinator once the shards in hand are stored.
  const inHand = (await Promise.all(volunteers.map(async (v) => (await volunteerStats(v.page)).currentShard ?? null))).filter((x) => x !== null);
  expect(inHand.length).toBeGreaterThan(0);
  await expect.poll(async () => (await storedLiveLeases(coord!.page)).length, { timeout: 20_000 }).toBeGreaterThanOrEqual(inHand.length);
  const verifiedBefore = (await state(coord!.page)).coordinator.jobs.find((j) => j.jobId === jobId)?.verified ?? 0;
  const context = coord!.context;
  await coord!.page.close();

  // With no coordinator, a volunteer that was computing finishes and holds the result back.
  const holder = volunteers[running.indexOf(true)]!;
  await expect.poll(async () => (await volunteerStats(holder.page)).outbox ?? 0, { timeout: 30_000 }).toBeGreaterThan(0);
  // The closing tab closes its channels (seen at once); should that not reach the volunteer, it
  // notices by silence: 12 s without a frame, checked every 3 s (coordinatorLink.ts).
  await expect(holder.page.getByTestId('connection-state')).not.toHaveText('connected', { timeout: 20_000 });
  const heldWhileGone = await Promise.all(volunteers.map(async (v) => (await volunteerStats(v.page)).outbox ?? 0));

  // The coordinator comes back on the same network, from the same profile (its IndexedDB).
  const coordPage = await context.newPage();
  await coordPage.goto('/#/coordinator', { waitUntil: 'load' });
  await expect(coordPage.getByTestId('connection-state')).toHaveText('connected', { timeout: 30_000 });

  // The volunteers reconnect under the ids they had, and deliver what they held back.
  await expect.poll(async () => (await volunteerStats(holder.page)).heldBackDelivered ?? 0, { timeout: 60_000 }).toBeGreaterThanOrEqual(1);
  const after = await Promise.all(volunteers.map((v) => volunteerStats(v.page)));
  expect(after.map((a) => a.peerId)).toEqual(idsBefore);
  expect(after.map((a) => a.welcomedAs)).toEqual(idsBefore);
  console.log(
    `verified shards when the coordinator closed: ${verifiedBefore}/${SHARDS}; results held while it was gone: ${heldWhileGone.join(', ')}; ` +
      `held-back sent / delivered per volunteer: ${after.map((a) => `${a.heldBackSent ?? 0}/${a.heldBackDelivered ?? 0}`).join(', ')}`,
  );
  await expect(holder.page.getByTestId('held-back-delivered')).not.toHaveText('0');

  // The job completes: every item verified exactly once, with the predictions of a local run.
  const results = await expectVerifiedOnce(page, jobId, DIGITS);
  await expectReferenceMatch(page, results.predictions);

  const c = await state(coordPage);
  expect(c.coordinator.jobs.find((j) => j.jobId === jobId)).toMatchObject({ verified: SHARDS, unverifiable: 0, done: true });
  for (const tc of [req!, ...volunteers]) expect(tc.foreignRequests()).toEqual([]);
});
