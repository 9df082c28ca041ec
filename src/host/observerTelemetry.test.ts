/**
 * The coordinator host's telemetry over the in-memory transport, on a fake clock: observers get
 * a bounded number of frames per second whatever the network's size ([T-1]), and the observer
 * host puts them in the store.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { caps } from '../core/testing/fixtures.ts';
import type { PeerId } from '../protocol/ids.ts';
import { PROTOCOL_VERSION } from '../protocol/messages.ts';
import type { CoordinatorStore } from '../persistence/coordinatorStore.ts';
import { initialState, useQuorumStore } from '../stores/store.ts';
import { MemoryNetwork } from '../transport/memoryTransport.ts';
import { CoordinatorHost, TELEMETRY_MS } from './coordinatorHost.ts';
import { coordinatorPeerId } from './networkId.ts';
import { coordinatorClient } from './testing/coordinatorClient.ts';
import { ObserverHost } from './observerHost.ts';

const NET = 'telemetry-test';
const COORD = coordinatorPeerId(NET);

/** A store that holds nothing: these tests are about telemetry, not persistence. */
const emptyStore = {
  loadJobs: () => Promise.resolve([]),
  loadModel: () => Promise.resolve(null),
  loadShards: () => Promise.resolve([]),
  putJob: () => Promise.resolve(),
  putShard: () => Promise.resolve(),
  putModel: () => Promise.resolve(),
} as unknown as CoordinatorStore;

const client = (net: MemoryNetwork, id: string) => coordinatorClient(net, id, COORD);

/** Advances the fake clock in small steps, delivering frames in between. */
async function run(net: MemoryNetwork, ms: number, step = 50): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    await vi.advanceTimersByTimeAsync(step);
    net.flush();
  }
}

describe('coordinator host telemetry [T-1]', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
    useQuorumStore.setState(initialState);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('[T-1] an observer gets one telemetry frame per period and no job-status or network frames, whatever the network size', async () => {
    const net = new MemoryNetwork();
    const host = new CoordinatorHost({ networkId: NET, factory: net.factory, store: emptyStore });
    await host.start();
    const obs = client(net, 'obs');
    net.flush();
    obs.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'observer', caps: null, label: 'map' });
    net.flush();

    const volunteers: ReturnType<typeof client>[] = [];
    for (let i = 0; i < 300; i++) {
      const v = client(net, `v${i}`);
      volunteers.push(v);
      net.flush();
      v.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'volunteer', caps: caps(i % 3 === 0 ? 'webgpu' : 'wasm'), label: `v${i}` });
      // A busy network: every volunteer keeps asking for work (and keeps causing status changes).
      v.send({ v: PROTOCOL_VERSION, t: 'lease-request' });
    }
    const seconds = 10;
    obs.received.length = 0;
    for (let s = 0; s < seconds * 4; s++) {
      for (const v of volunteers) v.send({ v: PROTOCOL_VERSION, t: 'ping' });
      await run(net, 250);
    }
    const types = obs.received.map((m) => m.t);
    expect(new Set(types)).toEqual(new Set(['telemetry']));
    const perSecond = 1000 / TELEMETRY_MS;
    expect(types.length).toBeGreaterThanOrEqual(seconds * perSecond - 1);
    expect(types.length).toBeLessThanOrEqual(seconds * perSecond + 1);

    const last = obs.received[obs.received.length - 1]!;
    if (last.t !== 'telemetry') throw new Error('expected telemetry');
    const listed = last.peers.filter((p) => p.role === 'volunteer');
    expect(listed).toHaveLength(300);
    expect(listed.filter((p) => p.backend === 'webgpu')).toHaveLength(100);
    expect(last.totals).toMatchObject({ volunteers: 300, peers: 301 });
    host.stop();
  });

  it('[O-1] frames an observer sends to change things are dropped: it never gets work', async () => {
    const net = new MemoryNetwork();
    const host = new CoordinatorHost({ networkId: NET, factory: net.factory, store: emptyStore });
    await host.start();
    const obs = client(net, 'obs');
    net.flush();
    obs.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'observer', caps: null, label: 'map' });
    obs.send({ v: PROTOCOL_VERSION, t: 'lease-request' });
    await run(net, 600);
    expect(obs.received.map((m) => m.t).filter((t) => t !== 'telemetry')).toEqual(['welcome']);
    expect(host.core.activeLeaseCount()).toBe(0);
    expect(useQuorumStore.getState().coordinator.log.some((l) => /observers are read-only/.test(l.text))).toBe(true);
    host.stop();
  });

  it('the observer host feeds telemetry into the store: peers with their backends, and a chart history', async () => {
    const net = new MemoryNetwork();
    const host = new CoordinatorHost({ networkId: NET, factory: net.factory, store: emptyStore });
    await host.start();
    for (let i = 0; i < 3; i++) {
      const v = client(net, `vol${i}`);
      net.flush();
      v.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'volunteer', caps: caps(i === 0 ? 'webgpu' : 'wasm'), label: 'v' });
    }
    const observer = new ObserverHost(NET, net.factory);
    observer.start();
    await run(net, 2_000);
    const n = useQuorumStore.getState().network;
    expect(n.state).toBe('connected');
    expect(n.source).toBe('coordinator');
    expect(n.telemetry?.t).toBe('telemetry');
    const vols = n.peers.filter((p) => p.role === 'volunteer');
    expect(vols.map((p) => [p.peerId, p.backend]).sort()).toEqual([
      ['vol0' as PeerId, 'webgpu'],
      ['vol1' as PeerId, 'wasm'],
      ['vol2' as PeerId, 'wasm'],
    ]);
    expect(n.history.length).toBeGreaterThanOrEqual(2);
    observer.stop();
    host.stop();
  });
});
