/** Helpers for tests that submit jobs: the coordinator's requester key, and downloads. */
import fs from 'node:fs';
import type { Download, Locator, Page } from '@playwright/test';
import { expect, type TestContext } from './browser.ts';
import type { QuorumState } from '../../src/model/state.ts';
import { appState } from './state.ts';

/**
 * The requester key the coordinator page shows ([J-1]: submissions without it are refused).
 * Every test coordinator makes a fresh one in its own IndexedDB on first start.
 */
export async function requesterKeyOf(coordinator: Page): Promise<string> {
  const el = coordinator.getByTestId('requester-key');
  await expect(el).toHaveText(/^[0-9a-f]{32}$/, { timeout: 20_000 });
  return (await el.textContent()) ?? '';
}

/** Clicks `button` and returns the downloaded file's name and bytes. */
export async function download(page: Page, button: Locator): Promise<{ name: string; bytes: Buffer }> {
  const [d] = await Promise.all([page.waitForEvent('download'), button.click()]);
  return read(d);
}

async function read(d: Download): Promise<{ name: string; bytes: Buffer }> {
  const file = await d.path();
  return { name: d.suggestedFilename(), bytes: await fs.promises.readFile(file) };
}

export interface MnistSubmission {
  readonly key: string;
  readonly count: number;
  readonly shardSize: number;
  readonly replication?: number;
  readonly quorum?: number;
}

/**
 * Submits the built-in MNIST job from a requester page and waits until the coordinator answered;
 * fails with the coordinator's reason unless it accepted. Returns the job id. (It does not wait
 * for the page to say "connected": during a signaling outage the page says "connecting" while its
 * channel to the coordinator still carries the job.)
 */
export async function submitMnist(page: Page, job: MnistSubmission): Promise<string> {
  await page.locator('input[name=requesterKey]').fill(job.key);
  await page.locator('input[name=count]').fill(String(job.count));
  await page.locator('input[name=shardSize]').fill(String(job.shardSize));
  if (job.replication !== undefined) await page.locator('input[name=replication]').fill(String(job.replication));
  if (job.quorum !== undefined) await page.locator('input[name=quorum]').fill(String(job.quorum));
  const before = (await submissions(page)).length;
  await page.getByTestId('submit-job').click();
  // The new submission is the one appended after the click; wait for the coordinator's answer.
  await expect.poll(async () => (await submissions(page))[before]?.state ?? 'none', { timeout: 30_000 }).not.toMatch(/^(none|sending)$/);
  const sub = (await submissions(page))[before];
  expect(sub?.state, `submission ${sub?.state}: ${sub?.reason ?? ''}`).toBe('accepted');
  if (!sub?.jobId) throw new Error('the accepted submission has no job id');
  return sub.jobId;
}

async function submissions(page: Page): Promise<{ state: string; jobId: string | null; reason: string | null }[]> {
  return (await appState(page)).requester.submissions.map((s) => ({ state: s.state, jobId: s.jobId, reason: s.reason ?? null }));
}

type JobResults = QuorumState['requester']['results'][string];

/**
 * Waits for a job's verified results on a requester page and checks what every job must hold:
 * all `items` verified, each exactly once, each shard agreed by at least `minVolunteers`
 * distinct volunteers. Returns the results for further checks.
 */
export async function expectVerifiedOnce(page: Page, jobId: string, items: number, minVolunteers = 1, timeout = 150_000): Promise<JobResults> {
  await expect(page.locator('[data-testid^=results-]')).toBeVisible({ timeout });
  const results = (await appState(page)).requester.results[jobId];
  if (!results) throw new Error(`no results for job ${jobId} on the requester page`);
  expect(results.verifiedItems).toBe(items);
  const covered = new Array<number>(items).fill(0);
  for (const p of results.provenance) {
    expect(new Set(p.volunteers).size).toBe(p.volunteers.length);
    expect(p.volunteers.length).toBeGreaterThanOrEqual(minVolunteers);
    for (let i = p.start; i < p.start + p.count; i++) covered[i] = (covered[i] ?? 0) + 1;
  }
  expect(covered.filter((c) => c !== 1)).toEqual([]);
  return results;
}

/** Runs the page's single-tab reference of the same model and inputs; its predictions must equal `predictions`. */
export async function expectReferenceMatch(page: Page, predictions: readonly number[], timeout = 60_000): Promise<void> {
  await page.getByTestId('run-reference').click();
  await expect(page.getByTestId('reference-state')).toHaveAttribute('data-state', 'done', { timeout });
  const reference = (await appState(page)).requester.reference?.predictions ?? [];
  expect(reference).toHaveLength(predictions.length);
  expect([...predictions]).toEqual(reference);
}

/** Waits until a page's link to its coordinator says "connected". */
export async function expectConnected(page: Page): Promise<void> {
  await expect(page.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
}

/**
 * A coordinator, its requester key, and `count` started volunteers that report their backend and
 * that the coordinator counts: a network ready for a job.
 */
export async function openWorkingNetwork(
  openRoles: (roles: string[]) => Promise<TestContext[]>,
  count = 2,
): Promise<{ coord: TestContext; key: string; volunteers: TestContext[] }> {
  const [coord] = await openRoles(['coordinator']);
  if (!coord) throw new Error('no coordinator context');
  await expectConnected(coord.page);
  const key = await requesterKeyOf(coord.page);
  const volunteers = await openRoles(Array.from({ length: count }, () => 'volunteer?autostart=1'));
  for (const v of volunteers) await expect(v.page.getByTestId('backend')).toHaveText(/wasm|webgpu/, { timeout: 30_000 });
  await expect(coord.page.getByTestId('volunteer-count')).toHaveText(String(count), { timeout: 30_000 });
  return { coord, key, volunteers };
}
