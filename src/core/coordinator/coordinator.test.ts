import { describe, it, expect } from 'vitest';
import type { Backend } from '../../protocol/capabilities.ts';
import { asLeaseId, asPeerId, type JobId, type LeaseId, type ModelHash, type PeerId } from '../../protocol/ids.ts';
import { LIMITS } from '../../protocol/limits.ts';
import type { JobSpec, ToCoordinator } from '../../protocol/messages.ts';
import { parseToCoordinator } from '../../protocol/parse.ts';
import type { VerificationPolicy } from '../../protocol/policy.ts';
import type { WireTensor } from '../../protocol/tensor.ts';
import { seededRng } from '../rng.ts';
import { HASH_A, HASH_B, V, countingBytes, f32, hello, jobSpec, policy, valuesOf } from '../testing/fixtures.ts';
import { checkFrames, only, sent, submitAndAdmit, type Out } from '../testing/coordinatorFrames.ts';
import { CoordinatorCore } from './coordinator.ts';
import type { CoordinatorEffect } from './effects.ts';
import { DEFAULT_COORDINATOR_CONFIG, type CoordinatorConfig } from './state.ts';

type AckOutcome = Out<'result-ack'>['outcome'];

const TIMEOUT = 10_000;
const RETRY = 500;
const SILENCE = 60_000;

/** Drives one CoordinatorCore at a settable time; every frame it sends must pass the parser. */
class Rig {
  readonly core: CoordinatorCore;
  now = 0;

  constructor(over: Partial<CoordinatorConfig> = {}) {
    this.core = new CoordinatorCore(
      { networkId: 'net1', ...DEFAULT_COORDINATOR_CONFIG, leaseTimeoutMs: TIMEOUT, noWorkRetryMs: RETRY, peerTimeoutMs: SILENCE, ...over },
      seededRng(7),
    );
  }

  join(name: string, role: 'volunteer' | 'requester' | 'observer' = 'volunteer', backend: Backend = 'wasm'): PeerId {
    const id = asPeerId(name);
    this.core.connect(id, this.now);
    this.handle(id, hello(role, backend));
    return id;
  }

  handle(peer: PeerId, msg: ToCoordinator): CoordinatorEffect[] {
    return checkFrames(this.core.handle(peer, msg, this.now));
  }

  /** Submits and admits a job (hashing stands in for the host), returning its id. */
  submit(requester: PeerId, spec: JobSpec, hash: ModelHash = HASH_A): JobId {
    return submitAndAdmit(this.core, requester, spec, this.now, hash);
  }

  /** A lease-request; the lease, or null on no-work. */
  ask(vol: PeerId): Out<'lease'> | null {
    const out = sent(this.handle(vol, { v: V, t: 'lease-request' }), vol);
    expect(out).toHaveLength(1);
    const m = out[0]!;
    if (m.t === 'no-work') return null;
    if (m.t !== 'lease') throw new Error(`expected a lease, got ${m.t}`);
    return m;
  }

  lease(vol: PeerId): Out<'lease'> {
    const l = this.ask(vol);
    if (!l) throw new Error(`${vol} got no work`);
    return l;
  }

  result(vol: PeerId, leaseId: LeaseId, outputs: WireTensor[], backend: Backend = 'wasm'): { outcome: AckOutcome; reason: string; fx: CoordinatorEffect[] } {
    const fx = this.handle(vol, { v: V, t: 'result', leaseId, outputs, backend, inferMs: 5 });
    const ack = only(sent(fx, vol), 'result-ack');
    return { outcome: ack.outcome, reason: ack.reason, fx };
  }

  tick(now: number): CoordinatorEffect[] {
    this.now = now;
    return checkFrames(this.core.tick(now));
  }

  status(jobId: JobId) {
    const s = this.core.jobStatuses().find((j) => j.jobId === jobId);
    if (!s) throw new Error('no such job');
    return s;
  }
}

/** [rows, 2] outputs "y" filled with `v`. */
const out = (rows: number, v: number): WireTensor[] => [f32('y', [rows, 2], Array<number>(rows * 2).fill(v))];

/** A rig with a requester and a job of `items` items already admitted. */
function withJob(items: number, shardSize: number, p: VerificationPolicy = policy(2, 2, 4), over: Partial<CoordinatorConfig> = {}) {
  const rig = new Rig(over);
  const req = rig.join('req', 'requester');
  const jobId = rig.submit(req, jobSpec(items, shardSize, p));
  return { rig, req, jobId };
}

