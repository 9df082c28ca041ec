/**
 * [K-2] [K-4] A client link acts on nothing from the peer holding the coordinator's id until it
 * has proved the network's key on this very connection, and sends it nothing but the challenge.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { KeyAlarm } from '../protocol/coordinatorProof.ts';
import { asPeerId, type PeerId } from '../protocol/ids.ts';
import { PROTOCOL_VERSION, REFUSED_ID_TAKEN, type FromCoordinator, type ToCoordinator } from '../protocol/messages.ts';
import { parseFromCoordinator, parseToCoordinator } from '../protocol/parse.ts';
import { MemoryNetwork } from '../transport/memoryTransport.ts';
import type { Endpoint } from '../transport/transport.ts';
import type { CoordinatorIdentity } from './coordinatorKey.ts';
import { CoordinatorLink } from './coordinatorLink.ts';
import type { CoordinatorTrust } from './coordinatorTrust.ts';
import { memoryTrust, newIdentity, provingCoordinator } from './testing/provingCoordinator.ts';
import { settleLink } from './testing/settleLink.ts';

const NETWORK = 'test';
const COORDINATOR = asPeerId('quorum-test');

let real: CoordinatorIdentity;
let rogue: CoordinatorIdentity;
beforeAll(async () => {
  [real, rogue] = await Promise.all([newIdentity(), newIdentity()]);
});
beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

/** What would make a client act: a refusal that drops its id, an ack that deletes a held-back result. */
const HOSTILE: FromCoordinator[] = [
  { v: PROTOCOL_VERSION, t: 'refused', reason: 'go away', expectedVersion: PROTOCOL_VERSION, code: REFUSED_ID_TAKEN },
  { v: PROTOCOL_VERSION, t: 'result-ack', leaseId: asPeerId('l1') as never, outcome: 'duplicate', reason: 'already verified' },
  { v: PROTOCOL_VERSION, t: 'welcome', networkId: NETWORK, you: asPeerId('vol-1') },
];

function client(net: MemoryNetwork, trust: CoordinatorTrust) {
  const seen = { opens: 0, frames: [] as FromCoordinator[], alarms: [] as KeyAlarm[], closes: 0 };
  const link = new CoordinatorLink(
    net.factory,
    COORDINATOR,
    {
      // A role says hello, with its resume token, the moment the link opens.
      open: () => {
        seen.opens++;
        link.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'requester', caps: null, label: 'v', resume: 'secret-token' });
      },
      frame: (m) => seen.frames.push(m),
      protocolError: () => {},
      close: () => seen.closes++,
      status: () => {},
      untrusted: (a) => seen.alarms.push(a),
    },
    { stableId: 'vol-1', trust },
  );
  return { link, seen };
}

/** A peer under the coordinator's id that records what it is sent and answers every frame with `HOSTILE`. */
function impostor(net: MemoryNetwork, identity: CoordinatorIdentity | null) {
  const got: ToCoordinator[] = [];
  const onFrame = (peer: PeerId, msg: ToCoordinator, ep: Endpoint): void => {
    got.push(msg);
    for (const f of HOSTILE) ep.send(peer, f);
  };
  const ep: Endpoint = identity
    ? provingCoordinator(net, COORDINATOR, NETWORK, identity, onFrame)
    : net.create(COORDINATOR, {
        open: (peer) => {
          for (const f of HOSTILE) ep.send(peer, f);
        },
        data: (peer, raw) => {
          const p = parseToCoordinator(raw);
          if (p.ok) onFrame(peer, p.msg, ep);
        },
        close: () => {},
        signaling: () => {},
        error: () => {},
      });
  return { ep, got };
}

