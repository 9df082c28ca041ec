/**
 * [K-1]…[K-6] An impostor coordinator: the real coordinator tab closes mid-job and a rogue page
 * (the app's own coordinator, in another browser profile, so with another key) registers the
 * network's id. Volunteers and a requester that pinned the real key — one by its join link's
 * `fp`, the others on first use — refuse it: each page shows the key warning, and the rogue
 * never hears a hello (so no resume token, no requester key, no result). When the rogue leaves
 * and the real coordinator returns (same profile, same key), the job completes.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type { Page } from '@playwright/test';
import { expect, test } from './support/browser.ts';
import { download, expectVerifiedOnce, requesterKeyOf, submitMnist } from './support/requester.ts';
import { appState as state } from './support/state.ts';

const DIGITS = 200;
const SHARD_SIZE = 50;
/** Long enough that the job is still running when the coordinator goes. */
const SLOW_MS = 4_000;

async function fingerprintOf(coordinator: Page): Promise<string> {
  const el = coordinator.getByTestId('coordinator-key');
  await expect(el).toHaveText(/^[A-Za-z0-9_-]{43}$/, { timeout: 20_000 });
  return (await el.textContent()) ?? '';
}

test('pinned clients refuse an impostor that took the coordinator id, send it nothing, and finish the job with the real one @security', async ({
  openRoles,
}) => {
  test.setTimeout(240_000);
  const [coord] = await openRoles(['coordinator']);
  await expect(coord!.page.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  const key = await requesterKeyOf(coord!.page);
  const fp = await fingerprintOf(coord!.page);
  // [K-1] Every join link the coordinator shows carries its key's fingerprint.
  await expect(coord!.page.getByTestId('volunteer-link')).toHaveAttribute('href', new RegExp(`[?&]fp=${fp}$`));
  await expect(coord!.page.getByTestId('network-link')).toHaveAttribute('href', new RegExp(`[?&]fp=${fp}$`));

  // One volunteer opened from the join link (pinned by `fp`), one without (pinned on first use).
  const volunteers = await openRoles([`volunteer?autostart=1&slowMs=${SLOW_MS}&fp=${fp}`, `volunteer?autostart=1&slowMs=${SLOW_MS}`]);
  const [req, map] = await openRoles(['requester', `network?fp=${fp}`]);
  const clients = [...volunteers, req!, map!];
  await expect(coord!.page.getByTestId('volunteer-count')).toHaveText('2', { timeout: 30_000 });
  await expect(req!.page.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  for (const c of clients) await expect(c.page.getByTestId('coordinator-key-verified')).toHaveText(fp, { timeout: 20_000 });
  const jobId = await submitMnist(req!.page, { key, count: DIGITS, shardSize: SHARD_SIZE, replication: 2, quorum: 2 });

  // The real coordinator closes mid-job; a rogue page takes its id (a fresh profile: a key of its own).
  await expect.poll(async () => (await state(volunteers[0]!.page)).volunteer.stats?.phase ?? null, { timeout: 60_000 }).toBe('running');
  const context = coord!.context;
  await coord!.page.close();
  const [rogue] = await openRoles(['coordinator']);
  await expect(rogue!.page.getByTestId('connection-state')).toHaveText('connected', { timeout: 30_000 });
  const rogueFp = await fingerprintOf(rogue!.page);
  expect(rogueFp).not.toBe(fp);

  // [K-4] Every client page warns, naming both keys; none connects.
  for (const c of clients) {
    const alarm = c.page.getByTestId('key-alarm');
    await expect(alarm, `${c.name} shows the key warning`).toBeVisible({ timeout: 30_000 });
    await expect(alarm).toContainText(rogueFp);
    await expect(alarm).toContainText(fp);
    await expect(c.page.getByTestId('trust-new-key')).toBeVisible();
  }
  // [K-2] The rogue got nothing but challenges: no hello, so no peer, no job, no result.
  const r = (await state(rogue!.page)).coordinator;
  expect(r.peers).toEqual([]);
  expect(r.jobs).toEqual([]);
  await expect(rogue!.page.getByTestId('volunteer-count')).toHaveText('0');

  // [K-6] The rogue leaves; the real coordinator returns from its profile (its stored key) and is trusted again.
  await rogue!.page.close();
  const back = await context.newPage();
  await back.goto('/#/coordinator', { waitUntil: 'load' });
  await expect(back.getByTestId('connection-state')).toHaveText('connected', { timeout: 30_000 });
  await expect(back.getByTestId('coordinator-key')).toHaveText(fp);
  for (const c of clients) await expect(c.page.getByTestId('key-alarm'), `${c.name} clears its warning`).toBeHidden({ timeout: 30_000 });

  // The job completes with every item verified exactly once; nothing ever left the machine.
  await expectVerifiedOnce(req!.page, jobId, DIGITS, 2);
  for (const c of clients) expect(c.foreignRequests()).toEqual([]);
});

/**
 * [AU-3]…[AU-6] (c) A finished job's JSON export carries the coordinator's signed receipt: it
 * verifies with `npm run verify-receipt -- <file> --fp <fp>` and with the dashboard's "Verify
 * receipt"; the same export with one number changed fails both, naming the shard.
 */
test('an export’s receipt verifies by the script and the button; one changed number fails both, naming the shard @security', async ({
  openRoles,
}, testInfo) => {
  test.setTimeout(240_000);
  const [coord] = await openRoles(['coordinator']);
  await expect(coord!.page.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  const key = await requesterKeyOf(coord!.page);
  const fp = await fingerprintOf(coord!.page);
  await openRoles([`volunteer?autostart=1&fp=${fp}`, `volunteer?autostart=1&fp=${fp}`]);
  const [req] = await openRoles([`requester?fp=${fp}`]);
  await expect(coord!.page.getByTestId('volunteer-count')).toHaveText('2', { timeout: 30_000 });
  await expect(req!.page.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  const jobId = await submitMnist(req!.page, { key, count: 40, shardSize: 10, replication: 2, quorum: 2 });
  await expectVerifiedOnce(req!.page, jobId, 40, 2);

  const card = req!.page.getByTestId(`results-${jobId}`);
  const exported = await download(req!.page, card.getByTestId('export-json'));
  const good = testInfo.outputPath(exported.name);
  fs.writeFileSync(good, exported.bytes);
  // One number of item 12 (shard 1: items 10–19) changed, the file otherwise as it was.
  const doc = JSON.parse(exported.bytes.toString('utf8')) as { receipt?: unknown; outputs: { values: number[][] }[] };
  expect(doc.receipt).toBeDefined();
  doc.outputs[0]!.values[12]![3] = doc.outputs[0]!.values[12]![3]! + 0.5;
  const bad = testInfo.outputPath(`tampered-${exported.name}`);
  fs.writeFileSync(bad, JSON.stringify(doc));

  const verifyScript = (file: string) => spawnSync('npm', ['run', '--silent', 'verify-receipt', '--', file, '--fp', fp], { encoding: 'utf8' });
  const ok = verifyScript(good);
  expect(ok.status, ok.stdout + ok.stderr).toBe(0);
  expect(ok.stdout).toContain(`The receipt verifies: job ${jobId}, 4 shard(s)`);
  const failed = verifyScript(bad);
  expect(failed.status, failed.stdout + failed.stderr).toBe(1);
  expect(failed.stdout).toContain('shard 1 (items 10–19): output');

  const verdict = req!.page.getByTestId('receipt-verdict');
  await req!.page.getByTestId('verify-receipt-files').setInputFiles(good);
  await expect(verdict).toHaveAttribute('data-state', 'valid', { timeout: 20_000 });
  await expect(verdict).toContainText(`signed by the trusted coordinator key ${fp}`);
  await req!.page.getByTestId('verify-receipt-files').setInputFiles(bad);
  await expect(verdict).toHaveAttribute('data-state', 'invalid', { timeout: 20_000 });
  await expect(verdict).toContainText('shard 1 (items 10–19)');
});