describe('peers [P-1] [P-2] [P-3]', () => {
  it('[P-1] hello gets a welcome naming the network and the peer', () => {
    const rig = new Rig();
    rig.core.connect(asPeerId('v1'), 0);
    const fx = rig.handle(asPeerId('v1'), hello('volunteer', 'webgpu'));
    expect(sent(fx)).toEqual([{ v: V, t: 'welcome', networkId: 'net1', you: 'v1', token: expect.any(String) }]);
    expect(fx.some((e) => e.kind === 'status-changed')).toBe(true);
    expect(rig.core.peerSummaries()).toMatchObject([{ peerId: 'v1', role: 'volunteer', backend: 'webgpu', adapter: 'acme gen1' }]);
  });

  it('[P-1] any frame before hello is refused and the connection closed; nothing is leased', () => {
    const { rig } = withJob(4, 2);
    for (const msg of [
      { v: V, t: 'lease-request' },
      { v: V, t: 'results-request', jobId: 'jx' },
    ] as ToCoordinator[]) {
      // A fresh connection each: a refusal is final for its connection ([B-7]).
      const v = asPeerId(`early-${msg.t}`);
      rig.core.connect(v, 0);
      const fx = rig.handle(v, msg);
      expect(sent(fx, v).map((m) => m.t)).toEqual(['refused']);
      expect(fx).toContainEqual(expect.objectContaining({ kind: 'close', peer: v }));
    }
    expect(rig.core.activeLeaseCount()).toBe(0);
    expect(rig.core.peerSummaries()).toEqual([expect.objectContaining({ peerId: 'req' })]);
  });

  it('[P-1] a second hello with another role is refused', () => {
    const rig = new Rig();
    const v = rig.join('v1');
    const fx = rig.handle(v, hello('requester'));
    expect(only(sent(fx, v), 'refused').reason).toMatch(/already said hello as volunteer/);
    expect(fx.some((e) => e.kind === 'close')).toBe(true);
  });

  it('[P-1] frames from a peer that never connected are dropped', () => {
    const rig = new Rig();
    const fx = rig.handle(asPeerId('ghost'), hello('volunteer'));
    expect(sent(fx)).toEqual([]);
  });

  it('[P-3] [M-2] a frame of another version gets a refusal with our version, then a close', () => {
    const rig = new Rig();
    const v = rig.join('v1');
    const p = parseToCoordinator({ v: V + 1, t: 'lease-request' });
    expect(p.ok).toBe(false);
    if (p.ok) return;
    const fx = checkFrames(rig.core.protocolError(v, p.error, 0));
    const refused = only(sent(fx, v), 'refused');
    expect(refused.expectedVersion).toBe(V);
    expect(refused.reason).toMatch(/v2/);
    expect(fx).toContainEqual({ kind: 'close', peer: v, reason: refused.reason });
  });

  it('[P-3] a malformed frame is logged and dropped; the connection stays', () => {
    const rig = new Rig();
    const v = rig.join('v1');
    const p = parseToCoordinator({ v: V, t: 'result' });
    if (p.ok) throw new Error('should not parse');
    const fx = rig.core.protocolError(v, p.error, 0);
    expect(sent(fx)).toEqual([]);
    expect(fx.some((e) => e.kind === 'close')).toBe(false);
    expect(fx).toContainEqual(expect.objectContaining({ kind: 'log', level: 'warn' }));
  });

  it("[J-1] a malformed submission is refused by its ref, with the parser's reason", () => {
    const rig = new Rig();
    const r = rig.join('r1', 'requester');
    const p = parseToCoordinator({ v: V, t: 'submit-job', ref: 'sub-1', spec: { name: 'x' } });
    if (p.ok) throw new Error('should not parse');
    const refusal = only(sent(checkFrames(rig.core.protocolError(r, p.error, 0)), r), 'job-rejected');
    expect(refusal.ref).toBe('sub-1');
    expect(refusal.reason).toMatch(/"submit-job" frame rejected at spec/);
  });

  it("[P-2] a disconnect releases the peer's leases at once, so another volunteer gets the shard", () => {
    const { rig } = withJob(2, 2, policy(1, 1, 1));
    const v1 = rig.join('v1');
    const v2 = rig.join('v2');
    const l1 = rig.lease(v1);
    expect(rig.ask(v2)).toBeNull();
    rig.core.disconnect(v1, 1);
    expect(rig.core.activeLeaseCount()).toBe(0);
    expect(rig.lease(v2).shardId).toBe(l1.shardId);
    expect(rig.core.peerSummaries().map((p) => p.peerId)).not.toContain('v1');
  });
});

describe('liveness [P-4]', () => {
  it('[P-4] a ping gets a pong', () => {
    const rig = new Rig();
    const p = rig.join('p');
    expect(sent(rig.handle(p, { v: V, t: 'ping' }), p)).toEqual([{ v: V, t: 'pong' }]);
  });

  it('[P-4] a peer silent for longer than peerTimeoutMs is closed and its leases released; frames keep it alive', () => {
    const { rig, req } = withJob(2, 2, policy(1, 1, 1));
    const quiet = rig.join('quiet');
    const chatty = rig.join('chatty');
    const l = rig.lease(quiet);
    rig.now = SILENCE;
    rig.handle(chatty, { v: V, t: 'ping' });
    rig.handle(req, { v: V, t: 'ping' });
    expect(rig.tick(SILENCE).some((e) => e.kind === 'close')).toBe(false); // exactly at the limit: still here
    const fx = rig.tick(SILENCE + 1);
    expect(fx.filter((e) => e.kind === 'close')).toEqual([expect.objectContaining({ kind: 'close', peer: quiet })]);
    expect(
      rig.core
        .peerSummaries()
        .map((p) => p.peerId)
        .sort(),
    ).toEqual(['chatty', 'req']);
    expect(rig.core.activeLeaseCount()).toBe(0);
    expect(rig.lease(chatty).shardId).toBe(l.shardId);
  });
});

