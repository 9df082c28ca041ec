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
import { download, expectConnected, expectVerifiedOnce, requesterKeyOf, submitMnist } from './support/requester.ts';
import { appState as state } from './support/state.ts';
import { E2E_ADMIN_TOKEN } from './support/env.ts';
import { rawPeer } from './support/rawPeer.ts';
import { PROTOCOL_VERSION } from '../src/protocol/messages.ts';

const DIGITS = 200;
const SHARD_SIZE = 50;
/** Long enough that the job is still running when the coordinator goes. */
const SLOW_MS = 4_000;

/**
 * [K-7] The operator makes the signaling server forget which key first claimed a coordinator id,
 * as a restart of the server would: the next claim reserves it again.
 */
async function releaseCoordinatorId(origin: string, id: string): Promise<void> {
  const res = await fetch(`${origin}/admin/signaling/release?id=${id}`, { method: 'POST', headers: { Authorization: `Bearer ${E2E_ADMIN_TOKEN}` } });
  expect(res.status, 'POST /admin/signaling/release').toBe(200);
}

async function fingerprintOf(coordinator: Page): Promise<string> {
  const el = coordinator.getByTestId('coordinator-key');
  await expect(el).toHaveText(/^[A-Za-z0-9_-]{43}$/, { timeout: 20_000 });
  return (await el.textContent()) ?? '';
}

