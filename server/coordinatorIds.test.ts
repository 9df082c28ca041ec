import { beforeAll, describe, expect, it } from 'vitest';
import { generateCoordinatorKeyPair, identityOf, signBytes, type CoordinatorIdentity } from '../src/host/coordinatorKey.ts';
import { SIGNALING_CLAIM_PATH, signalingClaimPayload } from '../src/protocol/signalingClaim.ts';
import { createCoordinatorIds, parseCoordinatorKeys } from './coordinatorIds.ts';
import { claim, nonceFor } from './testing/coordinatorClaim.ts';
import { serverRig } from './testing/serverRig.ts';
import { type TestSocket } from './testing/signalingClient.ts';

// [K-7] Over real HTTP and WebSockets: the signaling server gives a network's coordinator id only
// to the holder of the key it reserved the id for.

const rig = serverRig();
const { start } = rig;
let real: CoordinatorIdentity;
let rogue: CoordinatorIdentity;
beforeAll(async () => {
  [real, rogue] = await Promise.all([generateCoordinatorKeyPair().then(identityOf), generateCoordinatorKeyPair().then(identityOf)]);
});

function open(base: string, id: string, token?: string): TestSocket {
  return rig.open(base, id, token === undefined ? {} : { token });
}

describe('[K-7] a coordinator id reserved for its key', () => {
  it('[K-7] the key holder claims and registers its id; another key can neither claim nor register it, even while the holder is away', async () => {
    const s = await start();
    const ticket = await claim(s.url, 'quorum-main', real);
    expect(ticket.status).toBe(200);
    const coordinator = open(s.url, 'quorum-main', ticket.text);
    expect((await coordinator.first).type).toBe('OPEN');

    // The real coordinator goes away; a rogue page with a key of its own tries to take the id.
    coordinator.ws.close();
    await coordinator.closed;
    await expect.poll(() => s.signaling.clientCount()).toBe(0);
    const refused = await claim(s.url, 'quorum-main', rogue);
    expect(refused.status).toBe(403);
    expect(refused.text).toContain(`reserved for the key ${real.fingerprint}`);
    for (const token of [undefined, 'made-up-token', ticket.text.slice(0, -1)]) {
      const impostor = open(s.url, 'quorum-main', token);
      const first = await impostor.first;
      expect(first.type).toBe('ERROR');
      expect(first.payload?.msg).toMatch(/reserved for the holder of its network's key/);
      await impostor.closed;
    }

    // The holder comes back with the same ticket (as peerjs re-registers after a lost connection), or a fresh claim.
    const back = open(s.url, 'quorum-main', ticket.text);
    expect((await back.first).type).toBe('OPEN');
    back.ws.close();
    await back.closed;
    await expect.poll(() => s.signaling.clientCount()).toBe(0);
    const fresh = await claim(s.url, 'quorum-main', real);
    expect((await open(s.url, 'quorum-main', fresh.text).first).type).toBe('OPEN');
  });

  it('[K-7] a ticket is for its own id only, and other ids are untouched', async () => {
    const s = await start();
    const ticket = await claim(s.url, 'quorum-a', real);
    await claim(s.url, 'quorum-b', rogue);
    expect((await open(s.url, 'quorum-b', ticket.text).first).payload?.msg).toMatch(/reserved/);
    // Volunteers' and requesters' ids, and coordinator ids nobody claimed, register as before.
    expect((await open(s.url, '0f8fad5b-d9cb-469f-a165-70867728950e').first).type).toBe('OPEN');
    expect((await open(s.url, 'quorum-unclaimed').first).type).toBe('OPEN');
  });

  it('[K-7] a nonce is single use and for one id; a bad signature, or a claim for another id, is refused', async () => {
    const s = await start();
    const nonce = await (await nonceFor(s.url, 'quorum-main')).text();
    const post = (body: unknown) =>
      fetch(`${s.url}${SIGNALING_CLAIM_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const forOther = await signBytes(real.privateKey, signalingClaimPayload('quorum-other', nonce));
    const wrongId = await post({ id: 'quorum-other', nonce, publicKey: real.publicKey, signature: forOther });
    expect(wrongId.status).toBe(403);
    expect(await wrongId.text()).toMatch(/unknown or expired nonce/);

    const n2 = await (await nonceFor(s.url, 'quorum-main')).text();
    const signedByRogue = await signBytes(rogue.privateKey, signalingClaimPayload('quorum-main', n2));
    const badSig = await post({ id: 'quorum-main', nonce: n2, publicKey: real.publicKey, signature: signedByRogue });
    expect(badSig.status).toBe(403);
    expect(await badSig.text()).toMatch(/does not verify/);
    // The nonce went with that claim: even a good signature over it is now refused.
    const good = await signBytes(real.privateKey, signalingClaimPayload('quorum-main', n2));
    expect((await post({ id: 'quorum-main', nonce: n2, publicKey: real.publicKey, signature: good })).status).toBe(403);
    expect(s.signaling.coordinatorIds.reservedFor('quorum-main')).toBeNull();

    expect((await nonceFor(s.url, 'not-a-coordinator')).status).toBe(400);
    expect((await post('junk')).status).toBe(400);
  });

  it('[K-7] a key the operator configured holds the id before anyone claims it', async () => {
    const s = await start({ coordinatorKeys: parseCoordinatorKeys(`main=${real.fingerprint}`) });
    expect((await open(s.url, 'quorum-main').first).payload?.msg).toMatch(/reserved/);
    expect((await claim(s.url, 'quorum-main', rogue)).status).toBe(403);
    const ticket = await claim(s.url, 'quorum-main', real);
    expect(ticket.status).toBe(200);
    expect((await open(s.url, 'quorum-main', ticket.text).first).type).toBe('OPEN');
  });

  it('[K-7] reservations outlive a signaling restart', async () => {
    const s = await start();
    await claim(s.url, 'quorum-main', real);
    await s.signalingControl.stop();
    s.signalingControl.start();
    expect((await open(s.url, 'quorum-main').first).payload?.msg).toMatch(/reserved/);
  });

  it('[K-7] first-seen reservations and tickets unused for idleMs are forgotten; nonces expire', async () => {
    let t = 0;
    const ids = createCoordinatorIds(new Map(), { nonceTtlMs: 1_000, maxNonces: 2, maxReservations: 10, idleMs: 10_000 }, () => t);
    const issued = ids.nonce('quorum-x');
    if (!('nonce' in issued)) throw new Error('no nonce');
    ids.nonce('quorum-y');
    expect(ids.nonce('quorum-z')).toMatchObject({ status: 429 }); // at most maxNonces outstanding
    const signature = await signBytes(real.privateKey, signalingClaimPayload('quorum-x', issued.nonce));
    const answer = await ids.claim({ id: 'quorum-x', nonce: issued.nonce, publicKey: real.publicKey, signature });
    if (!answer.ok) throw new Error(answer.reason);
    t = 9_000;
    expect(ids.admit('quorum-x', answer.ticket)).toBeNull(); // used: idle time starts again
    t = 18_000;
    expect(ids.admit('quorum-x', 'other')).toMatch(/reserved/);
    t = 30_000;
    expect(ids.nonce('quorum-z')).toHaveProperty('nonce'); // the old nonces expired
    expect(ids.reservedFor('quorum-x')).toBeNull();
    expect(ids.admit('quorum-x', null)).toBeNull();
  });

  it('[K-7] a reservation does not lapse while its coordinator is registered, only idleMs after it left; the operator can release it', async () => {
    let t = 0;
    const ids = createCoordinatorIds(new Map(), { nonceTtlMs: 1_000, maxNonces: 8, maxReservations: 10, idleMs: 10_000 }, () => t);
    const claimed = async (who: CoordinatorIdentity): Promise<string> => {
      const issued = ids.nonce('quorum-x');
      if (!('nonce' in issued)) throw new Error('no nonce');
      const answer = await ids.claim({
        id: 'quorum-x',
        nonce: issued.nonce,
        publicKey: who.publicKey,
        signature: await signBytes(who.privateKey, signalingClaimPayload('quorum-x', issued.nonce)),
      });
      if (!answer.ok) throw new Error(answer.reason);
      return answer.ticket;
    };
    const ticket = await claimed(real);
    ids.registered('quorum-x');
    t = 50_000; // registered all along
    ids.nonce('quorum-y'); // sweeps
    expect(ids.reservedFor('quorum-x')).toBe(real.fingerprint);
    ids.left('quorum-x');
    t = 59_000;
    expect(ids.admit('quorum-x', ticket)).toBeNull();
    expect(ids.release('quorum-x')).toBe(1);
    expect(ids.admit('quorum-x', null)).toBeNull(); // released: open until the next claim
    expect(await claimed(rogue)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(ids.reservedFor('quorum-x')).toBe(rogue.fingerprint);
    expect(ids.admit('quorum-x', ticket)).toMatch(/reserved/); // the old key's ticket went with its reservation
  });

  it('[K-7] the operator releases a reservation over the admin endpoint', async () => {
    const token = 'admin-token-0123456789abcdef';
    const s = await start({ adminToken: token });
    await claim(s.url, 'quorum-main', real);
    const res = await fetch(`${s.url}/admin/signaling/release?id=quorum-main`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    expect(await res.json()).toEqual({ released: 1 });
    expect((await claim(s.url, 'quorum-main', rogue)).status).toBe(200);
    // Without an id, every first-seen reservation goes (the e2e suite starts each test so).
    await claim(s.url, 'quorum-other', real);
    const all = await fetch(`${s.url}/admin/signaling/release`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    expect(await all.json()).toEqual({ released: 2 });
    expect(s.signaling.coordinatorIds.reservedFor('quorum-main')).toBeNull();
  });

  it('[K-7] QUORUM_COORDINATOR_KEYS is network=fingerprint pairs; anything else is refused naming the entry', () => {
    const fp = 'A'.repeat(43);
    expect([...parseCoordinatorKeys(`main=${fp}, lab-2=${fp}`)]).toEqual([
      ['quorum-main', fp],
      ['quorum-lab-2', fp],
    ]);
    expect(parseCoordinatorKeys(undefined).size).toBe(0);
    expect(() => parseCoordinatorKeys('main')).toThrow(/"main" is not network=fingerprint/);
    expect(() => parseCoordinatorKeys('main=short')).toThrow(/network=fingerprint/);
    expect(() => parseCoordinatorKeys(`../x=${fp}`)).toThrow(/network=fingerprint/);
  });
});