describe('leasing [L-1] [L-2] [L-4]', () => {
  it('[L-1] a volunteer gets the first open shard with the rows of that shard, and a deadline', () => {
    const { rig, jobId } = withJob(5, 2);
    const v = rig.join('v1');
    const l = rig.lease(v);
    expect(l.jobId).toBe(jobId);
    expect(l.shardId).toBe(`${jobId}/0`);
    expect(l.modelHash).toBe(HASH_A);
    expect(l.modelBytes).toBe(1000);
    expect(l.deadlineInMs).toBe(TIMEOUT);
    expect(l.inputs).toHaveLength(1);
    expect(l.inputs[0]!.dims).toEqual([2, 2]);
    expect(valuesOf(l.inputs[0]!)).toEqual([0, 0.5, 1, 1.5]);
  });

  it('[L-1] with no open work a volunteer gets no-work with the retry time', () => {
    const rig = new Rig();
    const v = rig.join('v1');
    const fx = rig.handle(v, { v: V, t: 'lease-request' });
    expect(sent(fx, v)).toEqual([{ v: V, t: 'no-work', retryInMs: RETRY }]);
  });

  it('[L-1] requesters and observers get no work', () => {
    const { rig, req } = withJob(4, 2);
    const obs = rig.join('obs', 'observer');
    for (const p of [req, obs]) expect(sent(rig.handle(p, { v: V, t: 'lease-request' }))).toEqual([]);
    expect(rig.core.activeLeaseCount()).toBe(0);
  });

  it('[L-1] a volunteer holds at most maxLeasesPerVolunteer leases', () => {
    const { rig } = withJob(10, 1, policy(1, 1, 1), { maxLeasesPerVolunteer: 2 });
    const v = rig.join('v1');
    rig.lease(v);
    rig.lease(v);
    expect(rig.ask(v)).toBeNull();
    expect(rig.core.activeLeaseCount()).toBe(2);
  });

  it('[L-1] shards of the oldest job go first', () => {
    const rig = new Rig();
    const req = rig.join('req', 'requester');
    const first = rig.submit(req, jobSpec(1, 1, policy(1, 1, 1)));
    rig.now = 5;
    const second = rig.submit(req, jobSpec(1, 1, policy(1, 1, 1)), HASH_B);
    const a = rig.join('a');
    const b = rig.join('b');
    expect(rig.lease(a).jobId).toBe(first);
    expect(rig.lease(b).jobId).toBe(second);
  });

  it('[L-2] replicas of a shard go to different volunteers; the next volunteer gets the next shard', () => {
    const { rig, jobId } = withJob(4, 2, policy(2, 2, 4));
    const [a, b, c] = [rig.join('a'), rig.join('b'), rig.join('c')];
    expect(rig.lease(a).shardId).toBe(`${jobId}/0`);
    expect(rig.lease(b).shardId).toBe(`${jobId}/0`);
    expect(rig.lease(c).shardId).toBe(`${jobId}/1`);
  });

  it('[L-2] a volunteer is never leased a shard it holds or has returned, even with lease slots free', () => {
    const { rig } = withJob(2, 2, policy(2, 2, 4), { maxLeasesPerVolunteer: 5 });
    const a = rig.join('a');
    const l = rig.lease(a);
    expect(rig.ask(a)).toBeNull(); // holds it
    expect(rig.result(a, l.leaseId, out(2, 1)).outcome).toBe('received');
    expect(rig.ask(a)).toBeNull(); // returned it
    const b = rig.join('b');
    expect(rig.lease(b).shardId).toBe(l.shardId);
  });

  it('[L-4] a lease ends at its deadline, not before, and the shard goes to someone else', () => {
    const { rig } = withJob(2, 2, policy(1, 1, 1));
    const a = rig.join('a');
    const b = rig.join('b');
    const l = rig.lease(a);
    rig.tick(TIMEOUT - 1);
    expect(rig.core.activeLeaseCount()).toBe(1);
    expect(rig.ask(b)).toBeNull();
    const fx = rig.tick(TIMEOUT);
    expect(rig.core.activeLeaseCount()).toBe(0);
    expect(fx).toContainEqual(expect.objectContaining({ kind: 'log', text: expect.stringMatching(/lease expired/) }));
    const again = rig.lease(b);
    expect(again.shardId).toBe(l.shardId);
    expect(again.leaseId).not.toBe(l.leaseId);
  });

  it('[L-3] an abandoned lease frees its slot at once and cannot deliver later', () => {
    const { rig } = withJob(2, 2, policy(1, 1, 1));
    const a = rig.join('a');
    const b = rig.join('b');
    const l = rig.lease(a);
    rig.handle(a, { v: V, t: 'lease-abandon', leaseId: l.leaseId, reason: 'model failed its sha256 check' });
    expect(rig.lease(b).shardId).toBe(l.shardId);
    expect(rig.result(a, l.leaseId, out(2, 1)).outcome).toBe('unknown-lease');
  });

  it('[L-3] only the holder can abandon a lease', () => {
    const { rig } = withJob(2, 2, policy(1, 1, 1));
    const a = rig.join('a');
    const b = rig.join('b');
    const l = rig.lease(a);
    rig.handle(b, { v: V, t: 'lease-abandon', leaseId: l.leaseId, reason: 'mine now' });
    expect(rig.core.activeLeaseCount()).toBe(1);
    expect(rig.result(a, l.leaseId, out(2, 1)).outcome).toBe('received');
  });
});

