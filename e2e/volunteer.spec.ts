/**
 * The volunteer experience, for real: the landing page, pause and resume, pausing in a hidden
 * tab, honest backends (a WASM volunteer in a browser without WebGPU and a WebGPU volunteer on
 * SwiftShader verifying one job together), several volunteer tabs in one browser, and the page's
 * responsiveness (main-thread long tasks) while the inference worker computes.
 */
import { chromium, type Browser, type Page } from '@playwright/test';
import type { QuorumState } from '../src/model/state.ts';
import { expect, test, type TestContext } from './support/browser.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, CONTEXT_PERMISSIONS, E2E_BASE_URL } from './support/env.ts';
import { requesterKeyOf, submitMnist } from './support/requester.ts';
import { appState as state } from './support/state.ts';

async function openCoordinator(openRoles: (roles: readonly string[]) => Promise<TestContext[]>): Promise<TestContext> {
  const [coord] = await openRoles(['coordinator']);
  await expect(coord!.page.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  return coord!;
}

/** The built-in MNIST job, replication 2 and quorum 2, submitted with the coordinator's key. */
async function submitJob(coord: TestContext, req: Page, digits: number, shardSize: number): Promise<string> {
  await expect(req.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  return submitMnist(req, { key: await requesterKeyOf(coord.page), count: digits, shardSize, replication: 2, quorum: 2 });
}

type PeerRow = QuorumState['coordinator']['peers'][number];
async function peerOf(coord: Page, peerId: string): Promise<PeerRow | undefined> {
  return (await state(coord)).coordinator.peers.find((p) => p.peerId === peerId);
}

async function peerIdOf(page: Page): Promise<string> {
  await expect.poll(async () => (await state(page)).volunteer.stats?.peerId ?? null, { timeout: 30_000 }).not.toBeNull();
  return (await state(page)).volunteer.stats!.peerId!;
}

/** Makes the page look hidden (or visible) to the Page Visibility API and tells it so. */
async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((h) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

const activity = (page: Page) => page.getByTestId('volunteer-activity');

test('the landing page says what runs, starts with one click, and shows the real backend, threads and isolation @volunteer', async ({ openRoles }) => {
  test.setTimeout(60_000);
  await openCoordinator(openRoles);
  const [vol] = await openRoles(['volunteer']);
  const page = vol!.page;
  await expect(page.getByTestId('what-runs')).toContainText('What runs here');
  await expect(page.getByTestId('volunteer-activity')).toHaveText('not started');
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  await expect(page.getByTestId('isolation')).toHaveAttribute('data-isolated', 'true');

  await page.getByTestId('start-volunteering').click();
  // This browser has no WebGPU: the volunteer says so and why, and runs on WASM.
  await expect(page.getByTestId('backend')).toHaveText('wasm', { timeout: 30_000 });
  await expect(page.getByTestId('backend-reason')).toContainText('WebGPU unavailable');
  await expect(page.getByTestId('backend-detail')).toContainText(/WASM \(CPU\), \d+ thread/);
  await expect(page.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  await expect(page.getByTestId('tab-count')).toHaveText('1 volunteer tab open in this browser; each counts as one volunteer.');

  // A thread count restarts the engine with it (WASM threads need the isolation checked above).
  await page.getByTestId('threads').selectOption('2');
  await expect(page.getByTestId('threads-in-use')).toContainText('2 in use', { timeout: 30_000 });
  expect((await state(page)).volunteer.caps?.threads).toBe(2);
  await expect(activity(page)).toHaveAttribute('data-paused', 'false');
  // …and it is kept: after a reload the setting is still 2.
  await page.reload();
  await expect(page.getByTestId('threads')).toHaveValue('2');
  expect(vol!.foreignRequests()).toEqual([]);
});

test('pause hands the shard in hand back and stops new leases within a second; resume continues @volunteer', async ({ openRoles }) => {
  test.setTimeout(90_000);
  const coord = await openCoordinator(openRoles);
  // The pausing volunteer holds each shard 1.5 s (test builds only), so a pause always finds one in hand.
  // Two more volunteers, so every shard can still get two different replicas while it is paused
  // (slowed down too, so work is left when it resumes).
  const [slow, other, third] = await openRoles(['volunteer?autostart=1&slowMs=1500', 'volunteer?autostart=1&slowMs=400', 'volunteer?autostart=1&slowMs=400']);
  const slowId = await peerIdOf(slow!.page);
  await peerIdOf(other!.page);
  await peerIdOf(third!.page);
  const [req] = await openRoles(['requester']);
  const jobId = await submitJob(coord, req!.page, 2000, 40);

  // Wait until the slow volunteer has delivered one result and holds the next shard.
  await expect.poll(async () => Number(await slow!.page.getByTestId('results-delivered').textContent()), { timeout: 30_000 }).toBeGreaterThan(0);
  await expect(slow!.page.getByTestId('phase')).toHaveText('running', { timeout: 10_000 });
  const shardInHand = (await state(slow!.page)).volunteer.stats!.currentShard!;
  // [W-18] The shard running, and perhaps the next one queued behind it.
  expect((await peerOf(coord.page, slowId))?.activeLeases).toBeGreaterThanOrEqual(1);
  expect((await peerOf(coord.page, slowId))?.activeLeases).toBeLessThanOrEqual(2);

  const clickedAt = Date.now();
  await slow!.page.getByTestId('pause-toggle').click();
  await expect(activity(slow!.page)).toHaveAttribute('data-phase', 'paused');
  await expect(activity(slow!.page)).toHaveText('Paused: you paused it');
  // The coordinator knows within a second: paused, no lease.
  await expect
    .poll(
      async () => {
        const p = await peerOf(coord.page, slowId);
        return p?.paused === true && p.activeLeases === 0;
      },
      { timeout: 1_000, intervals: [50] },
    )
    .toBe(true);
  const tookMs = Date.now() - clickedAt;
  const log = (await state(coord.page)).coordinator.log.map((l) => l.text);
  expect(log.some((t) => t.includes(`${shardInHand} released: abandoned: paused`))).toBe(true);
  console.log(`pause → coordinator saw paused with no lease after ${tookMs} ms; ${shardInHand} handed back`);

  // No lease while paused, while the other volunteer carries on.
  const delivered = Number(await slow!.page.getByTestId('results-delivered').textContent());
  const othersDelivered = async (): Promise<number> =>
    Number(await other!.page.getByTestId('results-delivered').textContent()) + Number(await third!.page.getByTestId('results-delivered').textContent());
  const othersBefore = await othersDelivered();
  for (let i = 0; i < 6; i++) {
    await slow!.page.waitForTimeout(500);
    expect((await peerOf(coord.page, slowId))?.activeLeases).toBe(0);
    expect((await state(slow!.page)).volunteer.stats?.currentShard).toBeNull();
  }
  expect(Number(await slow!.page.getByTestId('results-delivered').textContent())).toBe(delivered);
  expect(await othersDelivered()).toBeGreaterThan(othersBefore);

  // Resume: it asks again and delivers again.
  expect((await state(coord.page)).coordinator.jobs.find((j) => j.jobId === jobId)?.done).toBe(false);
  await slow!.page.getByTestId('pause-toggle').click();
  await expect.poll(async () => (await peerOf(coord.page, slowId))?.paused, { timeout: 2_000 }).toBe(false);
  await expect.poll(async () => Number(await slow!.page.getByTestId('results-delivered').textContent()), { timeout: 20_000 }).toBeGreaterThan(delivered);
});

test('a hidden tab pauses when that setting is on, and not when it is off; the setting survives a reload @volunteer', async ({ openRoles }) => {
  test.setTimeout(60_000);
  const coord = await openCoordinator(openRoles);
  const [vol] = await openRoles(['volunteer?autostart=1']);
  const page = vol!.page;
  const id = await peerIdOf(page);
  await expect(page.getByTestId('pause-when-hidden')).toBeChecked();

  await setHidden(page, true);
  await expect(activity(page)).toHaveText('Paused: the tab is hidden');
  await expect.poll(async () => (await peerOf(coord.page, id))?.paused, { timeout: 2_000 }).toBe(true);
  await setHidden(page, false);
  await expect(activity(page)).toHaveAttribute('data-paused', 'false');
  await expect.poll(async () => (await peerOf(coord.page, id))?.paused, { timeout: 2_000 }).toBe(false);

  await page.getByTestId('pause-when-hidden').uncheck();
  await setHidden(page, true);
  await page.waitForTimeout(1_000);
  await expect(activity(page)).toHaveAttribute('data-paused', 'false');
  expect((await peerOf(coord.page, id))?.paused).toBe(false);

  // Saved in IndexedDB: a reloaded tab (hidden or not) keeps the choice.
  await page.goto('/#/volunteer');
  await page.reload();
  await expect(page.getByTestId('pause-when-hidden')).not.toBeChecked();
  await expect(page.getByTestId('pause-on-battery')).toBeChecked();
});

test('on battery the volunteer pauses (when set to), and plugging in resumes it @volunteer', async ({ openRoles, openContexts }) => {
  test.setTimeout(60_000);
  const coord = await openCoordinator(openRoles);
  const [vol] = await openContexts(['battery-volunteer']);
  const page = vol!.page;
  // A fake Battery Status API the test can unplug.
  await page.addInitScript(() => {
    const battery = new EventTarget() as EventTarget & { charging: boolean; level: number };
    battery.charging = true;
    battery.level = 0.8;
    (window as unknown as { __battery: typeof battery }).__battery = battery;
    Object.defineProperty(navigator, 'getBattery', { configurable: true, value: () => Promise.resolve(battery) });
  });
  await page.goto('/#/volunteer?autostart=1');
  const id = await peerIdOf(page);
  const unplug = (charging: boolean) =>
    page.evaluate((c) => {
      const b = (window as unknown as { __battery: EventTarget & { charging: boolean } }).__battery;
      b.charging = c;
      b.dispatchEvent(new Event('chargingchange'));
    }, charging);
  await unplug(false);
  await expect(activity(page)).toHaveText('Paused: the device is on battery');
  await expect.poll(async () => (await peerOf(coord.page, id))?.paused, { timeout: 2_000 }).toBe(true);
  await unplug(true);
  await expect(activity(page)).toHaveAttribute('data-paused', 'false');
  await page.getByTestId('pause-on-battery').uncheck();
  await unplug(false);
  await page.waitForTimeout(500);
  await expect(activity(page)).toHaveAttribute('data-paused', 'false');
  expect((await peerOf(coord.page, id))?.paused).toBe(false);
});

test.describe('honest backends', () => {
  let gpuBrowser: Browser | null = null;
  test.afterEach(async () => {
    await gpuBrowser?.close();
    gpuBrowser = null;
  });

  test('a WASM volunteer and a WebGPU (SwiftShader) volunteer verify one job together, each result tagged with its real backend @volunteer', async ({
    openRoles,
  }) => {
    test.setTimeout(120_000);
    const DIGITS = 200;
    const SHARD = 50;
    const SHARDS = DIGITS / SHARD;
    const coord = await openCoordinator(openRoles);

    // A second browser with WebGPU on SwiftShader (the suite's browser has none).
    gpuBrowser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'] });
    const gpuContext = await gpuBrowser.newContext({ baseURL: E2E_BASE_URL, permissions: [...CONTEXT_PERMISSIONS] });
    const gpu = await gpuContext.newPage();
    const gpuLogs: string[] = [];
    gpu.on('console', (m) => gpuLogs.push(`${m.type()}: ${m.text()}`));
    await gpu.goto('/#/volunteer?autostart=1');
    const [wasmVol] = await openRoles(['volunteer?autostart=1']);
    const wasm = wasmVol!.page;

    await expect(gpu.getByTestId('backend'), gpuLogs.join('\n')).toHaveText('webgpu', { timeout: 60_000 });
    await expect(gpu.getByTestId('backend-detail')).toContainText(/WebGPU on .*swiftshader/i);
    await expect(gpu.getByTestId('backend-reason')).toContainText('probe model ran on');
    await expect(wasm.getByTestId('backend')).toHaveText('wasm', { timeout: 30_000 });
    await expect(wasm.getByTestId('backend-reason')).toContainText('WebGPU unavailable');
    const gpuId = await peerIdOf(gpu);
    const wasmId = await peerIdOf(wasm);
    await expect.poll(async () => (await peerOf(coord.page, gpuId))?.backend, { timeout: 5_000 }).toBe('webgpu');

    const [req] = await openRoles(['requester']);
    const jobId = await submitJob(coord, req!.page, DIGITS, SHARD);
    await expect(req!.page.locator(`[data-testid=results-${jobId}]`)).toBeVisible({ timeout: 90_000 });

    // Every shard verified by one WebGPU and one WASM result, as provenance tells the requester.
    const results = (await state(req!.page)).requester.results[jobId]!;
    expect(results.provenance).toHaveLength(SHARDS);
    for (const p of results.provenance) {
      expect([...p.backends].sort()).toEqual(['wasm', 'webgpu']);
      expect([...p.volunteers].sort()).toEqual([gpuId, wasmId].sort());
    }
    expect(results.verifiedItems).toBe(DIGITS);
    expect(results.accuracy).toBeGreaterThanOrEqual(0.9);
    // Each page shows the last shard's real backend.
    await expect(gpu.getByTestId('last-result')).toContainText('on webgpu');
    await expect(wasm.getByTestId('last-result')).toContainText('on wasm');

    // "Shards done" on each volunteer page is what the coordinator accepted from it. Standing
    // reports are batched (at most one per 5 s, [P-7]) so their timing cannot reveal canaries.
    for (const [page, id] of [
      [gpu, gpuId],
      [wasm, wasmId],
    ] as const) {
      await expect.poll(async () => Number(await page.getByTestId('shards-done').textContent()), { timeout: 15_000 }).toBe(SHARDS);
      expect((await peerOf(coord.page, id))?.shardsDone).toBe(SHARDS);
      await expect(page.getByTestId('reputation')).toContainText(`a streak of ${SHARDS} valid results`, { timeout: 15_000 });
    }
    for (const [name, page] of [
      ['webgpu', gpu],
      ['wasm', wasm],
    ] as const) {
      const lt = (await state(page)).volunteer.controls.longTasks;
      console.log(
        `long tasks on the ${name} volunteer page: ${lt.count} (longest ${lt.longestMs.toFixed(0)} ms); ${lt.busyCount} while the worker was busy for ${lt.busyMs.toFixed(0)} ms (longest ${lt.busyLongestMs.toFixed(0)} ms)`,
      );
    }
    await gpuContext.close();
  });

  test('a WebGPU device lost mid-job: the volunteer moves to WASM, says so, tells the coordinator, and its results say wasm @volunteer', async ({
    openRoles,
  }) => {
    test.setTimeout(120_000);
    const coord = await openCoordinator(openRoles);
    gpuBrowser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'] });
    const gpuContext = await gpuBrowser.newContext({ baseURL: E2E_BASE_URL, permissions: [...CONTEXT_PERMISSIONS] });
    const gpu = await gpuContext.newPage();
    // Each shard held 700 ms, so the job is still running when the device goes.
    await gpu.goto('/#/volunteer?autostart=1&slowMs=700');
    const [wasmVol] = await openRoles(['volunteer?autostart=1']);
    await expect(gpu.getByTestId('backend')).toHaveText('webgpu', { timeout: 60_000 });
    const gpuId = await peerIdOf(gpu);
    await peerIdOf(wasmVol!.page);
    const [req] = await openRoles(['requester']);
    const jobId = await submitJob(coord, req!.page, 400, 50);
    await expect.poll(async () => Number(await gpu.getByTestId('results-delivered').textContent()), { timeout: 60_000 }).toBeGreaterThan(0);

    // Lose the device from inside the inference worker: the next command encoder destroys it.
    const worker = gpu.workers().find((w) => w.url().includes('inference'));
    expect(
      worker,
      gpu
        .workers()
        .map((w) => w.url())
        .join(', '),
    ).toBeDefined();
    await worker!.evaluate(() => {
      const proto = (globalThis as unknown as { GPUDevice: { prototype: { createCommandEncoder(...a: unknown[]): unknown; destroy(): void } } }).GPUDevice
        .prototype;
      const original = proto.createCommandEncoder;
      proto.createCommandEncoder = function (this: { destroy(): void }, ...a: unknown[]) {
        this.destroy();
        return original.apply(this, a);
      };
    });
    await expect(gpu.getByTestId('backend')).toHaveText('wasm', { timeout: 60_000 });
    await expect(gpu.getByTestId('backend-reason')).toContainText(/lost|WebGPU/);
    // [W-13] The coordinator was told: its peer list (and the map) show WASM now.
    await expect.poll(async () => (await peerOf(coord.page, gpuId))?.backend, { timeout: 5_000 }).toBe('wasm');

    await expect(req!.page.locator(`[data-testid=results-${jobId}]`)).toBeVisible({ timeout: 90_000 });
    const results = (await state(req!.page)).requester.results[jobId]!;
    expect(results.verifiedItems).toBe(400);
    const gpuBackends = results.provenance.map((p) => p.backends[p.volunteers.indexOf(gpuId)]);
    console.log(`device-loss volunteer's backends per shard: ${gpuBackends.join(', ')}`);
    expect(gpuBackends).toContain('wasm'); // results after the loss say wasm
    // Once on WASM it never claims WebGPU again: no webgpu after the first wasm.
    const firstWasm = gpuBackends.indexOf('wasm');
    expect(gpuBackends.slice(firstWasm).every((b) => b === 'wasm' || b === undefined)).toBe(true);
    await gpuContext.close();
  });
});

test('several volunteer tabs in one browser each count as one volunteer, and each page says so @volunteer', async ({ openRoles, openContexts }) => {
  test.setTimeout(60_000);
  const coord = await openCoordinator(openRoles);
  const [tc] = await openContexts(['two-tabs']);
  const first = tc!.page;
  await first.goto('/#/volunteer?autostart=1');
  await expect(first.getByTestId('tab-count')).toHaveAttribute('data-tabs', '1', { timeout: 30_000 });
  const second = await tc!.context.newPage();
  await second.goto('/#/volunteer?autostart=1');
  for (const p of [first, second]) {
    await expect(p.getByTestId('tab-count')).toHaveText('2 volunteer tabs open in this browser; each counts as one volunteer.', { timeout: 30_000 });
  }
  // The second tab started while another volunteered: automatic threads gave it 1.
  await expect(second.getByTestId('threads-in-use')).toContainText('1 in use');
  await expect(coord.page.getByTestId('volunteer-count')).toHaveText('2', { timeout: 30_000 });
  await second.close();
  await expect(first.getByTestId('tab-count')).toHaveAttribute('data-tabs', '1', { timeout: 10_000 });
});

test('the page stays responsive while the worker computes: long tasks are counted and shown @volunteer', async ({ openRoles }) => {
  test.setTimeout(90_000);
  const coord = await openCoordinator(openRoles);
  const vols = await openRoles(['volunteer?autostart=1', 'volunteer?autostart=1']);
  for (const v of vols) await peerIdOf(v.page);
  const [req] = await openRoles(['requester']);
  const jobId = await submitJob(coord, req!.page, 2000, 100);
  await expect(req!.page.locator(`[data-testid=results-${jobId}]`)).toBeVisible({ timeout: 60_000 });
  for (const v of vols) {
    const lt = (await state(v.page)).volunteer.controls.longTasks;
    expect(lt.supported).toBe(true);
    expect(lt.busyMs).toBeGreaterThan(0);
    await expect(v.page.getByTestId('long-tasks')).toHaveAttribute('data-count', String(lt.count));
    console.log(
      `${v.name}: ${lt.count} long tasks (longest ${lt.longestMs.toFixed(0)} ms); ${lt.busyCount} while the worker was busy ${lt.busyMs.toFixed(0)} ms (longest ${lt.busyLongestMs.toFixed(0)} ms)`,
    );
  }
});
