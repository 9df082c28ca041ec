/**
 * What the coordinator host sends on its timers, measured by the scale bench (bench/scale.ts) to
 * grow with the network: [T-6] requesters get `job-status` and no `network` frame (every peer's
 * summary, ~120 bytes each, which no requester reads); [T-1] with no observer connected the
 * telemetry timer samples no peer at all.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { hello } from '../core/testing/fixtures.ts';
import { MemoryCoordinatorStore } from '../persistence/memoryCoordinatorStore.ts';
import { MemoryNetwork } from '../transport/memoryTransport.ts';
import { CoordinatorHost, TELEMETRY_MS } from './coordinatorHost.ts';
import { coordinatorPeerId } from './networkId.ts';
import { coordinatorClient } from './testing/coordinatorClient.ts';

const NET = 'broadcasts';
const COORD = coordinatorPeerId(NET);

async function startHost(net: MemoryNetwork): Promise<CoordinatorHost> {
  // Raw test peers say hello without keys: [I-2] [I-3] are tested in coordinatorHost.volunteerKeys.test.ts.
  const host = new CoordinatorHost({ networkId: NET, factory: net.factory, store: new MemoryCoordinatorStore(NET), config: { volunteerKeys: false } });
  await host.start();
  return host;
}

/** Volunteers that connect and say hello, each a change the host broadcasts. */
async function joinVolunteers(net: MemoryNetwork, count: number, from = 0): Promise<void> {
  for (let i = from; i < from + count; i++) {
    const v = coordinatorClient(net, `vol-${i}`, COORD);
    net.flush();
    v.send(hello('volunteer'));
    net.flush();
    await vi.advanceTimersByTimeAsync(300);
  }
}

describe('coordinator host broadcasts', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('[T-6] a requester gets job-status frames as volunteers join, and no network frame', async () => {
    const net = new MemoryNetwork();
    const host = await startHost(net);
    const req = coordinatorClient(net, 'req-1', COORD);
    net.flush();
    req.send(hello('requester'));
    net.flush();
    await joinVolunteers(net, 5);
    net.flush();
    const kinds = req.received.map((m) => m.t);
    expect(kinds).toContain('job-status');
    expect(kinds).not.toContain('network');
    host.stop();
  });

  it('[T-1] with no observer the telemetry timer samples no peer; an observer that joins gets frames, its first a baseline', async () => {
    const net = new MemoryNetwork();
    const host = await startHost(net);
    const samples = vi.spyOn(host.core, 'peerSamples');
    await joinVolunteers(net, 3);
    await vi.advanceTimersByTimeAsync(10 * TELEMETRY_MS);
    expect(samples).not.toHaveBeenCalled();

    const obs = coordinatorClient(net, 'obs-1', COORD);
    net.flush();
    obs.send(hello('observer'));
    net.flush();
    await vi.advanceTimersByTimeAsync(3 * TELEMETRY_MS);
    net.flush();
    const frames = obs.received.flatMap((m) => (m.t === 'telemetry' ? [m] : []));
    expect(frames.length).toBeGreaterThanOrEqual(2);
    // [T-3] The first frame after sampling resumes is every peer's baseline: no flow, no throughput.
    const first = frames[0]!;
    expect(first.totals.peers).toBe(4);
    expect(first.peers.every((p) => p.flow.leases === 0 && p.flow.results === 0 && p.throughputPerS === 0)).toBe(true);
    host.stop();
  });
});