describe('work-available [L-9]', () => {
  const nudged = (fx: readonly CoordinatorEffect[]): PeerId[] => fx.flatMap((e) => (e.kind === 'send' && e.msg.t === 'work-available' ? [e.to] : []));

  it('[L-9] volunteers told no-work hear work-available once when a job is admitted; others do not', () => {
    const rig = new Rig();
    const req = rig.join('req', 'requester');
    const [a, b] = [rig.join('a'), rig.join('b')];
    rig.join('never-asked');
    expect(rig.ask(a)).toBeNull();
    expect(rig.ask(b)).toBeNull();
    const fx = rig.handle(req, { v: V, t: 'submit-job', ref: 'r1', spec: jobSpec(4, 1, policy(1, 1, 1)) });
    const h = fx.find((e) => e.kind === 'hash-model');
    if (!h || h.kind !== 'hash-model') throw new Error('no hash-model');
    expect(nudged(fx)).toEqual([]); // nothing admitted yet
    const admitted = checkFrames(rig.core.admitJob(h.peer, h.ref, h.spec, HASH_A, rig.now));
    expect(nudged(admitted)).toEqual([a, b]);
    expect(sent(admitted, a)).toEqual([{ v: V, t: 'work-available' }]);
    // Told once: a second job before they ask again tells nobody.
    const told: CoordinatorEffect[] = [];
    submitAndAdmit(rig.core, req, jobSpec(2, 1, policy(1, 1, 1)), rig.now, HASH_B, (fx2) => {
      told.push(...fx2);
      return checkFrames(fx2);
    });
    expect(sent(told, req).map((m) => m.t)).toContain('job-accepted');
    expect(nudged(told)).toEqual([]);
    expect(rig.lease(a).shardId).toMatch(/\/0$/);
  });

  it('[L-9] a burst of shards re-offered at expiry costs each waiting volunteer one frame', () => {
    const { rig } = withJob(4, 1, policy(1, 1, 1), { maxLeasesPerVolunteer: 4 });
    const [a, b] = [rig.join('a'), rig.join('b')];
    for (let i = 0; i < 4; i++) rig.lease(a);
    expect(rig.ask(b)).toBeNull();
    const fx = rig.tick(TIMEOUT);
    expect(rig.core.activeLeaseCount()).toBe(0);
    expect(nudged(fx)).toEqual([b]);
    // Not waiting any more: the next burst tells it nothing until it gets no-work again.
    for (let i = 0; i < 4; i++) rig.lease(b);
    expect(rig.ask(a)).toBeNull();
    expect(nudged(rig.tick(2 * TIMEOUT + 1))).toEqual([a]);
  });

  it('[L-9] a shard that needs more replicas after a disagreement is news', () => {
    const { rig } = withJob(2, 2, policy(2, 2, 4));
    const [a, b, c] = [rig.join('a'), rig.join('b'), rig.join('c')];
    const la = rig.lease(a);
    const lb = rig.lease(b);
    expect(rig.ask(c)).toBeNull();
    expect(nudged(rig.result(a, la.leaseId, out(2, 1)).fx)).toEqual([]);
    expect(nudged(rig.result(b, lb.leaseId, out(2, 7)).fx)).toEqual([c]);
    expect(rig.lease(c).shardId).toBe(la.shardId);
  });

  it('[L-9] paused, full or departed volunteers are not nudged', () => {
    const { rig } = withJob(1, 1, policy(1, 1, 1), { maxLeasesPerVolunteer: 1 });
    const [a, p, full, gone] = [rig.join('a'), rig.join('p'), rig.join('full'), rig.join('gone')];
    rig.lease(a);
    for (const v of [p, gone]) expect(rig.ask(v)).toBeNull();
    rig.handle(p, { v: V, t: 'volunteer-state', paused: true, reason: 'tab hidden' });
    rig.core.disconnect(gone, rig.now);
    const req = rig.join('req2', 'requester');
    rig.submit(req, jobSpec(1, 1, policy(1, 1, 1)), HASH_B);
    rig.now = TIMEOUT - 1; // so its lease outlives the expiry below
    rig.lease(full);
    expect(rig.ask(full)).toBeNull(); // at its cap
    expect(nudged(rig.tick(TIMEOUT))).toEqual([]);
  });

  it('[L-9] [S-3] while storage fails nobody is nudged; its recovery nudges those who waited', () => {
    const rig = new Rig();
    const req = rig.join('req', 'requester');
    const a = rig.join('a');
    rig.submit(req, jobSpec(2, 1, policy(1, 1, 1)));
    checkFrames(rig.core.storageFailed('quota exceeded', rig.now));
    expect(rig.ask(a)).toBeNull();
    const l = rig.core.tick(rig.now);
    expect(nudged(l)).toEqual([]);
    expect(nudged(checkFrames(rig.core.storageRecovered(rig.now)))).toEqual([a]);
  });
});

