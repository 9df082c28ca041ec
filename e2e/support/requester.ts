/** Helpers for tests that submit jobs: the coordinator's requester key, and downloads. */
import fs from 'node:fs';
import type { Download, Locator, Page } from '@playwright/test';
import { expect } from './browser.ts';

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
