/**
 * The coordinator host's telemetry over the in-memory transport, on a fake clock: observers get
 * a bounded number of frames per second whatever the network's size ([T-1]), and the observer
 * host puts them in the store.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { caps, jobSpec, policy } from '../core/testing/fixtures.ts';
import type { JobId, PeerId } from '../protocol/ids.ts';
import { PROTOCOL_VERSION } from '../protocol/messages.ts';
import { MemoryCoordinatorStore } from '../persistence/memoryCoordinatorStore.ts';
import { MemoryNetwork } from '../transport/memoryTransport.ts';
import { CoordinatorHost, TELEMETRY_MS } from './coordinatorHost.ts';
import { memoryTrust } from './testing/provingCoordinator.ts';
import { untilLinked } from './testing/settleLink.ts';
import { coordinatorPeerId } from './networkId.ts';
import { coordinatorClient, type CoordinatorClient } from './testing/coordinatorClient.ts';
import { ObserverHost } from './observerHost.ts';

const NET = 'telemetry-test';
const COORD = coordinatorPeerId(NET);

const client = (net: MemoryNetwork, id: string) => coordinatorClient(net, id, COORD);

/** A requester submits a job of `items` one-item shards, each to be computed once; returns its id once admitted. */
async function submitJob(net: MemoryNetwork, items: number): Promise<JobId> {
  const req = client(net, 'req');
  net.flush();
  req.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'requester', caps: null, label: 'dashboard' });
  req.send({ v: PROTOCOL_VERSION, t: 'submit-job', ref: 'r1', spec: jobSpec(items, 1, policy(1, 1, 1)) });
  for (let i = 0; i < 100; i++) {
    await run(net, 50);
    const answer = req.received.find((m) => m.t === 'job-accepted' || m.t === 'job-rejected');
    if (answer?.t === 'job-accepted') return answer.jobId;
    if (answer) throw new Error(`job rejected: ${JSON.stringify(answer)}`);
  }
  throw new Error('the job was never admitted');
}

// Raw test peers say hello without keys: [I-2] [I-3] are tested in coordinatorHost.volunteerKeys.test.ts.
const newHost = (net: MemoryNetwork): CoordinatorHost =>
  new CoordinatorHost({ networkId: NET, factory: net.factory, store: new MemoryCoordinatorStore(NET), config: { volunteerKeys: false } });

/** Advances the fake clock in small steps, delivering frames in between. */
/** The real setTimeout, taken before any test fakes timers. */
const realSetTimeout = globalThis.setTimeout;

/**
 * `ms` of fake time in `step`s, with a few real milliseconds after each: the coordinator's key
 * proof ([K-2]) is WebCrypto, which completes on its own thread in real time, whatever the fake clock says.
 */
async function run(net: MemoryNetwork, ms: number, step = 50): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    await vi.advanceTimersByTimeAsync(step);
    net.flush();
    await new Promise((resolve) => realSetTimeout(resolve, 5));
  }
}

describe('coordinator host telemetry [T-1]', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('[T-1] an observer gets one telemetry frame per period and no job-status or network frames, whatever the network size', async () => {
    const net = new MemoryNetwork();
    const host = newHost(net);
    await host.start();
    const obs = client(net, 'obs');
    net.flush();
    obs.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'observer', caps: null, label: 'map' });
    net.flush();

    const jobId = await submitJob(net, 600);
    const volunteers: CoordinatorClient[] = [];
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
    // Every volunteer holds one of the job's shards: the network is busy, not idle.
    expect(host.core.activeLeaseCount()).toBe(300);
    expect(last.totals).toMatchObject({ volunteers: 300, peers: 302, activeLeases: 300, working: 300 });
    expect(last.jobs.map((j) => j.jobId)).toEqual([jobId]);
    expect(host.view.get().storage.error).toBeNull();
    host.stop();
  });

  it('[O-1] frames an observer sends to change things are dropped: it never gets work', async () => {
    const net = new MemoryNetwork();
    const host = newHost(net);
    await host.start();
    await submitJob(net, 4);
    const obs = client(net, 'obs');
    const vol = client(net, 'vol');
    net.flush();
    obs.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'observer', caps: null, label: 'map' });
    obs.send({ v: PROTOCOL_VERSION, t: 'lease-request' });
    vol.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'volunteer', caps: caps('wasm'), label: 'v' });
    vol.send({ v: PROTOCOL_VERSION, t: 'lease-request' });
    await run(net, 600);
    expect(obs.received.map((m) => m.t).filter((t) => t !== 'telemetry')).toEqual(['welcome']);
    // Work was there to lease: the volunteer that asked holds a lease, the observer none.
    expect(vol.received.map((m) => m.t)).toContain('lease');
    expect(host.core.activeLeaseCount()).toBe(1);
    expect(host.core.peerSummaries().find((p) => p.peerId === ('obs' as PeerId))?.activeLeases ?? 0).toBe(0);
    expect(host.view.get().log.some((l) => /observers are read-only/.test(l.text))).toBe(true);
    host.stop();
  });

  it('the observer host feeds telemetry into the store: peers with their backends, and a chart history', async () => {
    const net = new MemoryNetwork();
    const host = newHost(net);
    await host.start();
    for (let i = 0; i < 3; i++) {
      const v = client(net, `vol${i}`);
      net.flush();
      v.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'volunteer', caps: caps(i === 0 ? 'webgpu' : 'wasm'), label: 'v' });
    }
    const observer = new ObserverHost(NET, net.factory, memoryTrust(NET));
    observer.start();
    // The host signs its proof in real time, however slow the machine: wait for the link to open.
    await untilLinked(net, 'the observer to connect', () => observer.view.get().state === 'connected');
    await run(net, 2_000);
    const n = observer.view.get();
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
