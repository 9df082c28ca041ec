/**
 * [B-3] [B-6] [B-7] [B-8] The coordinator host under the attacks that once hung or froze it,
 * over the memory transport in wire mode (frames encoded and chunked as on a real channel, the
 * receiving side under its budgets): a peer that never says hello and declares a huge message,
 * and a flood of malformed frames. Each time an honest submission meanwhile is accepted and the
 * hostile peer is closed.
 */
import { describe, expect, it, vi } from 'vitest';
import { countingBytes, hello, policy, zeros } from '../core/testing/fixtures.ts';
import { asPeerId, type PeerId } from '../protocol/ids.ts';
import { PROTOCOL_VERSION, type FromCoordinator, type JobSpec } from '../protocol/messages.ts';
import type { MemoryNetwork } from '../transport/memoryTransport.ts';
import { rawChunk } from '../transport/testing/rawChunk.ts';
import type { EndpointHandlers } from '../transport/transport.ts';
import type { CoordinatorHost } from './coordinatorHost.ts';
import { coordinatorPeerId } from './networkId.ts';
import { wireHostEachTest } from './testing/hostRig.ts';
import { coordinatorClient, type CoordinatorClient } from './testing/coordinatorClient.ts';

const NET = 'budgets';
const COORD = coordinatorPeerId(NET);
const MiB = 1024 * 1024;

/** A submission of 1.5 MiB: over the pre-hello allowance, so it passes only once its sender is greeted. */
const bigSpec = (): JobSpec => ({
  name: 'honest',
  model: countingBytes(1000),
  inputs: [zeros('x', 'float32', [98_304, 4], 4)],
  shardSize: 4096,
  policy: policy(1, 1, 1),
  requesterKey: '',
});

/** A hostile endpoint: it records whether its connection was closed. */
function rogue(net: MemoryNetwork, id: string): { closed: () => boolean; id: PeerId; send: (m: unknown) => void } {
  let closed = false;
  const handlers: EndpointHandlers = {
    open: () => undefined,
    data: () => undefined,
    close: () => (closed = true),
    signaling: () => undefined,
    error: () => undefined,
  };
  const ep = net.create(id, handlers);
  ep.connect(COORD);
  return { closed: () => closed, id: ep.selfId, send: (m) => void ep.send(COORD, m) };
}

/** Lets the host's async work (hashing the model) finish, delivering frames meanwhile. */
/**
 * Delivers frames and lets the host's promises run until `done` holds. Bounded by real time, not
 * by turns: the model's hash comes from WebCrypto on another thread, and on a loaded machine 200
 * turns of the event loop can pass before it answers.
 */
async function settle(net: MemoryNetwork, done: () => boolean): Promise<void> {
  const until = performance.now() + 10_000;
  while (!done() && performance.now() < until) {
    net.flush();
    await new Promise((r) => setImmediate(r));
    await vi.advanceTimersByTimeAsync(0);
  }
  net.flush();
}

const answer = (c: CoordinatorClient): FromCoordinator | undefined => c.received.find((m) => m.t === 'job-accepted' || m.t === 'job-rejected');
const logTexts = (): string[] => host.view.get().log.map((l) => l.text);

let net: MemoryNetwork;
let host: CoordinatorHost;

// Raw test peers say hello without keys: [I-2] [I-3] are tested in coordinatorHost.volunteerKeys.test.ts.
wireHostEachTest(NET, { volunteerKeys: false }, (wire) => ({ net, host } = wire));

