import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { asPeerId } from '../protocol/ids.ts';
import { PROTOCOL_VERSION, REFUSED_ID_TAKEN } from '../protocol/messages.ts';
import { MemoryNetwork } from '../transport/memoryTransport.ts';
import type { Endpoint, EndpointHandlers } from '../transport/transport.ts';
import { CoordinatorLink, type LinkHandlers, type LinkOptions } from './coordinatorLink.ts';
import type { CoordinatorIdentity } from './coordinatorKey.ts';
import { memoryTrust, newIdentity, provingCoordinator } from './testing/provingCoordinator.ts';
import { settleLink } from './testing/settleLink.ts';

const NETWORK = 'test';
const COORDINATOR = asPeerId('quorum-test');
const quiet: EndpointHandlers = { open: () => {}, data: () => {}, close: () => {}, signaling: () => {}, error: () => {} };
let identity: CoordinatorIdentity;
beforeAll(async () => {
  identity = await newIdentity();
});
/** The network's coordinator, proving its key to every link that challenges it. */
const coordinatorOn = (net: MemoryNetwork): Endpoint => provingCoordinator(net, COORDINATOR, NETWORK, identity);

function rig(net: MemoryNetwork, options: Partial<LinkOptions> = {}) {
  const registered: string[] = [];
  let opens = 0;
  const handlers: LinkHandlers = {
    open: () => opens++,
    frame: () => {},
    protocolError: () => {},
    close: () => {},
    status: () => {},
    registered: (id) => registered.push(id),
  };
  const link = new CoordinatorLink(net.factory, COORDINATOR, handlers, { trust: memoryTrust(NETWORK), ...options });
  return { link, registered, opens: () => opens };
}

