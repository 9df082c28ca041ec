/**
 * The coordinator's side of volunteer controls: paused volunteers get no lease ([L-7]), pauses
 * and capability changes are taken in ([P-5], [P-6]), and volunteers hear their standing ([P-7]).
 */
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../protocol/capabilities.ts';
import { asPeerId, type JobId, type LeaseId, type PeerId } from '../../protocol/ids.ts';
import type { FromCoordinator, ToCoordinator } from '../../protocol/messages.ts';
import type { WireTensor } from '../../protocol/tensor.ts';
import { seededRng } from '../rng.ts';
import { HASH_A, V, caps, f32, hello, jobSpec, policy } from '../testing/fixtures.ts';
import { sent, type Out } from '../testing/coordinatorFrames.ts';
import { CoordinatorCore } from './coordinator.ts';
import type { CoordinatorEffect } from './effects.ts';
import { DEFAULT_COORDINATOR_CONFIG } from './state.ts';

function of<T extends FromCoordinator['t']>(msgs: FromCoordinator[], t: T): Out<T>[] {
  return msgs.filter((m) => m.t === t) as Out<T>[];
}

const out = (rows: number, v: number): WireTensor[] => [f32('y', [rows, 2], Array<number>(rows * 2).fill(v))];

function rig(items = 8, shardSize = 2) {
  const core = new CoordinatorCore({ networkId: 'net1', ...DEFAULT_COORDINATOR_CONFIG, noWorkRetryMs: 250 }, seededRng(3));
  const h = (peer: PeerId, msg: ToCoordinator, now = 0): CoordinatorEffect[] => core.handle(peer, msg, now);
  const join = (name: string, role: 'volunteer' | 'requester' = 'volunteer', backend: Backend = 'wasm'): PeerId => {
    const id = asPeerId(name);
    core.connect(id, 0);
    h(id, hello(role, backend));
    return id;
  };
  const req = join('req', 'requester');
  const fx = h(req, { v: V, t: 'submit-job', ref: 'r1', spec: jobSpec(items, shardSize, policy(2, 2, 4)) });
  const hm = fx.find((e) => e.kind === 'hash-model');
  if (!hm || hm.kind !== 'hash-model') throw new Error('no hash-model');
  const accepted = of(sent(core.admitJob(hm.peer, hm.ref, hm.spec, HASH_A, 0)), 'job-accepted')[0]!;
  const ask = (vol: PeerId, now = 0): FromCoordinator => {
    const msgs = sent(h(vol, { v: V, t: 'lease-request' }, now), vol);
    expect(msgs).toHaveLength(1);
    return msgs[0]!;
  };
  return { core, h, join, ask, jobId: accepted.jobId as JobId };
}