describe('results [R-1] … [R-5], late results [L-3]', () => {
  it('[R-3] two agreeing results verify the shard, with provenance of volunteers and backends', () => {
    const { rig, req, jobId } = withJob(2, 2);
    const a = rig.join('a', 'volunteer', 'webgpu');
    const b = rig.join('b', 'volunteer', 'wasm');
    const la = rig.lease(a);
    const lb = rig.lease(b);
    expect(rig.result(a, la.leaseId, out(2, 1.00000012), 'webgpu').outcome).toBe('received');
    expect(rig.core.shardsOf(jobId)[0]!.status).toBe('open');
    const { outcome, fx } = rig.result(b, lb.leaseId, out(2, 1), 'wasm');
    expect(outcome).toBe('received');
    const store = fx.find((e) => e.kind === 'store-shard');
    expect(store && store.kind === 'store-shard' && store.shard.status).toBe('verified');
    const shard = rig.core.shardsOf(jobId)[0]!;
    expect(shard.accepted).toMatchObject({ volunteers: ['a', 'b'], backends: ['webgpu', 'wasm'] });
    expect(rig.status(jobId)).toMatchObject({ verified: 1, done: true, disagreements: 0 });

    const results = only(sent(rig.handle(req, { v: V, t: 'results-request', jobId }), req), 'job-results');
    expect(results.shards).toHaveLength(1);
    expect(results.shards[0]).toMatchObject({ index: 0, start: 0, count: 2, volunteers: ['a', 'b'], backends: ['webgpu', 'wasm'] });
    expect(valuesOf(results.shards[0]!.outputs[0]!)[0]).toBeCloseTo(1, 6);
    expect(rig.core.peerSummaries().find((p) => p.peerId === 'a')!.shardsDone).toBe(1);
  });

  it("[J-6] a job's item names come back with its results, so another tab can label its exports", () => {
    const rig = new Rig();
    const req = rig.join('req', 'requester');
    const jobId = rig.submit(req, jobSpec(2, 2, policy(2, 2, 4), { itemNames: ['a.png', 'b.png'] }));
    expect(rig.core.job(jobId)!.itemNames).toEqual(['a.png', 'b.png']);
    const [a, b] = [rig.join('a'), rig.join('b')];
    const [la, lb] = [rig.lease(a), rig.lease(b)];
    rig.result(a, la.leaseId, out(2, 1));
    rig.result(b, lb.leaseId, out(2, 1));
    const other = rig.join('req2', 'requester');
    const results = only(sent(rig.handle(other, { v: V, t: 'results-request', jobId }), other), 'job-results');
    expect(results.itemNames).toEqual(['a.png', 'b.png']);
    // A job without names sends none.
    const { rig: plain, req: r2, jobId: j2 } = withJob(2, 2);
    expect(only(sent(plain.handle(r2, { v: V, t: 'results-request', jobId: j2 }), r2), 'job-results')).not.toHaveProperty('itemNames');
  });

  it('[J-6] a job whose item names do not match its items is refused, saying why', () => {
    const rig = new Rig();
    const req = rig.join('req', 'requester');
    const fx = rig.handle(req, { v: V, t: 'submit-job', ref: 'r1', spec: jobSpec(3, 2, policy(2, 2, 4), { itemNames: ['a.png'] }) });
    expect(only(sent(fx, req), 'job-rejected').reason).toBe('1 item names for 3 items: give one name per item');
  });

  it('[R-4] one disagreeing result leases a third replica, and the majority wins', () => {
    const { rig, jobId } = withJob(2, 2);
    const [a, b, c] = [rig.join('a'), rig.join('b'), rig.join('c')];
    const la = rig.lease(a);
    const lb = rig.lease(b);
    expect(rig.ask(c)).toBeNull(); // two replicas are out: no third yet
    rig.result(a, la.leaseId, out(2, 1));
    rig.result(b, lb.leaseId, out(2, 7)); // the liar
    expect(rig.core.shardsOf(jobId)[0]!.target).toBe(3);
    expect(rig.status(jobId)).toMatchObject({ verified: 0, inFlight: 1 });
    const lc = rig.lease(c);
    expect(lc.shardId).toBe(la.shardId);
    rig.result(c, lc.leaseId, out(2, 1));
    const shard = rig.core.shardsOf(jobId)[0]!;
    expect(shard.status).toBe('verified');
    expect(shard.accepted!.volunteers).toEqual(['a', 'c']);
    expect(valuesOf(shard.accepted!.outputs[0]!)).toEqual([1, 1, 1, 1]);
    expect(rig.status(jobId).disagreements).toBe(1);
    const done = Object.fromEntries(rig.core.peerSummaries().map((p) => [p.peerId, p.shardsDone]));
    expect(done).toMatchObject({ a: 1, b: 0, c: 1 });
  });

  it('[R-4] [Q-2] with no quorum by maxReplicas the shard is unverifiable and leased no more', () => {
    const { rig, jobId } = withJob(2, 2, policy(2, 2, 3));
    const [a, b, c, d] = [rig.join('a'), rig.join('b'), rig.join('c'), rig.join('d')];
    rig.result(a, rig.lease(a).leaseId, out(2, 1));
    rig.result(b, rig.lease(b).leaseId, out(2, 2));
    const { fx } = rig.result(c, rig.lease(c).leaseId, out(2, 3));
    const store = fx.find((e) => e.kind === 'store-shard');
    expect(store && store.kind === 'store-shard' && store.shard.status).toBe('unverifiable');
    expect(rig.status(jobId)).toMatchObject({ unverifiable: 1, verified: 0, done: true, disagreements: 2 });
    expect(rig.ask(d)).toBeNull();
    expect(rig.core.verifiedShards(jobId)).toEqual([]);
  });

  it('[L-3] a late result on an expired lease still counts while the shard is open', () => {
    const { rig, jobId } = withJob(2, 2);
    const [a, b, c] = [rig.join('a'), rig.join('b'), rig.join('c')];
    const la = rig.lease(a);
    rig.now = 1;
    const lb = rig.lease(b);
    rig.tick(TIMEOUT); // a's lease expires, b's does not
    const lc = rig.lease(c); // the freed slot is re-leased
    expect(lc.shardId).toBe(la.shardId);
    expect(rig.result(a, la.leaseId, out(2, 1)).outcome).toBe('received');
    expect(rig.result(b, lb.leaseId, out(2, 1)).outcome).toBe('received');
    expect(rig.core.shardsOf(jobId)[0]!.accepted!.volunteers).toEqual(['a', 'b']);
    const late = rig.result(c, lc.leaseId, out(2, 1));
    expect(late.outcome).toBe('duplicate');
    expect(late.reason).toMatch(/already verified/);
  });

  it('[R-2] a late result after the shard was verified is a duplicate and changes nothing', () => {
    const { rig, jobId } = withJob(2, 2, policy(1, 1, 1));
    const [a, b] = [rig.join('a'), rig.join('b')];
    const la = rig.lease(a);
    rig.tick(TIMEOUT);
    rig.result(b, rig.lease(b).leaseId, out(2, 5));
    const { outcome, fx } = rig.result(a, la.leaseId, out(2, 9));
    expect(outcome).toBe('duplicate');
    expect(fx.some((e) => e.kind === 'store-shard')).toBe(false);
    const shard = rig.core.shardsOf(jobId)[0]!;
    expect(shard.replicas).toHaveLength(1);
    expect(shard.accepted!.volunteers).toEqual(['b']);
  });

  it('[R-2] a lease answers once: a repeated result on it is not counted again', () => {
    const { rig, jobId } = withJob(2, 2);
    const a = rig.join('a');
    const la = rig.lease(a);
    expect(rig.result(a, la.leaseId, out(2, 1)).outcome).toBe('received');
    expect(rig.result(a, la.leaseId, out(2, 1)).outcome).toBe('unknown-lease');
    expect(rig.core.shardsOf(jobId)[0]!.replicas).toHaveLength(1);
    expect(rig.core.shardsOf(jobId)[0]!.status).toBe('open');
  });

  it("[R-1] a result for someone else's lease is rejected, and the holder can still deliver", () => {
    const { rig, jobId } = withJob(2, 2);
    const [a, b] = [rig.join('a'), rig.join('b')];
    const la = rig.lease(a);
    const r = rig.result(b, la.leaseId, out(2, 1));
    expect(r.outcome).toBe('rejected');
    expect(r.reason).toMatch(/not yours/);
    expect(rig.core.shardsOf(jobId)[0]!.replicas).toHaveLength(0);
    expect(rig.core.activeLeaseCount()).toBe(1);
    expect(rig.result(a, la.leaseId, out(2, 1)).outcome).toBe('received');
  });

  it('[R-1] a result for a lease that never existed is unknown-lease', () => {
    const { rig } = withJob(2, 2);
    const a = rig.join('a');
    expect(rig.result(a, asLeaseId('nope'), out(2, 1)).outcome).toBe('unknown-lease');
  });

  it('[R-5] outputs must have one row per item of the shard; a wrong result is not a replica', () => {
    const { rig, jobId } = withJob(3, 2);
    const [a, b] = [rig.join('a'), rig.join('b')];
    const la = rig.lease(a);
    rig.lease(b);
    rig.result(a, la.leaseId, out(2, 1));
    const [c, d] = [rig.join('c'), rig.join('d')];
    const lc = rig.lease(c); // shard 1 has one item
    expect(lc.inputs[0]!.dims).toEqual([1, 2]);
    const bad = rig.result(c, lc.leaseId, out(2, 1));
    expect(bad.outcome).toBe('rejected');
    expect(bad.reason).toMatch(/2 rows, the shard has 1 items/);
    const ld = rig.lease(d);
    expect(rig.result(d, ld.leaseId, []).outcome).toBe('rejected');
    expect(rig.result(rig.join('e'), rig.lease(asPeerId('e')).leaseId, [f32('s', [], [1])]).outcome).toBe('rejected');
    expect(rig.core.shardsOf(jobId)[1]!.replicas).toHaveLength(0);
    // the rejected slots are offered again
    expect(rig.lease(rig.join('f')).shardId).toBe(lc.shardId);
  });
});

