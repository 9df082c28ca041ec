/**
 * Storage faults ([S-2], [S-3]): the coordinator's origin runs out of quota mid-job. The page
 * shows the documented error, nothing counts as verified that is not in IndexedDB, and once the
 * quota is back and "Retry storage" is pressed the job completes with the right answers.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './support/browser.ts';
import { storedVerifiedShards } from './support/idb.ts';
import { expectReferenceMatch, requesterKeyOf, submitMnist } from './support/requester.ts';
import { appState as state } from './support/state.ts';

const DIGITS = 2000;
const SHARD_SIZE = 20;
const SHARDS = DIGITS / SHARD_SIZE;

function setQuotaExhausted(page: Page, on: boolean): Promise<void> {
  return page.evaluate((v) => window.__quorum!.setQuotaExhausted(v), on);
}

test('storage quota runs out mid-job: the documented error, no acceptance without a durable write, and Retry completes the job @faults', async ({
  openRoles,
}) => {
  test.setTimeout(240_000);
  const [coord] = await openRoles(['coordinator']);
  const cpage = coord!.page;
  await expect(cpage.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  // [S-3] The coordinator asked for persistent storage and says what it got.
  await expect(cpage.getByTestId('storage-persisted')).toHaveText(/^(persistent|best-effort \(the browser may evict)/, { timeout: 10_000 });
  const key = await requesterKeyOf(cpage);
  await openRoles(['volunteer?autostart=1', 'volunteer?autostart=1']);
  await expect(cpage.getByTestId('volunteer-count')).toHaveText('2', { timeout: 30_000 });

  const [req] = await openRoles(['requester']);
  const page = req!.page;
  await expect(page.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  const jobId = await submitMnist(page, { key, count: DIGITS, shardSize: SHARD_SIZE, replication: 2, quorum: 2 });
  await expect.poll(async () => (await state(cpage)).coordinator.jobs[0]?.verified ?? 0, { timeout: 60_000 }).toBeGreaterThan(2);

  // The quota runs out: every write from now on fails with QuotaExceededError. (CDP's
  // Storage.overrideQuotaForOrigin is accepted by Chromium 156 but does not make IndexedDB writes
  // fail, so the test build injects the browser's own error at the store boundary.)
  await setQuotaExhausted(cpage, true);
  const alert = cpage.getByTestId('storage-error');
  await expect(alert).toBeVisible({ timeout: 30_000 });
  await expect(alert).toHaveAttribute('role', 'alert');
  await expect(alert).toContainText("Storage failed: the browser's storage quota for this site is used up (QuotaExceededError).");
  await expect(alert).toContainText('This coordinator takes no new jobs or leases, and counts no result as verified, until it can write again');
  expect((await state(cpage)).coordinator.log.some((l) => l.level === 'error' && l.text.includes('Storage failed'))).toBe(true);

  // While storage fails, what the requester sees as verified is never more than what is stored:
  // read the requester first, then IndexedDB (which only grows), for a few seconds.
  let stalled = -1;
  for (let i = 0; i < 10; i++) {
    const seen = (await state(page)).requester.jobs.find((j) => j.jobId === jobId)?.verified ?? 0;
    const stored = await storedVerifiedShards(cpage, jobId);
    expect(seen).toBeLessThanOrEqual(stored);
    const counted = (await state(cpage)).coordinator.jobs.find((j) => j.jobId === jobId)!.verified;
    expect(counted).toBeLessThanOrEqual(await storedVerifiedShards(cpage, jobId));
    stalled = stored;
    await page.waitForTimeout(500);
  }
  console.log(`verified shards stored when the quota ran out: ${stalled}/${SHARDS}; writes waiting: ${(await state(cpage)).coordinator.storage.pendingWrites}`);
  // No acceptance without a durable write: the job cannot finish while nothing can be written.
  expect(stalled).toBeLessThan(SHARDS);
  expect((await state(page)).requester.jobs.find((j) => j.jobId === jobId)!.done).toBe(false);
  // [S-3] And no new leases go out meanwhile.
  await expect.poll(async () => (await state(cpage)).coordinator.activeLeases, { timeout: 30_000 }).toBe(0);

  // The quota is back; "Retry storage" writes what waited and the work goes on.
  await setQuotaExhausted(cpage, false);
  await cpage.getByTestId('storage-retry').click();
  await expect(alert).toBeHidden({ timeout: 30_000 });

  await expect(page.locator('[data-testid^=results-]')).toBeVisible({ timeout: 180_000 });
  const s = await state(page);
  const status = s.requester.jobs.find((j) => j.jobId === jobId)!;
  expect(status).toMatchObject({ shards: SHARDS, verified: SHARDS, unverifiable: 0, done: true });
  expect(await storedVerifiedShards(cpage, jobId)).toBe(SHARDS);
  const results = s.requester.results[jobId]!;
  expect(results.verifiedItems).toBe(DIGITS);

  // The verified predictions equal a single-tab reference run of the same model.
  await expectReferenceMatch(page, results.predictions);
});