describe('CoordinatorLink peer ids', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('[W-17] a volunteer link keeps the first id it gets for every reconnect', async () => {
    const net = new MemoryNetwork();
    let coordinator: Endpoint = coordinatorOn(net);
    const { link, registered, opens } = rig(net, { stableId: null });
    link.start();
    await settleLink(net, 100);
    expect(opens()).toBe(1);
    const first = registered[0]!;

    // The coordinator goes away and comes back: the link registers under the same id again.
    coordinator.destroy();
    await settleLink(net, 700);
    coordinator = coordinatorOn(net);
    await settleLink(net, 3_000);
    expect(opens()).toBe(2);
    expect(new Set(registered)).toEqual(new Set([first]));
    expect(link.peerId()).toBe(first);
    link.stop();
  });

  it('[W-17] an id that stays taken is retried with back-off, then given up for a fresh one that is kept', async () => {
    const net = new MemoryNetwork();
    coordinatorOn(net);
    const squatter = net.create('vol-1', quiet);
    const { link, registered, opens } = rig(net, { stableId: 'vol-1' });
    link.start();
    await settleLink(net, 1_000);
    expect(registered).toEqual([]);
    expect(opens()).toBe(0);
    await settleLink(net, 15_000);
    expect(registered).toHaveLength(1);
    expect(registered[0]).not.toBe('vol-1');
    expect(link.peerId()).toBe(registered[0]);
    expect(opens()).toBe(1);
    squatter.destroy();
    link.stop();
  });

  it('[W-17] an id freed while retrying is taken back', async () => {
    const net = new MemoryNetwork();
    coordinatorOn(net);
    const old = net.create('vol-1', quiet);
    const { link, registered } = rig(net, { stableId: 'vol-1' });
    link.start();
    await settleLink(net, 600);
    old.destroy(); // the previous page's registration is released
    await settleLink(net, 3_000);
    expect(registered).toEqual(['vol-1']);
    link.stop();
  });

  it('[W-20] renewId drops the connection and registers under a fresh id, kept from then on', async () => {
    const net = new MemoryNetwork();
    coordinatorOn(net);
    const { link, registered, opens } = rig(net, { stableId: 'vol-1' });
    link.start();
    await settleLink(net, 100);
    expect(registered).toEqual(['vol-1']);
    expect(opens()).toBe(1);
    link.renewId('refused as another volunteer');
    await settleLink(net, 1_000);
    expect(registered).toHaveLength(2);
    const fresh = registered[1]!;
    expect(fresh).not.toBe('vol-1');
    expect(link.peerId()).toBe(fresh);
    expect(opens()).toBe(2);
    link.stop();
  });

  it('[W-20] renewId does nothing for links without a stable id, or once stopped', async () => {
    const net = new MemoryNetwork();
    coordinatorOn(net);
    const { link, opens } = rig(net);
    link.start();
    await settleLink(net, 100);
    link.renewId('x');
    await settleLink(net, 1_000);
    expect(opens()).toBe(1);
    link.stop();
    const stable = rig(net, { stableId: 'vol-2' });
    stable.link.start();
    await settleLink(net, 100);
    stable.link.stop();
    stable.link.renewId('x');
    await settleLink(net, 1_000);
    expect(stable.registered).toEqual(['vol-2']);
  });

  it('only the coordinator speaks to a client: frames, opens and closes from any other peer are ignored', async () => {
    const net = new MemoryNetwork();
    const coordinator = coordinatorOn(net);
    const frames: unknown[] = [];
    let closes = 0;
    let opens = 0;
    const handlers: LinkHandlers = {
      open: () => opens++,
      frame: (m) => frames.push(m),
      protocolError: (e) => frames.push(e),
      close: () => closes++,
      status: () => {},
    };
    const link = new CoordinatorLink(net.factory, COORDINATOR, handlers, { stableId: 'vol-1', trust: memoryTrust(NETWORK) });
    link.start();
    await settleLink(net, 100);
    expect(opens).toBe(1);

    // Another peer reaches the volunteer directly (its id is public) and sends what a coordinator would.
    const intruder = net.create('intruder', quiet);
    intruder.connect(asPeerId('vol-1'));
    await settleLink(net, 100);
    intruder.send(asPeerId('vol-1'), { v: PROTOCOL_VERSION, t: 'refused', reason: 'go away', expectedVersion: PROTOCOL_VERSION, code: REFUSED_ID_TAKEN });
    intruder.send(asPeerId('vol-1'), { v: PROTOCOL_VERSION, t: 'no-work', retryInMs: 1 });
    await settleLink(net, 100);
    expect(frames).toEqual([]);
    intruder.destroy();
    await settleLink(net, 100);
    expect({ opens, closes }).toEqual({ opens: 1, closes: 0 });

    // The coordinator's own frames still arrive.
    coordinator.send(asPeerId('vol-1'), { v: PROTOCOL_VERSION, t: 'no-work', retryInMs: 1 });
    await settleLink(net, 100);
    expect(frames).toEqual([{ v: PROTOCOL_VERSION, t: 'no-work', retryInMs: 1 }]);
    link.stop();
  });

  it('requesters and observers take a fresh id for every connection', async () => {
    const net = new MemoryNetwork();
    let coordinator = coordinatorOn(net);
    const { link, registered } = rig(net);
    link.start();
    await settleLink(net, 100);
    coordinator.destroy();
    await settleLink(net, 700);
    coordinator = coordinatorOn(net);
    await settleLink(net, 3_000);
    // One id per attempt (the one made while the coordinator was gone too), never one twice.
    expect(registered.length).toBeGreaterThanOrEqual(2);
    expect(new Set(registered).size).toBe(registered.length);
    expect(link.peerId()).toBeNull();
    link.stop();
  });
});

describe('[P-8] a big frame from the coordinator on a slow link', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('[P-8] a frame that takes longer than the silence limit to arrive keeps the link open, and arrives', async () => {
    const net = new MemoryNetwork({ now: () => Date.now() });
    const coordinator = coordinatorOn(net);
    const frames: string[] = [];
    let closes = 0;
    const handlers: LinkHandlers = {
      open: () => {},
      frame: (m) => frames.push(m.t),
      protocolError: (e) => frames.push(e.reason),
      close: () => closes++,
      status: () => {},
    };
    const link = new CoordinatorLink(net.factory, COORDINATOR, handlers, { stableId: 'vol-1', trust: memoryTrust(NETWORK) });
    link.start();
    await settleLink(net, 100);
    // The coordinator answers no ping: only the frame's own chunks show it is there. 4 MiB, one
    // 64 KiB chunk every 300 ms: about 19 s, past the link's 12 s silence limit.
    const bytes = new Uint8Array(4 * 1024 * 1024).buffer;
    coordinator.send(asPeerId('vol-1'), { v: PROTOCOL_VERSION, t: 'model-chunk', hash: 'a'.repeat(64), offset: 0, total: bytes.byteLength, bytes });
    const started = Date.now();
    while (frames.length === 0 && closes === 0 && Date.now() - started < 60_000) {
      net.deliverNext();
      await vi.advanceTimersByTimeAsync(300);
    }
    expect(closes).toBe(0);
    expect(frames).toEqual(['model-chunk']);
    expect(Date.now() - started).toBeGreaterThan(15_000);
    link.stop();
  });
});