describe('model transfer [L-5]', () => {
  const MODEL_BYTES = 2 * LIMITS.modelChunkBytes + 1234;

  function rigWithBigModel() {
    const rig = new Rig();
    const req = rig.join('req', 'requester');
    const model = countingBytes(MODEL_BYTES);
    rig.submit(req, jobSpec(2, 2, policy(1, 1, 1), { model }));
    return { rig, req, model };
  }

  it('[L-5] a lease holder gets chunks that cover the model exactly, in order', () => {
    const { rig, model } = rigWithBigModel();
    const v = rig.join('v');
    const l = rig.lease(v);
    expect(l.modelBytes).toBe(MODEL_BYTES);
    const chunks = sent(rig.handle(v, { v: V, t: 'model-request', hash: HASH_A, offset: 0 }), v) as Out<'model-chunk'>[];
    expect(chunks.map((c) => [c.t, c.offset, c.bytes.byteLength, c.total])).toEqual([
      ['model-chunk', 0, LIMITS.modelChunkBytes, MODEL_BYTES],
      ['model-chunk', LIMITS.modelChunkBytes, LIMITS.modelChunkBytes, MODEL_BYTES],
      ['model-chunk', 2 * LIMITS.modelChunkBytes, 1234, MODEL_BYTES],
    ]);
    const joined = new Uint8Array(MODEL_BYTES);
    for (const c of chunks) joined.set(new Uint8Array(c.bytes), c.offset);
    const original = new Uint8Array(model);
    expect(joined.findIndex((b, i) => b !== original[i])).toBe(-1);
  });

  it('[L-5] a request from an offset resumes there', () => {
    const { rig } = rigWithBigModel();
    const v = rig.join('v');
    rig.lease(v);
    const chunks = sent(rig.handle(v, { v: V, t: 'model-request', hash: HASH_A, offset: LIMITS.modelChunkBytes }), v) as Out<'model-chunk'>[];
    expect(chunks.map((c) => c.offset)).toEqual([LIMITS.modelChunkBytes, 2 * LIMITS.modelChunkBytes]);
  });

  it('[L-5] a request from an offset off the chunk grid starts at the grid point before it', () => {
    const { rig } = rigWithBigModel();
    const v = rig.join('v');
    rig.lease(v);
    const chunks = sent(rig.handle(v, { v: V, t: 'model-request', hash: HASH_A, offset: LIMITS.modelChunkBytes + 5 }), v) as Out<'model-chunk'>[];
    expect(chunks.map((c) => c.offset)).toEqual([LIMITS.modelChunkBytes, 2 * LIMITS.modelChunkBytes]);
  });

  it('[L-5] a model goes out once per lease: a repeated request (a storm) gets model-unavailable, a new lease gets it again', () => {
    const { rig } = rigWithBigModel();
    const v = rig.join('v');
    const first = rig.lease(v);
    const request = { v: V, t: 'model-request', hash: HASH_A, offset: 0 } as const;
    expect(sent(rig.handle(v, request), v).map((m) => m.t)).toEqual(['model-chunk', 'model-chunk', 'model-chunk']);
    for (let i = 0; i < 50; i++) {
      const again = sent(rig.handle(v, request), v);
      expect(again.map((m) => m.t)).toEqual(['model-unavailable']);
      expect(only(again, 'model-unavailable').reason).toMatch(/already sent/);
    }
    rig.handle(v, { v: V, t: 'lease-abandon', leaseId: first.leaseId, reason: 'test' });
    rig.lease(v);
    expect(sent(rig.handle(v, request), v).filter((m) => m.t === 'model-chunk')).toHaveLength(3);
  });

  it('[L-5] without a lease needing the model, or for an unknown model, the answer is model-unavailable', () => {
    const { rig, req } = rigWithBigModel();
    const v = rig.join('v');
    for (const p of [v, req]) {
      const m = only(sent(rig.handle(p, { v: V, t: 'model-request', hash: HASH_A, offset: 0 }), p), 'model-unavailable');
      expect(m.reason).toMatch(/no lease/);
    }
    rig.lease(v);
    const m = only(sent(rig.handle(v, { v: V, t: 'model-request', hash: HASH_B, offset: 0 }), v), 'model-unavailable');
    expect(m.reason).toMatch(/no such model/);
  });

  it('[L-5] a lease that expired no longer entitles its holder to the model', () => {
    const { rig } = rigWithBigModel();
    const v = rig.join('v');
    rig.lease(v);
    rig.tick(TIMEOUT);
    expect(sent(rig.handle(v, { v: V, t: 'model-request', hash: HASH_A, offset: 0 }), v).map((m) => m.t)).toEqual(['model-unavailable']);
  });
});

