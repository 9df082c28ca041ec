/**
 * The @loop scenario with the headless coordinator instead of the coordinator tab: a
 * `quorum coordinator` process (registered with the e2e server's signaling, its state in SQLite),
 * three browser volunteers and a browser requester opened from the join links it prints (with its
 * key's fingerprint), over real WebRTC between Chromium and node-datachannel. One volunteer closes
 * mid-job; then the process is SIGKILLed mid-job and restarted on the same data directory: the job
 * completes with every shard accepted once and the model's own predictions.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { JobId } from '../src/protocol/ids.ts';
import { DATABASE_FILE, REQUESTER_KEY_FILE } from '../src/node/dataDir.node.ts';
import { scrapeMetrics, spawnHeadless, type HeadlessChild } from '../src/node/testing/headlessChild.node.ts';
import { openCoordinatorSqlite, SqliteCoordinatorStore } from '../src/persistence/sqliteCoordinatorStore.node.ts';
import { E2E_BASE_URL, expect, test } from './support/browser.ts';
import { expectReferenceMatch, expectVerifiedOnce, submitMnist } from './support/requester.ts';
import { appState as state } from './support/state.ts';

const NETWORK = 'e2e-headless';
const ROOT = path.resolve(import.meta.dirname, '..');
const DIGITS = 2000;
const SHARD_SIZE = 100;
const SHARDS = DIGITS / SHARD_SIZE;
/** Test builds only: each volunteer holds every shard this long, so the job is still running at the kill. */
const SLOW_MS = 800;

/** `quorum coordinator` as an operator runs it, registered with the e2e server's signaling. */
function startCoordinator(dataDir: string): HeadlessChild {
  const args = ['bin/quorum.mjs', 'coordinator', '--network', NETWORK, '--data', dataDir, '--server', E2E_BASE_URL, '--metrics-port', '0'];
  return spawnHeadless(process.execPath, args, ROOT);
}

/** The route and query of a join link, as `openRoles` takes it (`volunteer?network=…&fp=…`). */
const routeOf = (link: string): string => link.slice(link.indexOf('#/') + 2);

/** The verified shards a coordinator's database holds for `jobId`, by index (the process must not be running). */
function storedVerified(dataDir: string, jobId: string): Promise<number[]> {
  const db = openCoordinatorSqlite(path.join(dataDir, DATABASE_FILE));
  return new SqliteCoordinatorStore(db, NETWORK)
    .loadShards(jobId as JobId)
    .then((shards) => shards.filter((s) => s.status === 'verified' && s.accepted !== null).map((s) => s.index))
    .finally(() => db.close());
}

