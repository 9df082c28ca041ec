/** The coordinator's side of telemetry: observers are read-only, and its counters feed the aggregator. */
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../protocol/capabilities.ts';
import { asPeerId, type JobId, type PeerId } from '../../protocol/ids.ts';
import type { FromCoordinator, ToCoordinator } from '../../protocol/messages.ts';
import { parseFromCoordinator } from '../../protocol/parse.ts';
import { CoordinatorCore } from '../coordinator/coordinator.ts';
import type { CoordinatorEffect } from '../coordinator/effects.ts';
import { DEFAULT_COORDINATOR_CONFIG } from '../coordinator/state.ts';
import { seededRng } from '../rng.ts';
import { HASH_A, V, caps, f32, hello, jobSpec, policy } from '../testing/fixtures.ts';
import { TelemetryAggregator } from './aggregator.ts';

type Lease = Extract<FromCoordinator, { t: 'lease' }>;

function rig() {
  const core = new CoordinatorCore({ ...DEFAULT_COORDINATOR_CONFIG, networkId: 'net' }, seededRng(1));
  let now = 0;
  const sends = (fx: CoordinatorEffect[], to?: PeerId): FromCoordinator[] =>
    fx.flatMap((e) => (e.kind === 'send' && (to === undefined || e.to === to) ? [e.msg] : []));
  const api = {
    core,
    at(t: number) {
      now = t;
    },
    join(name: string, role: 'volunteer' | 'requester' | 'observer', backend: Backend = 'wasm'): PeerId {
      const id = asPeerId(name);
      core.connect(id, now);
      core.handle(id, hello(role, backend), now);
      return id;
    },
    handle: (peer: PeerId, msg: ToCoordinator) => core.handle(peer, msg, now),
    submit(req: PeerId, items: number, shardSize: number, p = policy(2, 2, 3)): JobId {
      const fx = core.handle(req, { v: V, t: 'submit-job', ref: 'r1', spec: jobSpec(items, shardSize, p) }, now);
      const h = fx.find((e) => e.kind === 'hash-model');
      if (!h || h.kind !== 'hash-model') throw new Error('no hash-model');
      const acc = sends(core.admitJob(h.peer, h.ref, h.spec, HASH_A, now), req).find((m) => m.t === 'job-accepted');
      if (!acc || acc.t !== 'job-accepted') throw new Error('not accepted');
      return acc.jobId;
    },
    lease(vol: PeerId): Lease {
      const m = sends(core.handle(vol, { v: V, t: 'lease-request' }, now), vol)[0];
      if (!m || m.t !== 'lease') throw new Error(`no lease for ${vol}`);
      return m;
    },
    result(vol: PeerId, lease: Lease, values: number[], backend: Backend = 'wasm') {
      return core.handle(vol, { v: V, t: 'result', leaseId: lease.leaseId, outputs: [f32('y', [values.length, 1], values)], backend, inferMs: 3 }, now);
    },
    sends,
  };
  return api;
}

describe('coordinator: observers are read-only [O-1]', () => {
  it("[O-1] an observer's frames other than hello and ping are dropped and change nothing; a submission is rejected", () => {
    const r = rig();
    const req = r.join('req', 'requester');
    const vol = r.join('vol', 'volunteer');
    const jobId = r.submit(req, 4, 2);
    const obs = r.join('obs', 'observer');
    const lease = r.lease(vol);
    const before = { jobs: r.core.jobStatuses(), samples: r.core.peerSamples(), leases: r.core.activeLeaseCount() };
    const frames: ToCoordinator[] = [
      { v: V, t: 'lease-request' },
      { v: V, t: 'model-request', hash: HASH_A, offset: 0 },
      { v: V, t: 'result', leaseId: lease.leaseId, outputs: [f32('y', [2, 1], [1, 2])], backend: 'wasm', inferMs: 1 },
      { v: V, t: 'lease-abandon', leaseId: lease.leaseId, reason: 'no' },
      { v: V, t: 'submit-job', ref: 'x', spec: jobSpec(2, 1) },
      { v: V, t: 'results-request', jobId },
      { v: V, t: 'volunteer-state', paused: true, reason: 'observers cannot pause' },
      { v: V, t: 'caps', caps: caps('webgpu') },
    ];
    for (const f of frames) {
      const fx = r.handle(obs, f);
      if (f.t === 'submit-job') {
        expect(r.sends(fx, obs)).toMatchObject([{ t: 'job-rejected', ref: 'x', reason: expect.stringMatching(/read-only/) }]);
        expect(fx.map((e) => e.kind)).toEqual(['log', 'send']);
      } else {
        expect(r.sends(fx), f.t).toEqual([]);
        expect(
          fx.map((e) => e.kind),
          f.t,
        ).toEqual(['log']);
      }
      expect(
        fx.some((e) => e.kind === 'hash-model' || e.kind === 'close' || e.kind.startsWith('store-')),
        f.t,
      ).toBe(false);
    }
    expect({ jobs: r.core.jobStatuses(), samples: r.core.peerSamples(), leases: r.core.activeLeaseCount() }).toEqual(before);
  });

  it('[O-1] an observer still gets pong for ping and welcome for a repeated hello; hello as another role is refused', () => {
    const r = rig();
    const obs = r.join('obs', 'observer');
    expect(r.sends(r.handle(obs, { v: V, t: 'ping' }), obs).map((m) => m.t)).toEqual(['pong']);
    expect(r.sends(r.handle(obs, hello('observer')), obs).map((m) => m.t)).toEqual(['welcome']);
    expect(r.sends(r.handle(obs, hello('volunteer')), obs).map((m) => m.t)).toEqual(['refused']);
  });
});

