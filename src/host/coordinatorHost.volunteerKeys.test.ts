/**
 * [I-2] The coordinator host serves a volunteer's peer id only to the key that first proved itself
 * under it, on each connection anew: real WebCrypto keys, the real host, a memory network.
 */
import { describe, expect, it } from 'vitest';
import { hello } from '../core/testing/fixtures.ts';
import { MemoryCoordinatorStore } from '../persistence/memoryCoordinatorStore.ts';
import { PROTOCOL_VERSION, REFUSED_ID_TAKEN, type FromCoordinator } from '../protocol/messages.ts';
import { MemoryNetwork } from '../transport/memoryTransport.ts';
import { CoordinatorHost } from './coordinatorHost.ts';
import { generateCoordinatorKeyPair, identityOf, type CoordinatorIdentity } from './coordinatorKey.ts';
import { coordinatorPeerId } from './networkId.ts';
import { stoppedAfterEachTest, until } from './testing/hostRig.ts';
import { coordinatorClient, type CoordinatorClient } from './testing/coordinatorClient.ts';
import { proveVolunteerKey } from './volunteerKey.ts';

const NET = 'vkeys-test';
const COORD = coordinatorPeerId(NET);
const NONCE = 'QUJDREVGR0hJSktMTU5PUA';

const hosts = stoppedAfterEachTest();

type Answer = Extract<FromCoordinator, { t: 'welcome' | 'refused' }>;

/**
 * A volunteer under `id` that challenges the coordinator, then says hello with `key`'s proof over
 * this connection (or with `replay`, a key and signature taken from another connection).
 */
async function join(
  net: MemoryNetwork,
  id: string,
  key: CoordinatorIdentity | null,
  replay?: { key: string; keySig: string },
): Promise<{ client: CoordinatorClient; answer: Answer; sent: { key?: string; keySig?: string } }> {
  const client = coordinatorClient(net, id, COORD);
  net.flush();
  client.send({ v: PROTOCOL_VERSION, t: 'challenge', nonce: NONCE });
  const proof = await until('the proof', () => (net.flush(), client.received.find((m) => m.t === 'proof')));
  const fps = client.ep.dtlsFingerprints(COORD)!;
  let sent: { key?: string; keySig?: string } = {};
  if (replay) sent = replay;
  else if (key && proof.nonce !== undefined) {
    const ctx = { networkId: NET, nonce: proof.nonce, peerId: id, dtls: { coordinator: fps.remote, client: fps.local } };
    sent = { key: key.publicKey, keySig: await proveVolunteerKey(key, ctx) };
  }
  client.send({ ...hello('volunteer'), ...sent });
  const answer = await until('welcome or refused', () => {
    net.flush();
    return client.received.find((m): m is Answer => m.t === 'welcome' || m.t === 'refused');
  });
  return { client, answer, sent };
}

async function leave(net: MemoryNetwork, host: CoordinatorHost, c: CoordinatorClient, id: string): Promise<void> {
  c.ep.destroy();
  net.flush();
  await until('the coordinator to see it go', () => (host.core.peerSummaries().some((p) => p.peerId === id) ? undefined : true));
}

describe('[I-2] volunteer ids belong to keys, at the coordinator host', () => {
  it('[I-2] an impostor reconnecting under another volunteer’s peer id, with its own key or a replayed proof, is refused; the owner is served', async () => {
    const net = new MemoryNetwork();
    const host = new CoordinatorHost({ networkId: NET, factory: net.factory, store: new MemoryCoordinatorStore(NET) });
    hosts.push(host);
    await host.start();
    const [alice, mallory] = await Promise.all([generateCoordinatorKeyPair().then(identityOf), generateCoordinatorKeyPair().then(identityOf)]);

    const first = await join(net, 'v-alice', alice);
    expect(first.answer.t).toBe('welcome');
    expect(first.answer.t === 'welcome' && first.answer.token).toBeUndefined(); // no bearer secret to steal
    await leave(net, host, first.client, 'v-alice');

    const impostor = await join(net, 'v-alice', mallory);
    expect(impostor.answer).toMatchObject({ t: 'refused', code: REFUSED_ID_TAKEN });
    await leave(net, host, impostor.client, 'v-alice');

    // Alice's key and signature from her earlier connection prove nothing on this one.
    const replayed = await join(net, 'v-alice', null, first.sent as { key: string; keySig: string });
    expect(replayed.answer).toMatchObject({ t: 'refused', reason: expect.stringMatching(/prove its key: .*does not check/) as unknown });
    await leave(net, host, replayed.client, 'v-alice');

    const keyless = await join(net, 'v-alice', null);
    expect(keyless.answer).toMatchObject({ t: 'refused', reason: expect.stringMatching(/no key and signature/) as unknown });
    await leave(net, host, keyless.client, 'v-alice');

    const back = await join(net, 'v-alice', alice);
    expect(back.answer.t).toBe('welcome');
    expect(host.core.peerSummaries().some((p) => p.peerId === 'v-alice' && p.role === 'volunteer')).toBe(true);
  });
});
