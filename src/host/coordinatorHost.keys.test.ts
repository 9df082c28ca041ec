/**
 * [K-3] [K-6] The coordinator host proves its key to every client that challenges it, and a
 * coordinator that finds its network id taken (by an impostor, or another tab) says so, keeps
 * trying, and takes the id over as soon as it is free.
 */
import { describe, expect, it } from 'vitest';
import { asPeerId } from '../protocol/ids.ts';
import { PROTOCOL_VERSION, type FromCoordinator } from '../protocol/messages.ts';
import { MemoryCoordinatorStore } from '../persistence/memoryCoordinatorStore.ts';
import { initialState } from '../model/state.ts';
import { memoryViewPort } from '../model/viewPort.ts';
import { MemoryNetwork } from '../transport/memoryTransport.ts';
import { CoordinatorHost } from './coordinatorHost.ts';
import { verifyProof } from './coordinatorKey.ts';
import { coordinatorPeerId } from './networkId.ts';
import { stoppedAfterEachTest, until } from './testing/hostRig.ts';
import { coordinatorClient } from './testing/coordinatorClient.ts';
import { newIdentity } from './testing/provingCoordinator.ts';

const NET = 'keys-test';
const COORD = coordinatorPeerId(NET);
const NONCE = 'QUJDREVGR0hJSktMTU5PUA';

const hosts = stoppedAfterEachTest();

describe('[K-3] the coordinator host proves its key', () => {
  it('answers a challenge with its key and a signature over this connection, once per connection', async () => {
    const net = new MemoryNetwork();
    const identity = await newIdentity();
    const keyTrust = memoryViewPort(initialState.keyTrust);
    const host = new CoordinatorHost({ networkId: NET, factory: net.factory, store: new MemoryCoordinatorStore(NET), identity, keyTrust });
    hosts.push(host);
    await host.start();
    expect(keyTrust.get().coordinatorFingerprint).toBe(identity.fingerprint);
    const c = coordinatorClient(net, 'client-1', COORD);
    net.flush();
    c.send({ v: PROTOCOL_VERSION, t: 'challenge', nonce: NONCE });
    c.send({ v: PROTOCOL_VERSION, t: 'challenge', nonce: NONCE });
    await until('the proof', () => (net.flush(), c.received.some((m) => m.t === 'proof')));
    await new Promise((r) => setTimeout(r, 50));
    net.flush();
    const proofs = c.received.filter((m): m is Extract<FromCoordinator, { t: 'proof' }> => m.t === 'proof');
    expect(proofs).toHaveLength(1);
    expect(proofs[0]!.key).toBe(identity.publicKey);
    const fps = c.ep.dtlsFingerprints(COORD)!;
    const ctx = { networkId: NET, nonce: NONCE, dtls: { coordinator: fps.remote, client: fps.local } };
    expect(await verifyProof(identity.publicKey, proofs[0]!.sig, ctx)).toBe(true);
    // The proof is bound to this connection's ends: the same signature names no other.
    expect(await verifyProof(identity.publicKey, proofs[0]!.sig, { ...ctx, dtls: { coordinator: fps.local, client: fps.remote } })).toBe(false);
  });
});

describe('[K-6] a coordinator whose network id is taken', () => {
  it('says so on its page, keeps trying, and takes the id over once the other holder is gone', async () => {
    const net = new MemoryNetwork();
    const squatter = net.create(COORD, { open: () => {}, data: () => {}, close: () => {}, signaling: () => {}, error: () => {} });
    const host = new CoordinatorHost({ networkId: NET, factory: net.factory, store: new MemoryCoordinatorStore(NET) });
    hosts.push(host);
    await host.start();
    const page = (): { state: string; error: string | null } => host.view.get();
    expect(page().state).toBe('error');
    expect(page().error).toMatch(/Another tab holds this network's id "quorum-keys-test".*Retrying every 3 s; this tab takes over/);
    squatter.destroy();
    await until('the coordinator to take its id', () => page().state === 'connected', 10_000);
    expect(page().error).toBeNull();
    // It serves: a client's challenge is answered.
    const c = coordinatorClient(net, asPeerId('client-2'), COORD);
    net.flush();
    c.send({ v: PROTOCOL_VERSION, t: 'challenge', nonce: NONCE });
    await until('the proof', () => (net.flush(), c.received.some((m) => m.t === 'proof')));
  });
});