describe('coordinator: telemetry counters [T-3] [T-5]', () => {
  it("[T-3] lease, result and verification counters feed the aggregator's per-tick flows", () => {
    const r = rig();
    const req = r.join('req', 'requester');
    const a = r.join('a', 'volunteer', 'wasm');
    const b = r.join('b', 'volunteer', 'webgpu');
    const agg = new TelemetryAggregator();
    const sampleNow = () => ({ peers: r.core.peerSamples(), jobs: r.core.jobStatuses(), backendPairs: r.core.backendAgreement() });
    r.submit(req, 2, 2);
    agg.tick(sampleNow(), 0);
    r.at(100);
    const la = r.lease(a);
    const lb = r.lease(b);
    const mid = agg.tick(sampleNow(), 500);
    const byId = (f: typeof mid, id: PeerId) => f.peers.find((p) => p.peerId === id)!;
    expect(byId(mid, a)).toMatchObject({ status: 'working', backend: 'wasm', activeLeases: 1, flow: { leases: 1, results: 0 } });
    expect(byId(mid, b)).toMatchObject({ backend: 'webgpu', adapter: 'acme gen1' });
    r.result(a, la, [1, 2]);
    r.result(b, lb, [1, 2.00001], 'webgpu');
    const end = agg.tick(sampleNow(), 1000);
    expect(byId(end, a)).toMatchObject({ shardsDone: 1, resultsReturned: 1, agreementRate: 1, flow: { leases: 0, results: 1, verified: 1, disagreements: 0 } });
    expect(end.totals).toMatchObject({ shardsVerified: 1, disagreements: 0, flow: { leases: 0, results: 2, verified: 2, disagreements: 0 } });
    expect(end.backendPairs).toEqual([{ a: 'webgpu', b: 'wasm', agree: 1, disagree: 0 }]);
    expect(end.jobs[0]).toMatchObject({ verified: 1, done: true });
    const parsed = parseFromCoordinator(end);
    expect(parsed.ok, parsed.ok ? '' : parsed.error.reason).toBe(true);
  });

  it("[T-5] an outvoted replica counts as a disagreement with each agreeing backend and lowers its volunteer's agreement rate", () => {
    const r = rig();
    const req = r.join('req', 'requester');
    const honest1 = r.join('h1', 'volunteer', 'wasm');
    const liar = r.join('liar', 'volunteer', 'wasm');
    const honest2 = r.join('h2', 'volunteer', 'webgpu');
    r.submit(req, 2, 2, policy(2, 2, 3));
    const l1 = r.lease(honest1);
    const l2 = r.lease(liar);
    r.result(honest1, l1, [1, 2]);
    r.result(liar, l2, [9, 9]);
    const l3 = r.lease(honest2);
    r.result(honest2, l3, [1, 2], 'webgpu');
    expect(r.core.backendAgreement()).toEqual([
      { a: 'webgpu', b: 'wasm', agree: 1, disagree: 1 },
      { a: 'wasm', b: 'wasm', agree: 0, disagree: 1 },
    ]);
    const f = new TelemetryAggregator().tick({ peers: r.core.peerSamples(), jobs: r.core.jobStatuses(), backendPairs: r.core.backendAgreement() }, 0);
    expect(f.peers.find((p) => p.peerId === liar)).toMatchObject({ agreementRate: 0, rejected: 1, shardsDone: 0 });
    expect(f.peers.find((p) => p.peerId === honest2)).toMatchObject({ agreementRate: 1, shardsDone: 1 });
    expect(f.totals.disagreements).toBe(1);
  });
});