test('a headless coordinator process runs the 2,000-digit MNIST loop for browser volunteers and a requester, and survives a SIGKILL mid-job @headless', async ({
  openRoles,
}, testInfo) => {
  test.setTimeout(420_000);
  const dataDir = testInfo.outputPath('coordinator-data');
  let coordinator = startCoordinator(dataDir);
  const children = [coordinator];
  try {
    const { links, metrics } = await coordinator.ready;
    if (metrics === null) throw new Error('the coordinator printed no /metrics address');
    const metricsUrl = metrics;
    const key = fs.readFileSync(path.join(dataDir, REQUESTER_KEY_FILE), 'utf8').trim();
    // [K-1] The links carry the fingerprint of the key the process keeps; the requester's its requester key.
    const fp = /[?&]fp=([A-Za-z0-9_-]{43})(&|$)/.exec(links.volunteer)?.[1];
    expect(fp, `a fingerprint in ${links.volunteer}`).toBeDefined();
    expect(links.requester).toContain(`fp=${fp}`);
    expect(new URL(links.requester.replace('#/requester', '')).searchParams.get('key')).toBe(key);
    const volunteersSeen = async (): Promise<number> =>
      [...(await scrapeMetrics(metricsUrl)).entries()].filter(([k]) => k.startsWith('quorum_peers{role="volunteer"')).reduce((n, [, v]) => n + v, 0);

    const volunteer = `${routeOf(links.volunteer)}&autostart=1&slowMs=${SLOW_MS}`;
    const volunteers = await openRoles([volunteer, volunteer, volunteer]);
    for (const v of volunteers) {
      await expect(v.page.getByTestId('backend')).toHaveText(/wasm|webgpu/, { timeout: 30_000 });
      // Pinned by the link's fingerprint and proven by the process ([K-2]).
      await expect(v.page.getByTestId('coordinator-key-verified')).toHaveText(fp!, { timeout: 30_000 });
    }
    await expect.poll(volunteersSeen, { timeout: 30_000 }).toBe(3);

    const [req] = await openRoles([routeOf(links.requester)]);
    const page = req!.page;
    await expect(page.getByTestId('connection-state')).toHaveText('connected', { timeout: 30_000 });
    // The page took the key from its link (and moved it out of the URL).
    await expect(page.locator('input[name=requesterKey]')).toHaveValue(key);
    const jobId = await submitMnist(page, { key, count: DIGITS, shardSize: SHARD_SIZE, replication: 2, quorum: 2 });

    // A volunteer closes as soon as it has delivered a result, as in @loop.
    const leaving = volunteers[0]!;
    await expect.poll(async () => Number(await leaving.page.getByTestId('results-delivered').textContent()), { timeout: 60_000 }).toBeGreaterThan(0);
    await leaving.context.close();
    await expect.poll(volunteersSeen, { timeout: 30_000 }).toBe(2);

    // SIGKILL once some shards are verified; the database then shows what really was stored at the kill.
    await expect
      .poll(async () => (await scrapeMetrics(metricsUrl)).get('quorum_shards_verified') ?? 0, { timeout: 120_000, intervals: [200] })
      .toBeGreaterThan(0);
    coordinator.proc.kill('SIGKILL');
    expect(await coordinator.exited).toBeNull();
    const atKill = await storedVerified(dataDir, jobId);
    expect(atKill.length, 'some shards were verified and stored before the kill').toBeGreaterThan(0);
    expect(atKill.length, 'the kill came mid-job, not after it').toBeLessThan(SHARDS);

    coordinator = startCoordinator(dataDir);
    children.push(coordinator);
    const restarted = await coordinator.ready;
    expect(restarted.links).toEqual(links); // same key, same fingerprint, same network
    expect(coordinator.lines.map((l) => String(l['msg']))).toContainEqual(expect.stringMatching(/^restored 1 job\(s\)/));

    // The job completes: every item exactly once, each shard agreed by two different volunteers,
    // and the predictions equal a single-tab reference run of the same model.
    const results = await expectVerifiedOnce(page, jobId, DIGITS, 2, 240_000);
    console.log(`verified shards stored at the SIGKILL: ${atKill.length}/${SHARDS}`);
    const status = (await state(page)).requester.jobs.find((j) => j.jobId === jobId);
    expect(status).toMatchObject({ items: DIGITS, shards: SHARDS, verified: SHARDS, unverifiable: 0, done: true });
    expect(results.provenance).toHaveLength(SHARDS);
    expect(results.accuracy).toBeGreaterThanOrEqual(0.94);
    await expectReferenceMatch(page, results.predictions);
    await expect(page.getByTestId('reference-match')).toHaveText(`${DIGITS} of ${DIGITS} predictions match the local run.`);

    // The restarted process counts every shard accepted once, and took results itself.
    const m = await scrapeMetrics(restarted.metrics!);
    expect(m.get('quorum_shards_verified')).toBe(SHARDS);
    expect(m.get('quorum_shards')).toBe(SHARDS);
    expect(m.get('quorum_jobs{state="done"}')).toBe(1);
    expect(m.get('quorum_results_total')).toBeGreaterThan(0);
    expect(m.get('quorum_storage_failing')).toBe(0);

    // SIGTERM: it stores what is pending and exits 0; the database holds each shard verified once.
    coordinator.proc.kill('SIGTERM');
    expect(await coordinator.exited).toBe(0);
    expect(await storedVerified(dataDir, jobId)).toEqual([...Array(SHARDS).keys()]);
    for (const c of children) expect(c.notJson).toEqual([]);
    for (const tc of [req!, ...volunteers.slice(1)]) expect(tc.foreignRequests()).toEqual([]);
  } finally {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  }
});
