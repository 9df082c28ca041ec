/**
 * The live network map (#/network): an observer tab that watches the coordinator's telemetry over
 * real WebRTC, while a real job runs through the real UI. Screenshots are attached to the report
 * and kept under test-results/e2e/<test>/.
 */
import type { Page, TestInfo } from '@playwright/test';
import type { QuorumState } from '../src/model/state.ts';
// Brings the map's `window.__quorumMap` test hook (test builds only) into e2e typing.
import type {} from '../src/views/map/mapTestHook.ts';
import { expect, test, type TestContext } from './support/browser.ts';
import { requesterKeyOf, submitMnist } from './support/requester.ts';
import { appState as state } from './support/state.ts';

async function screenshot(page: Page, testInfo: TestInfo, name: string, fullPage = false): Promise<string> {
  const file = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path: file, fullPage });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
  return file;
}

/** The built-in MNIST job, replication 2 and quorum 2, submitted with the coordinator's key. */
async function submitJob(coord: TestContext, req: TestContext, digits: number, shardSize: number): Promise<string> {
  await expect(req.page.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  return submitMnist(req.page, { key: await requesterKeyOf(coord.page), count: digits, shardSize, replication: 2, quorum: 2 });
}

type Row = { peerId: string; backend: string | null; shardsDone: number };
const volunteersOf = (peers: QuorumState['coordinator']['peers']): Row[] =>
  peers
    .filter((p) => p.role === 'volunteer')
    .map((p) => ({ peerId: p.peerId, backend: p.backend, shardsDone: p.shardsDone }))
    .sort((a, b) => (a.peerId < b.peerId ? -1 : 1));

/** Clicks a node on the map canvas, found through the test build's map hook. */
async function clickNode(page: Page, peerId: string): Promise<void> {
  const canvas = page.getByTestId('map-canvas');
  await expect.poll(() => page.evaluate((id) => window.__quorumMap?.positionOf(id) ?? null, peerId), { timeout: 10_000 }).not.toBeNull();
  // Let the layout settle so the node is still there when the click lands.
  await page.waitForTimeout(1_500);
  const pos = await page.evaluate((id) => window.__quorumMap!.positionOf(id)!, peerId);
  await canvas.click({ position: { x: pos.x, y: pos.y } });
}

test('an observer shows every live volunteer with its real backend and shard count, as the coordinator counts them @map', async ({ openRoles }, testInfo) => {
  test.setTimeout(60_000);
  const [coord] = await openRoles(['coordinator']);
  await expect(coord!.page.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  const volunteers = await openRoles(['volunteer?autostart=1', 'volunteer?autostart=1', 'volunteer?autostart=1']);
  const [observer, req] = await openRoles(['network', 'requester']);
  const map = observer!.page;
  await expect(map.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  const backends: string[] = [];
  for (const v of volunteers) backends.push((await v.page.getByTestId('backend').textContent({ timeout: 30_000 })) ?? '');
  await expect(map.getByTestId('peer-count')).toHaveText(/^[4-9]$/, { timeout: 20_000 }); // 3 volunteers + requester (+ itself)

  await submitJob(coord!, req!, 2000, 50);

  // While the job runs: the map shows volunteers at work; keep a picture of it.
  await expect.poll(async () => (await state(map)).network.telemetry?.totals.working ?? 0, { timeout: 30_000 }).toBeGreaterThan(0);
  await expect.poll(async () => (await state(map)).network.telemetry?.totals.shardsVerified ?? 0, { timeout: 30_000 }).toBeGreaterThan(0);
  await screenshot(map, testInfo, 'map-running-job');
  await screenshot(map, testInfo, 'map-running-job-full-page', true);

  // Once the job is done, the observer's numbers settle on the coordinator's own.
  await expect.poll(async () => (await state(coord!.page)).coordinator.jobs[0]?.done ?? false, { timeout: 40_000 }).toBe(true);
  const truth = volunteersOf((await state(coord!.page)).coordinator.peers);
  expect(truth).toHaveLength(3);
  expect(truth.reduce((n, v) => n + v.shardsDone, 0)).toBe(2 * (2000 / 50)); // every shard verified by two
  await expect.poll(async () => volunteersOf((await state(map)).network.peers), { timeout: 5_000 }).toEqual(truth);
  // The backends are the ones the volunteers themselves report.
  expect(truth.map((v) => v.backend).sort()).toEqual([...backends].sort());
  // Telemetry frames go out every 500 ms, so the one in hand may predate the last verification.
  await expect.poll(async () => (await state(map)).network.telemetry?.totals.shardsVerified ?? 0, { timeout: 5_000 }).toBe(2000 / 50);
  const frame = (await state(map)).network.telemetry!;
  expect(frame.totals.volunteers).toBe(3);
  expect(frame.backendPairs.reduce((n, p) => n + p.agree, 0)).toBeGreaterThanOrEqual(2000 / 50);

  // The page shows the same: each volunteer's details, reached by clicking its node on the map.
  for (const v of truth) {
    await clickNode(map, v.peerId);
    const details = map.getByTestId('peer-details');
    await expect(details).toHaveAttribute('data-peer', v.peerId);
    await expect(map.getByTestId('detail-backend')).toHaveText(v.backend ?? '—');
    await expect(map.getByTestId('detail-shards')).toHaveText(String(v.shardsDone));
  }
  await expect(map.getByTestId('total-verified')).toHaveText(String(2000 / 50));
  for (const tc of [coord!, observer!, req!, ...volunteers]) expect(tc.foreignRequests()).toEqual([]);
});

test('a volunteer that lies shows as quarantined on the map @map', async ({ openRoles }, testInfo) => {
  test.setTimeout(60_000);
  const [coord] = await openRoles(['coordinator']);
  await expect(coord!.page.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  // The coordinator quarantines on evidence, not on a lost vote ([X-1]): a suspect is handed
  // known-answer canaries — shards the honest pair has settled and it never computed — and two
  // failed ones quarantine it, as do outvotes on answers that become established ([X-4]). In this
  // three-volunteer network one partner establishes an answer ([C-4]). The honest pair starts
  // first, and slowMs (test builds only) holds each shard 100 ms, so that work remains when the
  // liar arrives.
  const honest = await openRoles(['volunteer?autostart=1&slowMs=100', 'volunteer?autostart=1&slowMs=100']);
  const [observer, req] = await openRoles(['network', 'requester']);
  const map = observer!.page;
  await expect(map.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  for (const v of honest) await expect(v.page.getByTestId('backend')).toHaveText(/wasm|webgpu/, { timeout: 30_000 });
  await submitJob(coord!, req!, 2000, 20);
  await expect.poll(async () => (await state(map)).network.telemetry?.totals.shardsVerified ?? 0, { timeout: 20_000 }).toBeGreaterThanOrEqual(10);
  const [liar] = await openRoles(['volunteer?autostart=1&liar=1&slowMs=100']);
  await expect(liar!.page.getByTestId('backend')).toHaveText(/wasm|webgpu/, { timeout: 30_000 });

  // The liar is outvoted, caught by canaries and quarantined; the map says so.
  const quarantined = async (): Promise<string[]> =>
    (await state(map)).network.telemetry?.peers.filter((p) => p.status === 'quarantined').map((p) => p.label) ?? [];
  const deadline = Date.now() + 25_000;
  while ((await quarantined()).length === 0 && Date.now() < deadline) await map.waitForTimeout(500);
  if ((await quarantined()).length === 0) {
    // Say why: how far the job got and what the coordinator said about the liar.
    const c = (await state(coord!.page)).coordinator;
    const said = c.log.filter((l) => /quarantin|struck|canary|suspect/i.test(l.text)).map((l) => l.text);
    throw new Error(`no volunteer quarantined; job: ${JSON.stringify(c.jobs[0])}; coordinator log: ${JSON.stringify(said.slice(-15))}`);
  }
  expect(await quarantined()).toEqual(['lying volunteer (test)']);
  const frame = (await state(map)).network.telemetry!;
  const lying = frame.peers.find((p) => p.quarantined)!;
  expect(lying.rejected).toBeGreaterThan(0);
  expect(lying.agreementRate ?? 0).toBeLessThan(1);
  for (const p of frame.peers.filter((x) => x.role === 'volunteer' && x.peerId !== lying.peerId)) expect(p.status).not.toBe('quarantined');
  await expect(map.getByTestId('total-quarantined')).toHaveText('1');
  // The coordinator agrees.
  const coordSays = (await state(coord!.page)).coordinator;
  expect(coordSays.peers.find((p) => p.peerId === lying.peerId)).toBeDefined();

  await map.getByTestId('peer-picker').selectOption(lying.peerId);
  await expect(map.getByTestId('detail-status')).toHaveText('quarantined');
  await expect(map.getByTestId('lowest-agreement')).toContainText('quarantined');
  await screenshot(map, testInfo, 'map-liar-quarantined');
});

test('the map fits a phone screen and stays readable with 500 simulated peers @map', async ({ openRoles }, testInfo) => {
  const [phone] = await openRoles(['network?demo=500'], {
    contextOptions: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  });
  const page = phone!.page;
  await expect(page.getByTestId('demo-badge')).toBeVisible();
  const canvas = page.getByTestId('map-canvas');
  await expect(canvas).toBeVisible();
  // Every simulated peer is on the canvas (500 volunteers + requester + observer + coordinator), and it animates.
  await expect.poll(async () => Number(await canvas.getAttribute('data-nodes')), { timeout: 15_000 }).toBe(503);
  await expect.poll(async () => Number(await canvas.getAttribute('data-fps')), { timeout: 10_000 }).toBeGreaterThan(0);
  const s = await state(page);
  expect(s.network.source).toBe('demo');
  expect(s.network.telemetry!.totals.volunteers).toBe(500);
  // Nothing sticks out sideways, the map fills the width, the legend names every symbol.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  const box = (await canvas.boundingBox())!;
  expect(box.width).toBeGreaterThan(330);
  expect(box.y + box.height / 2).toBeLessThan(844); // the map starts above the fold
  for (const label of ['Working', 'Idle', 'Paused', 'Quarantined', 'Coordinator']) await expect(page.getByTestId('map-legend')).toContainText(label);
  // Tapping a node shows its details.
  const id = s.network.telemetry!.peers.find((p) => p.role === 'volunteer')!.peerId;
  // With 500 peers the layout may still drift when the click lands: tap again until it hits.
  await expect(async () => {
    await clickNode(page, id);
    await expect(page.getByTestId('peer-details')).toHaveAttribute('data-peer', id, { timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await page.waitForTimeout(500);
  await screenshot(page, testInfo, 'map-phone-390x844');
  expect(phone!.foreignRequests()).toEqual([]);
});
