/**
 * The product's thinnest complete loop, for real: one coordinator, three volunteers and one
 * requester, each in its own browser context, over the real PeerServer and real WebRTC.
 */
import { expect, test } from './support/browser.ts';
import { expectReferenceMatch, expectVerifiedOnce, requesterKeyOf, submitMnist } from './support/requester.ts';
import { appState as state } from './support/state.ts';

const DIGITS = 2000;
const SHARD_SIZE = 100;
const SHARDS = DIGITS / SHARD_SIZE;
/** Test builds only: each volunteer holds every shard this long before running it. */
const SLOW_MS = 400;

test('a 2,000-digit MNIST job is verified by pairs of different volunteers, surviving a closed volunteer @loop', async ({ openRoles }) => {
  test.setTimeout(240_000);
  const [coord] = await openRoles(['coordinator']);
  await expect(coord!.page.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  const key = await requesterKeyOf(coord!.page);

  // Each shard held SLOW_MS first: 40 results on 3 volunteers then take seconds, not the moment a
  // fast machine needs, so the volunteer below really closes while the job runs.
  const volunteer = `volunteer?autostart=1&slowMs=${SLOW_MS}`;
  const volunteers = await openRoles([volunteer, volunteer, volunteer]);
  for (const v of volunteers) {
    await expect(v.page.getByTestId('backend')).toHaveText(/wasm|webgpu/, { timeout: 30_000 });
  }
  await expect(coord!.page.getByTestId('volunteer-count')).toHaveText('3', { timeout: 30_000 });

  const [req] = await openRoles(['requester']);
  const page = req!.page;
  await expect(page.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  const jobId = await submitMnist(page, { key, count: DIGITS, shardSize: SHARD_SIZE, replication: 2, quorum: 2 });

  // Close one volunteer while the job runs: as soon as it has delivered a result.
  const leaving = volunteers[0]!;
  await expect.poll(async () => Number(await leaving.page.getByTestId('results-delivered').textContent()), { timeout: 60_000 }).toBeGreaterThan(0);
  await leaving.context.close();
  // Read after the close: the job must still have been running then, or the test proves nothing
  // about surviving a volunteer that leaves mid-job.
  const whenClosed = (await state(coord!.page)).coordinator.jobs[0];
  expect(whenClosed, 'the job was admitted before the volunteer closed').toBeDefined();
  expect(whenClosed!.done, 'the volunteer closed mid-job, not after it finished').toBe(false);
  expect(whenClosed!.verified).toBeLessThan(SHARDS);
  const verifiedWhenClosed = whenClosed!.verified;
  await expect(coord!.page.getByTestId('volunteer-count')).toHaveText('2', { timeout: 30_000 });

  // The job completes on the remaining two: every item exactly once, every shard agreed by two
  // different volunteers (not more: nothing disagreed), and the predictions equal a single-tab
  // reference run of the same model.
  const results = await expectVerifiedOnce(page, jobId, DIGITS, 2, 180_000);
  console.log(`verified shards when a volunteer closed: ${verifiedWhenClosed}/${SHARDS}`);
  const status = (await state(page)).requester.jobs.find((j) => j.jobId === jobId);
  expect(status).toMatchObject({ items: DIGITS, shards: SHARDS, verified: SHARDS, unverifiable: 0, done: true });
  expect(results.provenance).toHaveLength(SHARDS);
  for (const p of results.provenance) expect(p.volunteers).toHaveLength(2);
  expect(results.accuracy).toBeGreaterThanOrEqual(0.94);
  await expectReferenceMatch(page, results.predictions);
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
