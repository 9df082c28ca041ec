/**
 * The product's thinnest complete loop, for real: one coordinator, three volunteers and one
 * requester, each in its own browser context, over the real PeerServer and real WebRTC.
 */
import { expect, test } from './support/browser.ts';
import { requesterKeyOf } from './support/requester.ts';
import { appState as state } from './support/state.ts';

const DIGITS = 2000;
const SHARD_SIZE = 100;
const SHARDS = DIGITS / SHARD_SIZE;

test('a 2,000-digit MNIST job is verified by pairs of different volunteers, surviving a closed volunteer @loop', async ({ openRoles }) => {
  test.setTimeout(240_000);
  const [coord] = await openRoles(['coordinator']);
  await expect(coord!.page.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  const key = await requesterKeyOf(coord!.page);

  const volunteers = await openRoles(['volunteer?autostart=1', 'volunteer?autostart=1', 'volunteer?autostart=1']);
  for (const v of volunteers) {
    await expect(v.page.getByTestId('backend')).toHaveText(/wasm|webgpu/, { timeout: 30_000 });
  }
  await expect(coord!.page.getByTestId('volunteer-count')).toHaveText('3', { timeout: 30_000 });

  const [req] = await openRoles(['requester']);
  const page = req!.page;
  await expect(page.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  await page.locator('input[name=requesterKey]').fill(key);
  await page.locator('input[name=count]').fill(String(DIGITS));
  await page.locator('input[name=shardSize]').fill(String(SHARD_SIZE));
  await page.locator('input[name=replication]').fill('2');
  await page.locator('input[name=quorum]').fill('2');
  await page.getByTestId('submit-job').click();
  await expect(page.locator('[data-testid=submissions] li')).toHaveAttribute('data-state', 'accepted', { timeout: 30_000 });

  // Close one volunteer while the job runs: as soon as it has delivered a result.
  const leaving = volunteers[0]!;
  await expect
    .poll(async () => Number(await leaving.page.getByTestId('results-delivered').textContent()), { timeout: 60_000 })
    .toBeGreaterThan(0);
  const verifiedWhenClosed = (await state(coord!.page)).coordinator.jobs[0]?.verified ?? 0;
  await leaving.context.close();
  await expect(coord!.page.getByTestId('volunteer-count')).toHaveText('2', { timeout: 30_000 });

  // The job completes on the remaining two.
  const jobCard = page.locator('[data-testid^=results-]');
  await expect(jobCard).toBeVisible({ timeout: 180_000 });
  const s = await state(page);
  const jobId = s.requester.submissions[0]?.jobId;
  expect(jobId).toBeTruthy();
  const results = s.requester.results[jobId!];
  expect(results).toBeDefined();
  const status = s.requester.jobs.find((j) => j.jobId === jobId)!;
  expect(status).toMatchObject({ items: DIGITS, shards: SHARDS, verified: SHARDS, unverifiable: 0, done: true });
  console.log(`verified shards when a volunteer closed: ${verifiedWhenClosed}/${SHARDS}`);

  // Every shard: two different volunteers; every item exactly once.
  expect(results!.provenance).toHaveLength(SHARDS);
  const covered = new Array<number>(DIGITS).fill(0);
  for (const p of results!.provenance) {
    expect(p.volunteers).toHaveLength(2);
    expect(new Set(p.volunteers).size).toBe(2);
    for (let i = p.start; i < p.start + p.count; i++) covered[i] = (covered[i] ?? 0) + 1;
  }
  expect(covered.every((c) => c === 1)).toBe(true);
  expect(results!.verifiedItems).toBe(DIGITS);
  expect(results!.accuracy).toBeGreaterThanOrEqual(0.94);

  // The verified predictions equal a single-tab reference run of the same model.
  await page.getByTestId('run-reference').click();
  await expect(page.getByTestId('reference-state')).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  const after = await state(page);
  const reference = after.requester.reference!.predictions;
  expect(reference).toHaveLength(DIGITS);
  expect(results!.predictions).toEqual(reference);
  await expect(page.getByTestId('reference-match')).toHaveText(`${DIGITS} of ${DIGITS} predictions match the local run.`);

  // The coordinator agrees and kept its results: every shard verified exactly once.
  const c = await state(coord!.page);
  expect(c.coordinator.jobs[0]).toMatchObject({ verified: SHARDS, unverifiable: 0, done: true });
  for (const tc of [coord!, req!, ...volunteers.slice(1)]) expect(tc.foreignRequests()).toEqual([]);
});

test('the app loads and runs inference with the network cut off from everything but its own origin @loop', async ({ openContexts, appOrigin }) => {
  const [tc] = await openContexts(['offline-requester']);
  const blocked: string[] = [];
  await tc!.context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith(appOrigin) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    blocked.push(url);
    return route.abort('internetdisconnected');
  });
  await tc!.gotoRole('requester');
  await tc!.page.locator('input[name=count]').fill('500');
  await tc!.page.getByTestId('run-reference').click();
  await expect(tc!.page.getByTestId('reference-state')).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  const s = await state(tc!.page);
  const predictions = s.requester.reference!.predictions;
  expect(predictions).toHaveLength(500);
  expect(predictions.every((p) => p >= 0 && p <= 9)).toBe(true);
  expect(s.requester.reference!.accuracy).toBeGreaterThanOrEqual(0.94);
  expect(blocked).toEqual([]);
  expect(tc!.foreignRequests()).toEqual([]);
});