describe('jobs [J-1] [J-2] [J-3]', () => {
  function submitFx(rig: Rig, peer: PeerId, spec: JobSpec): CoordinatorEffect[] {
    return rig.handle(peer, { v: V, t: 'submit-job', ref: 'ref1', spec });
  }
  function rejection(fx: CoordinatorEffect[]): string {
    expect(fx.some((e) => e.kind === 'hash-model')).toBe(false);
    const r = only(sent(fx), 'job-rejected');
    expect(r.ref).toBe('ref1');
    return r.reason;
  }

  it('[J-1] only requesters may submit', () => {
    const rig = new Rig();
    for (const role of ['volunteer', 'observer'] as const) {
      expect(rejection(submitFx(rig, rig.join(role, role), jobSpec(4, 2)))).toMatch(/only requesters/);
    }
  });

  it('[J-1] the requester key is enforced when the network has one', () => {
    const rig = new Rig({ requesterKey: 'sesame' });
    const req = rig.join('req', 'requester');
    expect(rejection(submitFx(rig, req, jobSpec(4, 2)))).toMatch(/wrong requester key/);
    expect(rejection(submitFx(rig, req, jobSpec(4, 2, undefined, { requesterKey: 'SESAME' })))).toMatch(/wrong requester key/);
    const ok = submitFx(rig, req, jobSpec(4, 2, undefined, { requesterKey: 'sesame' }));
    expect(ok).toContainEqual(expect.objectContaining({ kind: 'hash-model', peer: req, ref: 'ref1' }));
    expect(sent(ok)).toEqual([]);
  });

  it('[J-1] empty, scalar and inconsistent batches and empty models are rejected before hashing', () => {
    const rig = new Rig();
    const req = rig.join('req', 'requester');
    const base = jobSpec(4, 2);
    expect(rejection(submitFx(rig, req, { ...base, inputs: [f32('x', [0, 2], [])] }))).toMatch(/batch is empty/);
    expect(rejection(submitFx(rig, req, { ...base, inputs: [f32('x', [], [1])] }))).toMatch(/scalar/);
    expect(rejection(submitFx(rig, req, { ...base, inputs: [f32('x', [4, 1], [1, 2, 3, 4]), f32('m', [3, 1], [1, 2, 3])] }))).toMatch(/disagree on batch size/);
    expect(rejection(submitFx(rig, req, { ...base, model: new ArrayBuffer(0) }))).toMatch(/model file is empty/);
    expect(rig.core.jobStatuses()).toEqual([]);
  });

  it('[J-1] nothing is stored before the host has hashed the model', () => {
    const rig = new Rig();
    const fx = submitFx(rig, rig.join('req', 'requester'), jobSpec(4, 2));
    expect(fx.map((e) => e.kind)).toEqual(['hash-model']);
    expect(rig.core.jobStatuses()).toEqual([]);
  });

  it('[J-2] admitJob makes ceil(items / shardSize) shards with the right row slices', () => {
    const rig = new Rig();
    const req = rig.join('req', 'requester');
    const spec = jobSpec(10, 4, policy(1, 1, 1));
    const fx = submitFx(rig, req, spec);
    const h = fx[0]!;
    if (h.kind !== 'hash-model') throw new Error('expected hash-model');
    rig.now = 1234.56; // a fractional clock must still mint a valid job id
    const admitted = checkFrames(rig.core.admitJob(h.peer, h.ref, h.spec, HASH_A, rig.now));
    const accepted = only(sent(admitted, req), 'job-accepted');
    expect(accepted.shards).toBe(3);
    expect(admitted.map((e) => e.kind)).toEqual(expect.arrayContaining(['store-model', 'store-job', 'status-changed']));
    const shards = rig.core.shardsOf(accepted.jobId);
    expect(shards.map((s) => [s.index, s.start, s.count])).toEqual([
      [0, 0, 4],
      [1, 4, 4],
      [2, 8, 2],
    ]);
    const rows = shards.map((_, i) => valuesOf(rig.lease(rig.join(`v${i}`)).inputs[0]!));
    expect(rows).toEqual([
      [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5],
      [4, 4.5, 5, 5.5, 6, 6.5, 7, 7.5],
      [8, 8.5, 9, 9.5],
    ]);
    expect(rig.core.job(accepted.jobId)).toMatchObject({ items: 10, shardCount: 3, modelHash: HASH_A, submittedBy: 'req' });
  });

  it('[J-2] a model already held is not stored again', () => {
    const rig = new Rig();
    const req = rig.join('req', 'requester');
    rig.submit(req, jobSpec(2, 2));
    const fx = submitFx(rig, req, jobSpec(2, 2));
    const h = fx[0]!;
    if (h.kind !== 'hash-model') throw new Error('expected hash-model');
    const kinds = rig.core.admitJob(h.peer, h.ref, h.spec, HASH_A, 1).map((e) => e.kind);
    expect(kinds).not.toContain('store-model');
    expect(kinds).toContain('store-job');
  });

  it('[J-3] job status counts every shard exactly once, and done means all are decided', () => {
    const { rig, jobId } = withJob(8, 2, policy(2, 2, 2));
    expect(rig.status(jobId)).toMatchObject({ items: 8, shards: 4, verified: 0, inFlight: 0, pending: 4, unverifiable: 0, done: false });
    const [a, b, c] = [rig.join('a'), rig.join('b'), rig.join('c')];
    const la = rig.lease(a);
    const lb = rig.lease(b);
    rig.lease(c); // shard 1
    expect(rig.status(jobId)).toMatchObject({ verified: 0, inFlight: 2, pending: 2 });
    rig.result(a, la.leaseId, out(2, 1));
    rig.result(b, lb.leaseId, out(2, 1));
    expect(rig.status(jobId)).toMatchObject({ verified: 1, inFlight: 1, pending: 2, done: false });
    const s = rig.status(jobId);
    expect(s.verified + s.inFlight + s.pending + s.unverifiable).toBe(s.shards);
  });

  it('[J-3] results-request for an unknown job sends nothing', () => {
    const rig = new Rig();
    const req = rig.join('req', 'requester');
    expect(sent(rig.handle(req, { v: V, t: 'results-request', jobId: 'nope' as JobId }))).toEqual([]);
  });
});