test('pinned clients refuse an impostor that took the coordinator id, send it nothing, and finish the job with the real one @security', async ({
  openRoles,
  appOrigin,
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

  // The real coordinator closes mid-job; a rogue page (a fresh profile: a key of its own) cannot
  // take its id: [K-7] the signaling server keeps it for the real coordinator's key.
  await expect.poll(async () => (await state(volunteers[0]!.page)).volunteer.stats?.phase ?? null, { timeout: 60_000 }).toBe('running');
  const context = coord!.context;
  const coordinatorId = (await state(coord!.page)).coordinator.peerId ?? '';
  await coord!.page.close();
  const [refused] = await openRoles(['coordinator']);
  await expect(refused!.page.getByTestId('connection-state')).toContainText('keeps "quorum-', { timeout: 30_000 });
  await refused!.context.close();
  // Once the server has forgotten the reservation (a restart), a rogue can take the id; the clients must hold on their own.
  await releaseCoordinatorId(appOrigin, coordinatorId);
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

  // [K-6] The rogue leaves; the real coordinator returns from its profile (its stored key) and is
  // trusted again (the operator releases the id the rogue claimed first, [K-7]).
  await rogue!.page.close();
  await releaseCoordinatorId(appOrigin, coordinatorId);
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
 * [J-11] [J-12] A job's results go to the holders of the requester key it was submitted under and
 * to nobody else: a peer of the coordinator that is no page (the Node transport, from this test)
 * asks for them as a requester without the key, with a wrong key and as an observer, and gets
 * nothing — not even the job's status; with the key it reads them (the key owns the job, not the
 * tab). The coordinator page rotates the key: the old one reads nothing more, also after a reload.
 */
test('a peer without the requester key cannot read a job, nor can one with a rotated-out key; the key holder can @security', async ({
  openRoles,
  appOrigin,
}) => {
  test.setTimeout(180_000);
  const [coord] = await openRoles(['coordinator']);
  await expectConnected(coord!.page);
  const key = await requesterKeyOf(coord!.page);
  const networkId = (await state(coord!.page)).coordinator.networkId;
  await openRoles(['volunteer?autostart=1', 'volunteer?autostart=1']);
  const [req] = await openRoles([`requester?key=${key}`]);
  await expectConnected(req!.page);
  const jobId = await submitMnist(req!.page, { key, count: 20, shardSize: 10, replication: 2, quorum: 2 });
  await expectVerifiedOnce(req!.page, jobId, 20, 2);

  const peer = await rawPeer(appOrigin, networkId);
  try {
    const hello = (role: 'requester' | 'observer', requesterKey?: string) => ({
      v: PROTOCOL_VERSION,
      t: 'hello',
      role,
      caps: null,
      label: 'raw',
      ...(requesterKey === undefined ? {} : { requesterKey }),
    });
    /** Says hello on a fresh connection, asks for the job's results, and returns what came back in `waitMs`. */
    const ask = async (frame: unknown, waitMs = 3_000): Promise<string[]> => {
      await peer.reconnect();
      peer.send(frame);
      await expect.poll(() => peer.received.map((m) => m.t), { timeout: 20_000 }).toContain('welcome');
      peer.send({ v: PROTOCOL_VERSION, t: 'results-request', jobId });
      await new Promise((r) => setTimeout(r, waitMs));
      return peer.received.map((m) => m.t);
    };
    for (const frame of [hello('requester'), hello('requester', 'not-the-key-0123456789abcdef'), hello('observer')]) {
      const got = await ask(frame);
      expect(got, JSON.stringify(frame)).not.toContain('job-results');
      expect(got, JSON.stringify(frame)).not.toContain('job-status');
    }
    // The key holder (any tab or peer holding it) reads the job: a positive control for the above.
    await ask(hello('requester', key), 0);
    await expect.poll(() => peer.received.map((m) => m.t), { timeout: 20_000 }).toContain('job-results');
    const results = peer.received.find((m) => m.t === 'job-results');
    expect(results?.t === 'job-results' ? results.shards.length : 0).toBe(2);

    // [J-12] The coordinator page rotates the key; the old one reads nothing more.
    await coord!.page.getByTestId('rotate-requester-key').click();
    await expect(coord!.page.getByTestId('rotation-status')).toContainText('rotated');
    const rotated = await requesterKeyOf(coord!.page);
    expect(rotated).not.toBe(key);
    expect(await ask(hello('requester', key))).not.toContain('job-results');
    // The new key is kept: a reload of the coordinator page shows it, and it reads the job.
    await coord!.page.reload();
    await expectConnected(coord!.page);
    expect(await requesterKeyOf(coord!.page)).toBe(rotated);
    await ask(hello('requester', rotated), 0);
    await expect.poll(() => peer.received.map((m) => m.t), { timeout: 20_000 }).toContain('job-results');
  } finally {
    peer.close();
  }
});

/**
 * [I-2] A volunteer's peer id belongs to its key. Volunteer A earns standing, closes; an impostor
 * (another browser profile, so another key) starts under A's peer id — ids are public in the
 * telemetry — and is refused: it moves to a fresh id and gets none of A's standing. A, back from
 * its own profile (its key in IndexedDB) under its id, is served with its standing.
 */
test('a volunteer cannot take over another volunteer’s identity by reconnecting under its peer id @security', async ({ openRoles, openContexts }) => {
  test.setTimeout(240_000);
  const [coord] = await openRoles(['coordinator']);
  await expect(coord!.page.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  const key = await requesterKeyOf(coord!.page);
  const [a, other, req] = await openRoles(['volunteer?autostart=1', 'volunteer?autostart=1', 'requester']);
  await expect(coord!.page.getByTestId('volunteer-count')).toHaveText('2', { timeout: 30_000 });
  const jobId = await submitMnist(req!.page, { key, count: 100, shardSize: 50, replication: 2, quorum: 2 });
  await expectVerifiedOnce(req!.page, jobId, 100, 2);

  const volunteerOf = async (page: Page): Promise<{ peerId: string; networkId: string }> => {
    await expect.poll(async () => (await state(page)).volunteer.stats?.peerId ?? null, { timeout: 30_000 }).not.toBeNull();
    const v = (await state(page)).volunteer;
    return { peerId: v.stats!.peerId!, networkId: v.networkId };
  };
  const { peerId: aId, networkId } = await volunteerOf(a!.page);
  const shardsDoneOf = async (id: string): Promise<number | null> =>
    (await state(coord!.page)).coordinator.peers.find((p) => p.peerId === id && p.role === 'volunteer')?.shardsDone ?? null;
  const earned = await shardsDoneOf(aId);
  expect(earned).toBeGreaterThan(0);

  // Everything A's tab keeps about its identity that can be copied (peer id, and a resume token if
  // the coordinator minted one): an impostor that read it (a rogue coordinator learns ids and
  // tokens, [K-2] aside) plants it in its own profile. A's private key cannot be copied: it is
  // non-extractable, in A's IndexedDB.
  const storageKey = `quorum.volunteer.${networkId}`;
  const aIdentity = await a!.page.evaluate((k) => sessionStorage.getItem(k), storageKey);
  expect(JSON.parse(aIdentity ?? 'null')).toEqual({ peerId: aId, token: null }); // [I-2] no bearer token to steal

  // A closes; its id is free at signaling once the coordinator has seen it go.
  const aContext = a!.context;
  await a!.page.close();
  await expect.poll(() => shardsDoneOf(aId), { timeout: 30_000 }).toBeNull();

  const plant = (args: { storageKey: string; raw: string }): void => {
    if (!sessionStorage.getItem(args.storageKey)) sessionStorage.setItem(args.storageKey, args.raw);
  };
  const [impostor] = await openContexts(['impostor']);
  await impostor!.page.addInitScript(plant, { storageKey, raw: aIdentity! });
  await impostor!.page.goto('/#/volunteer?autostart=1', { waitUntil: 'load' });
  // Refused as A's id ([W-20]), it volunteers under a fresh id of its own, with no standing.
  await expect.poll(async () => (await state(impostor!.page)).volunteer.stats?.peerId ?? null, { timeout: 60_000 }).not.toBe(aId);
  await expect.poll(async () => (await state(impostor!.page)).volunteer.stats?.peerId ?? null, { timeout: 60_000 }).not.toBeNull();
  const { peerId: impostorId } = await volunteerOf(impostor!.page);
  expect(impostorId).not.toBe(aId);
  await expect.poll(() => shardsDoneOf(impostorId), { timeout: 30_000 }).toBe(0);
  expect(await shardsDoneOf(aId)).toBeNull();

  // A comes back from its own profile under its id: served, standing intact.
  const back = await aContext.newPage();
  await back.addInitScript(plant, { storageKey, raw: aIdentity! });
  await back.goto('/#/volunteer?autostart=1', { waitUntil: 'load' });
  await expect.poll(() => shardsDoneOf(aId), { timeout: 60_000 }).toBe(earned);
  expect((await volunteerOf(back)).peerId).toBe(aId);
  for (const c of [coord!, other!, req!, impostor!]) expect(c.foreignRequests()).toEqual([]);
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