describe('volunteer state [P-5] [L-7] [P-6] [P-7]', () => {
  it('[L-7] [P-5] a paused volunteer gets no-work, not a lease; resumed, it gets one', () => {
    const r = rig();
    const v = r.join('v1');
    r.h(v, { v: V, t: 'volunteer-state', paused: true, reason: 'the tab is hidden' });
    expect(r.ask(v)).toEqual({ v: V, t: 'no-work', retryInMs: 250 });
    r.h(v, { v: V, t: 'volunteer-state', paused: false, reason: '' });
    expect(r.ask(v).t).toBe('lease');
  });

  it('[P-5] paused shows in the peer summaries (for the map) and the telemetry samples', () => {
    const r = rig();
    const v = r.join('v1');
    const w = r.join('v2');
    r.h(v, { v: V, t: 'volunteer-state', paused: true, reason: 'you paused it' });
    const summaries = r.core.peerSummaries();
    expect(summaries.find((p) => p.peerId === v)?.paused).toBe(true);
    expect(summaries.find((p) => p.peerId === w)?.paused).toBe(false);
    expect(summaries.find((p) => p.role === 'requester')?.paused).toBeUndefined();
    expect(r.core.peerSamples().find((p) => p.peerId === v)?.paused).toBe(true);
  });

  it('[P-5] a lease handed back at a pause is leased to another volunteer at once', () => {
    const r = rig(2, 2);
    const v = r.join('v1');
    const w = r.join('v2');
    const x = r.join('v3');
    const lv = r.ask(v) as Out<'lease'>;
    const lw = r.ask(w) as Out<'lease'>;
    expect(lv.shardId).toBe(lw.shardId);
    expect(r.ask(x).t).toBe('no-work'); // both replicas are out
    r.h(v, { v: V, t: 'volunteer-state', paused: true, reason: 'you paused it' });
    r.h(v, { v: V, t: 'lease-abandon', leaseId: lv.leaseId, reason: 'paused' });
    const lx = r.ask(x) as Out<'lease'>;
    expect(lx.t).toBe('lease');
    expect(lx.shardId).toBe(lv.shardId);
  });

  it('[P-5] a result that crossed the pause still counts', () => {
    const r = rig(2, 2);
    const v = r.join('v1');
    const w = r.join('v2');
    const lv = r.ask(v) as Out<'lease'>;
    const lw = r.ask(w) as Out<'lease'>;
    r.h(v, { v: V, t: 'volunteer-state', paused: true, reason: 'x' });
    const fx = r.h(v, { v: V, t: 'result', leaseId: lv.leaseId as LeaseId, outputs: out(2, 1), backend: 'wasm', inferMs: 3 });
    expect(of(sent(fx, v), 'result-ack')[0]?.outcome).toBe('received');
    r.h(w, { v: V, t: 'result', leaseId: lw.leaseId as LeaseId, outputs: out(2, 1), backend: 'wasm', inferMs: 3 });
    expect(r.core.jobStatuses()[0]).toMatchObject({ verified: 1, done: true });
  });

  it("[P-5] only volunteers may pause; others' frames change nothing", () => {
    const r = rig();
    const req = asPeerId('req');
    expect(sent(r.h(req, { v: V, t: 'volunteer-state', paused: true, reason: 'x' }))).toEqual([]);
    expect(r.core.peerSummaries().find((p) => p.peerId === req)?.paused).toBeUndefined();
  });

  it("[P-6] a caps frame replaces the volunteer's capabilities: the map and later provenance follow", () => {
    const r = rig(2, 2);
    const v = r.join('v1', 'volunteer', 'webgpu');
    const w = r.join('v2');
    expect(r.core.peerSummaries().find((p) => p.peerId === v)).toMatchObject({ backend: 'webgpu', adapter: 'acme gen1' });
    const lost = { ...caps('wasm'), backendReason: 'WebGPU device lost; switched to WASM' };
    r.h(v, { v: V, t: 'caps', caps: lost });
    expect(r.core.peerSummaries().find((p) => p.peerId === v)).toMatchObject({ backend: 'wasm', adapter: null });
    const lv = r.ask(v) as Out<'lease'>;
    const lw = r.ask(w) as Out<'lease'>;
    r.h(v, { v: V, t: 'result', leaseId: lv.leaseId as LeaseId, outputs: out(2, 1), backend: 'wasm', inferMs: 3 });
    r.h(w, { v: V, t: 'result', leaseId: lw.leaseId as LeaseId, outputs: out(2, 1), backend: 'wasm', inferMs: 3 });
    const shard = r.core.verifiedShards(r.jobId)[0]!;
    expect(shard.backends).toEqual(['wasm', 'wasm']);
    expect(shard.adapters).toEqual([null, null]);
  });

  it('[P-7] each volunteer of an accepted shard hears its new count of accepted shards, batched on tick', () => {
    const r = rig(4, 2);
    const v = r.join('v1');
    const w = r.join('v2');
    const lv = r.ask(v) as Out<'lease'>;
    const lw = r.ask(w) as Out<'lease'>;
    const first = sent(r.h(v, { v: V, t: 'result', leaseId: lv.leaseId as LeaseId, outputs: out(2, 1), backend: 'wasm', inferMs: 3 }), v);
    // Not at once: an immediate report after one shard would let a volunteer spot canaries.
    expect(of(first, 'volunteer-status')).toEqual([]);
    expect(of(sent(r.core.tick(1), v), 'volunteer-status')).toEqual([expect.objectContaining({ shardsAccepted: 0, resultsReturned: 1 })]);
    expect(
      sent(r.h(w, { v: V, t: 'result', leaseId: lw.leaseId as LeaseId, outputs: out(2, 1), backend: 'wasm', inferMs: 3 }), w).filter(
        (m) => m.t === 'volunteer-status',
      ),
    ).toEqual([]);
    // The next report waits for standingReportMs after the last one.
    expect(of(sent(r.core.tick(2), w), 'volunteer-status')).toEqual([]);
    const fx = r.core.tick(1 + DEFAULT_COORDINATOR_CONFIG.standingReportMs);
    for (const peer of [v, w]) {
      const status = of(sent(fx, peer), 'volunteer-status');
      expect(status).toEqual([
        {
          v: V,
          t: 'volunteer-status',
          shardsAccepted: 1,
          resultsReturned: 1,
          resultsRejected: 0,
          paused: false,
          trusted: false,
          streak: 1,
          trustLevel: 0.1,
          quarantined: false,
        },
      ]);
      expect(r.core.peerSummaries().find((p) => p.peerId === peer)?.shardsDone).toBe(1);
    }
  });

  it('[P-7] an outvoted volunteer hears of its rejection; a volunteer-state is answered with the standing', () => {
    const r = rig(2, 2);
    const a = r.join('a');
    const b = r.join('b');
    const c = r.join('c');
    const la = r.ask(a) as Out<'lease'>;
    const lb = r.ask(b) as Out<'lease'>;
    r.h(a, { v: V, t: 'result', leaseId: la.leaseId as LeaseId, outputs: out(2, 1), backend: 'wasm', inferMs: 3 });
    r.h(b, { v: V, t: 'result', leaseId: lb.leaseId as LeaseId, outputs: out(2, 9), backend: 'wasm', inferMs: 3 });
    const lc = r.ask(c) as Out<'lease'>;
    r.h(c, { v: V, t: 'result', leaseId: lc.leaseId as LeaseId, outputs: out(2, 1), backend: 'wasm', inferMs: 3 });
    const fx = r.core.tick(1);
    expect(of(sent(fx, b), 'volunteer-status')[0]).toMatchObject({ shardsAccepted: 0, resultsRejected: 1, streak: 0 });
    expect(of(sent(fx, a), 'volunteer-status')[0]).toMatchObject({ shardsAccepted: 1 });
    const st = of(sent(r.h(a, { v: V, t: 'volunteer-state', paused: true, reason: 'x' }), a), 'volunteer-status');
    expect(st).toEqual([expect.objectContaining({ shardsAccepted: 1, paused: true })]);
  });
});
