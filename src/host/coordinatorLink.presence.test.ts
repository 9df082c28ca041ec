import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { asPeerId } from '../protocol/ids.ts';
import type { Presence } from '../protocol/presence.ts';
import { MemoryNetwork } from '../transport/memoryTransport.ts';
import type { Endpoint, EndpointFactory } from '../transport/transport.ts';
import { CoordinatorLink, type LinkHandlers } from './coordinatorLink.ts';
import type { CoordinatorIdentity } from './coordinatorKey.ts';
import { memoryTrust, newIdentity, provingCoordinator } from './testing/provingCoordinator.ts';

const NETWORK = 'test';
const COORDINATOR = asPeerId('quorum-test');
let identity: CoordinatorIdentity;
beforeAll(async () => {
  identity = await newIdentity();
});
const coordinatorOn = (net: MemoryNetwork): Endpoint => provingCoordinator(net, COORDINATOR, NETWORK, identity);

function rig(factory: EndpointFactory) {
  let opens = 0;
  const statuses: string[] = [];
  const registrations: string[] = [];
  const handlers: LinkHandlers = {
    registered: (id) => registrations.push(id),
    open: () => opens++,
    frame: () => {},
    protocolError: () => {},
    close: () => {},
    status: (_state, detail) => statuses.push(detail),
  };
  const link = new CoordinatorLink(factory, COORDINATOR, handlers, { trust: memoryTrust(NETWORK), stableId: null });
  return { link, statuses, registrations, opens: () => opens };
}

const realSetTimeout = globalThis.setTimeout;

/** Runs the link's timers for `ms`, delivering frames; WebCrypto needs turns of the real loop. */
async function settle(net: MemoryNetwork, ms: number, stepMs = 250): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    await vi.advanceTimersByTimeAsync(stepMs);
    net.flush();
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => realSetTimeout(resolve, 1));
      await vi.advanceTimersByTimeAsync(0);
      net.flush();
    }
  }
}

/**
 * Advances the fake clock in small steps until `done` holds, giving WebCrypto (the key proof) real
 * time on a loaded machine; fails after `maxMs` of fake time.
 */
async function until(net: MemoryNetwork, done: () => boolean, maxMs = 9_000): Promise<void> {
  for (let t = 0; t <= maxMs && !done(); t += 20) {
    await vi.advanceTimersByTimeAsync(20);
    net.flush();
    await new Promise((resolve) => realSetTimeout(resolve, 5));
    await vi.advanceTimersByTimeAsync(0);
    net.flush();
  }
  expect(done()).toBe(true);
}

describe('[E-4] a link whose dials are scarce asks before dialing', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('[E-4] spends no dial through a 10-minute coordinator outage, and connects within 10 s of its return', async () => {
    const net = new MemoryNetwork();
    let coordinator = coordinatorOn(net);
    const { link, opens, statuses } = rig(net.presenceFactory);
    link.start();
    await until(net, () => opens() === 1);
    expect(net.dials).toBe(1);

    coordinator.destroy();
    await settle(net, 10 * 60_000, 1_000);
    expect(net.dials).toBe(1);
    expect(statuses.at(-1)).toMatch(/quorum-test is not online; waiting for it \(no connection is spent meanwhile\); asking again in 10 s/);

    coordinator = coordinatorOn(net);
    await until(net, () => opens() === 2, 10_500);
    expect(net.dials).toBe(2);
    link.stop();
    coordinator.destroy();
  });

  it('[E-4] [W-15] waits from the start for a coordinator that was never there, registered once meanwhile (so held-back results are restored)', async () => {
    const net = new MemoryNetwork();
    const { link, opens, registrations } = rig(net.presenceFactory);
    link.start();
    await settle(net, 60_000, 1_000);
    expect(net.dials).toBe(0);
    // Registered with signaling (no connection spent) once, not once per presence check.
    expect(registrations).toHaveLength(1);
    const coordinator = coordinatorOn(net);
    await until(net, () => opens() === 1, 10_500);
    expect(net.dials).toBe(1);
    link.stop();
    coordinator.destroy();
  });

  it('without presence (a Node transport) a link dials through the outage as before: what [E-4] saves a page', async () => {
    const net = new MemoryNetwork();
    const { link } = rig(net.factory);
    link.start();
    await settle(net, 60_000, 1_000);
    expect(net.dials).toBeGreaterThanOrEqual(12);
    link.stop();
  });

  it('[E-4] dials as before when the server cannot say, and obeys a 429 by waiting as long as it asks', async () => {
    const net = new MemoryNetwork();
    let answer: Presence = { kind: 'unknown', reason: 'the presence endpoint answered HTTP 404' };
    const asked: number[] = [];
    const factory: EndpointFactory = Object.assign((id: string | null, h: Parameters<EndpointFactory>[1]) => net.factory(id, h), {
      presence: () => {
        asked.push(Date.now());
        return Promise.resolve(answer);
      },
    });
    const coordinator = coordinatorOn(net);
    const { link, opens } = rig(factory);
    link.start();
    await until(net, () => opens() === 1);
    link.stop();

    answer = { kind: 'slow-down', retryAfterMs: 30_000 };
    asked.length = 0;
    const slowed = rig(factory);
    slowed.link.start();
    await settle(net, 65_000, 1_000);
    expect(slowed.opens()).toBe(0);
    expect(asked.length).toBe(3);
    expect(asked[1]! - asked[0]!).toBeGreaterThanOrEqual(30_000);
    slowed.link.stop();
    coordinator.destroy();
  });
});
