/**
 * [J-11] [K-2] A requester tab proves the network's requester key in its hello, and only to a
 * coordinator that proved the network's key on that very connection: an impostor holding the
 * coordinator's id gets a challenge and nothing else, never the requester key.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ToCoordinator } from '../protocol/messages.ts';
import { PROTOCOL_VERSION } from '../protocol/messages.ts';
import { MemoryNetwork } from '../transport/memoryTransport.ts';
import type { CoordinatorIdentity } from './coordinatorKey.ts';
import { coordinatorPeerId } from './networkId.ts';
import { RequesterHost } from './requesterHost.ts';
import { memoryTrust, newIdentity, provingCoordinator } from './testing/provingCoordinator.ts';
import { jobSpec } from '../core/testing/fixtures.ts';

const NET = 'owned';
const KEY = 'k'.repeat(32);
const realSetTimeout = globalThis.setTimeout;

let real: CoordinatorIdentity;
let rogue: CoordinatorIdentity;
beforeAll(async () => {
  [real, rogue] = await Promise.all([newIdentity(), newIdentity()]);
});
let hosts: RequesterHost[] = [];
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  for (const h of hosts) h.stop();
  hosts = [];
  vi.useRealTimers();
});

async function settle(net: MemoryNetwork, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 100) {
    await vi.advanceTimersByTimeAsync(100);
    net.flush();
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => realSetTimeout(resolve, 1));
      await vi.advanceTimersByTimeAsync(0);
      net.flush();
    }
  }
}

function requester(net: MemoryNetwork, key: () => string, linkFingerprint: string | null): RequesterHost {
  const host = new RequesterHost({ networkId: NET, factory: net.factory, trust: memoryTrust(NET, linkFingerprint), requesterKey: key });
  hosts.push(host);
  host.start();
  return host;
}

describe('a requester proves its key only to the proven coordinator', () => {
  it('[J-11] [K-2] an impostor holding the coordinator id never gets the requester key; the real coordinator gets it in hello', async () => {
    const net = new MemoryNetwork();
    const got: ToCoordinator[] = [];
    const impostor = provingCoordinator(net, coordinatorPeerId(NET), NET, rogue, (_p, m) => got.push(m));
    const host = requester(net, () => KEY, real.fingerprint);
    await settle(net, 3_000);
    expect(got).toEqual([]); // only challenges reached it, answered by its own prover
    expect(host.view.get().state).not.toBe('connected');

    impostor.destroy();
    const hellos: ToCoordinator[] = [];
    const coordinator = provingCoordinator(net, coordinatorPeerId(NET), NET, real, (peer, m) => {
      hellos.push(m);
      if (m.t === 'hello') coordinator.send(peer, { v: PROTOCOL_VERSION, t: 'welcome', networkId: NET, you: peer });
    });
    await settle(net, 8_000);
    expect(hellos.filter((m) => m.t !== 'ping')).toEqual([expect.objectContaining({ t: 'hello', role: 'requester', requesterKey: KEY })]);
    coordinator.destroy();
  });

  it('[J-11] a tab whose key changed proves the new key in a new hello before its submission', async () => {
    const net = new MemoryNetwork();
    let key = '';
    const frames: ToCoordinator[] = [];
    const coordinator = provingCoordinator(net, coordinatorPeerId(NET), NET, real, (peer, m) => {
      frames.push(m);
      if (m.t === 'hello') coordinator.send(peer, { v: PROTOCOL_VERSION, t: 'welcome', networkId: NET, you: peer });
    });
    const host = requester(net, () => key, null);
    await settle(net, 500);
    const sent = (): ToCoordinator[] => frames.filter((m) => m.t !== 'ping');
    expect(sent()).toEqual([expect.objectContaining({ t: 'hello', role: 'requester' })]);
    expect(sent()[0]).not.toHaveProperty('requesterKey'); // nothing to prove yet
    key = KEY; // the user typed the key in the form and submits
    host.submit(jobSpec(2, 2, undefined, { requesterKey: KEY }), null);
    await settle(net, 500);
    expect(sent().map((m) => m.t)).toEqual(['hello', 'hello', 'submit-job']);
    expect(sent()[1]).toMatchObject({ t: 'hello', requesterKey: KEY });
    // The same key again needs no new hello.
    host.submit(jobSpec(2, 2, undefined, { requesterKey: KEY }), null);
    await settle(net, 500);
    expect(sent().map((m) => m.t)).toEqual(['hello', 'hello', 'submit-job', 'submit-job']);
    coordinator.destroy();
  });
});