describe('[K-2] a client acts on nothing before the coordinator proves its key', () => {
  it('a peer that never proves a key gets only the challenge: its refusal, acks and welcome are ignored, the link never opens', async () => {
    const net = new MemoryNetwork();
    const fake = impostor(net, null);
    const { link, seen } = client(net, memoryTrust(NETWORK));
    link.start();
    await settleLink(net, 15_000);
    expect(seen.opens).toBe(0);
    expect(seen.frames).toEqual([]);
    expect(link.peerId()).toBe('vol-1'); // its refusal did not make the volunteer drop its id
    expect(fake.got.map((m) => m.t)).toEqual(expect.arrayContaining(['challenge']));
    expect(fake.got.every((m) => m.t === 'challenge')).toBe(true);
    link.stop();
  });

  it('[K-4] a key other than the pinned one raises an alarm and is sent nothing; the real coordinator, back, is served', async () => {
    const net = new MemoryNetwork();
    const trust = memoryTrust(NETWORK);
    const hellos: ToCoordinator[] = [];
    let coordinator = provingCoordinator(net, COORDINATOR, NETWORK, real, (_p, m) => hellos.push(m));
    const { link, seen } = client(net, trust);
    link.start();
    await settleLink(net, 300);
    expect(seen.opens).toBe(1); // trust on first use: the real key is now pinned
    expect(hellos.map((m) => m.t)).toEqual(['hello']);

    // The real coordinator closes; a rogue page takes its id and proves a key of its own.
    coordinator.destroy();
    await settleLink(net, 300);
    const fake = impostor(net, rogue);
    await settleLink(net, 8_000);
    expect(seen.alarms.length).toBeGreaterThanOrEqual(1);
    expect(seen.alarms[0]).toEqual({ networkId: NETWORK, expected: real.fingerprint, seen: rogue.fingerprint, source: 'pin' });
    // Challenges are answered by the impostor's prover; nothing else reached it (no hello, no token).
    expect(fake.got).toEqual([]);
    expect(seen.opens).toBe(1);
    expect(seen.frames).toEqual([]);

    // The rogue goes; the real coordinator returns and is served at once.
    fake.ep.destroy();
    coordinator = provingCoordinator(net, COORDINATOR, NETWORK, real, (_p, m) => hellos.push(m));
    await settleLink(net, 6_000);
    expect(seen.opens).toBe(2);
    expect(hellos.map((m) => m.t)).toEqual(['hello', 'hello']);
    link.stop();
    coordinator.destroy();
  });

  it("[K-1] a join link's fingerprint is required from the first connection: another key is refused without trust on first use", async () => {
    const net = new MemoryNetwork();
    const fake = impostor(net, rogue);
    const { link, seen } = client(net, memoryTrust(NETWORK, real.fingerprint));
    link.start();
    await settleLink(net, 600);
    expect(seen.opens).toBe(0);
    expect(seen.alarms[0]).toEqual({ networkId: NETWORK, expected: real.fingerprint, seen: rogue.fingerprint, source: 'link' });
    expect(fake.got).toEqual([]);
    link.stop();
  });

  it('[K-3] a relay in the middle, passing on the real coordinator\u2019s proof, fails the check: no alarm, nothing sent', async () => {
    const net = new MemoryNetwork();
    // The real coordinator under another id; the relay holds the well-known one and passes
    // challenges and proofs between its two connections.
    const hidden = asPeerId('quorum-hidden');
    provingCoordinator(net, hidden, NETWORK, real);
    const got: ToCoordinator[] = [];
    let victim: PeerId | null = null;
    const relay: Endpoint = net.create(COORDINATOR, {
      open: (peer) => {
        if (peer !== hidden) victim = peer;
      },
      data: (peer, raw) => {
        if (peer === hidden) {
          const p = parseFromCoordinator(raw);
          if (p.ok && victim) relay.send(victim, p.msg);
          return;
        }
        const p = parseToCoordinator(raw);
        if (p.ok) got.push(p.msg);
        relay.send(hidden, raw);
      },
      close: () => {},
      signaling: () => {},
      error: () => {},
    });
    relay.connect(hidden);
    await settleLink(net, 100);
    const { link, seen } = client(net, memoryTrust(NETWORK, real.fingerprint));
    link.start();
    await settleLink(net, 3_000);
    expect(got.filter((m) => m.t === 'challenge').length).toBeGreaterThanOrEqual(1);
    expect(got.every((m) => m.t === 'challenge')).toBe(true);
    expect(seen.opens).toBe(0);
    expect(seen.alarms).toEqual([]);
    link.stop();
  });
});