describe('coordinator host budgets', () => {
  it('[B-3] [B-6] a never-hello peer declaring a 769 MiB message holds nothing, gets no pong, and is closed; an honest 1.5 MiB submission meanwhile is accepted', async () => {
    const bad = rogue(net, 'rogue-1');
    net.flush();
    net.sendRaw(bad.id, COORD, rawChunk({ id: 0, index: 0, count: 40_000, total: 769 * MiB, partBytes: 769 * MiB }, new Uint8Array(1)));
    bad.send({ v: PROTOCOL_VERSION, t: 'ping' });
    net.flush();
    expect(net.bufferedBytes(COORD, bad.id)).toBe(0);
    expect(logTexts().some((t) => /rogue-1: dropped a malformed frame: message 0 of 806354944 bytes exceeds the limit of 1048576/.test(t))).toBe(true);

    const requester = coordinatorClient(net, null, COORD);
    net.flush();
    requester.send(hello('requester'));
    requester.send({ v: PROTOCOL_VERSION, t: 'submit-job', ref: 'honest-1', spec: bigSpec() });
    await settle(net, () => answer(requester) !== undefined);
    expect(answer(requester)).toMatchObject({ t: 'job-accepted', ref: 'honest-1', shards: 24 });

    // It keeps pinging; no pong comes, and 5 s after it connected it is closed.
    for (let s = 0; s < 6; s++) {
      bad.send({ v: PROTOCOL_VERSION, t: 'ping' });
      net.flush();
      await vi.advanceTimersByTimeAsync(1_000);
      net.flush();
    }
    expect(bad.closed()).toBe(true);
    expect(logTexts().some((t) => /refused rogue-1: dropped: no "hello" within 5000 ms/.test(t))).toBe(true);
    expect(host.core.peerSummaries().map((p) => p.role)).toEqual(['requester']);
  });

  it('[B-7] [B-8] 30,000 malformed frames from a greeted peer: a handful of log entries, the peer dropped; an honest volunteer still gets work', async () => {
    const requester = coordinatorClient(net, 'req', COORD);
    const honest = coordinatorClient(net, 'honest', COORD);
    const flooder = rogue(net, 'flooder');
    net.flush();
    requester.send(hello('requester'));
    honest.send(hello('volunteer'));
    flooder.send(hello('volunteer'));
    requester.send({ v: PROTOCOL_VERSION, t: 'submit-job', ref: 'honest-2', spec: bigSpec() });
    await settle(net, () => answer(requester) !== undefined);
    expect(answer(requester)).toMatchObject({ t: 'job-accepted' });

    const logBefore = host.view.get().log;
    for (let i = 0; i < 30_000; i++) flooder.send({ v: PROTOCOL_VERSION, t: 'no-such-frame', n: i });
    net.flush();
    await vi.advanceTimersByTimeAsync(1_500);
    net.flush();
    const logLinesAdded = host.view.get().log.filter((l) => !logBefore.includes(l)).length;
    expect(logLinesAdded).toBeLessThanOrEqual(6);
    expect(flooder.closed()).toBe(true);
    expect(logTexts().some((t) => /over its budget of malformed frames \(50 at once, 5\/s\)/.test(t))).toBe(true);

    honest.send({ v: PROTOCOL_VERSION, t: 'lease-request' });
    net.flush();
    expect(honest.received.some((m) => m.t === 'lease')).toBe(true);
    expect(
      host.core
        .peerSummaries()
        .map((p) => p.peerId)
        .sort(),
    ).toEqual([asPeerId('honest'), asPeerId('req')]);
  });
});

describe('[B-3] who is greeted', () => {
  it('[B-3] a requester gets the full limits after hello; an observer keeps the pre-hello allowance', async () => {
    const observer = coordinatorClient(net, 'obs', COORD);
    net.flush();
    observer.send(hello('observer'));
    net.flush();
    net.sendRaw(observer.ep.selfId, COORD, rawChunk({ id: 0, index: 0, count: 2, total: 2 * MiB, partBytes: 2 * MiB }, new Uint8Array(1)));
    net.flush();
    expect(net.bufferedBytes(COORD, observer.ep.selfId)).toBe(0);
    const requester = coordinatorClient(net, 'req', COORD);
    net.flush();
    requester.send(hello('requester'));
    net.flush();
    net.sendRaw(requester.ep.selfId, COORD, rawChunk({ id: 0, index: 0, count: 2, total: 2 * MiB, partBytes: 2 * MiB }, new Uint8Array(1)));
    net.flush();
    expect(net.bufferedBytes(COORD, requester.ep.selfId)).toBe(2 * MiB);
    await vi.advanceTimersByTimeAsync(0);
  });
});

describe('[B-9] [B-10] greeted peers by role', () => {
  it('[B-9] [B-10] an honest submission is accepted while two greeted volunteers trickle huge declared messages', async () => {
    const volunteers = [coordinatorClient(net, 'vol-a', COORD), coordinatorClient(net, 'vol-b', COORD)];
    net.flush();
    for (const v of volunteers) v.send(hello('volunteer'));
    net.flush();
    // Each declares the largest frame, then as much as the coordinator takes, and trickles on.
    const sizes = [769 * MiB, 256 * MiB, 64 * MiB, 64 * MiB, 32 * MiB];
    for (const v of volunteers) {
      sizes.forEach((total, id) => net.sendRaw(v.ep.selfId, COORD, rawChunk({ id, index: 0, count: 50_000, total, partBytes: 1024 }, new Uint8Array(8))));
    }
    net.flush();
    for (let t = 1; t <= 3; t++) {
      for (const v of volunteers) {
        sizes.forEach((total, id) => net.sendRaw(v.ep.selfId, COORD, rawChunk({ id, index: t, count: 50_000, total, partBytes: 1024 }, new Uint8Array(8))));
      }
      net.flush();
    }

    const requester = coordinatorClient(net, null, COORD);
    net.flush();
    requester.send(hello('requester'));
    requester.send({ v: PROTOCOL_VERSION, t: 'submit-job', ref: 'honest-2', spec: bigSpec() });
    await settle(net, () => answer(requester) !== undefined);
    expect(answer(requester)).toMatchObject({ t: 'job-accepted', ref: 'honest-2', shards: 24 });
    expect(logTexts().some((t) => /vol-a: dropped a malformed frame: message 0 of 806354944 bytes exceeds the limit of 67108864/.test(t))).toBe(true);
  });
});
