/**
 * Leases that fit slow volunteers: progress frames keep a working volunteer's lease ([L-10]), the
 * speed model follows it past `leaseTimeoutMs` ([L-8]), and a result that arrives after its lease
 * ended still counts or is judged ([R-6]).
 */
import { describe, expect, it } from 'vitest';
import { asPeerId, type JobId, type LeaseId, type PeerId } from '../../protocol/ids.ts';
import { LEASE_PROGRESS_INTERVAL_MS, type JobSpec, type ToCoordinator } from '../../protocol/messages.ts';
import type { VerificationPolicy } from '../../protocol/policy.ts';
import type { WireTensor } from '../../protocol/tensor.ts';
import { seededRng } from '../rng.ts';
import { HASH_A, V, f32, hello, jobSpec, policy } from '../testing/fixtures.ts';
import { checkFrames, only, sent, submitAndAdmit, type Out } from '../testing/coordinatorFrames.ts';
import { CoordinatorCore } from './coordinator.ts';
import type { CoordinatorEffect } from './effects.ts';
import { DEFAULT_COORDINATOR_CONFIG, DEFAULT_LEASE_CEILING_MS, type CoordinatorConfig } from './state.ts';

/** The slow volunteer: a WebGPU tab on a software adapter, 73 s for a 10-line shard. */
const SLOW_SHARD_MS = 73_000;
const ITEMS = 10;

/** One CoordinatorCore with the shipped defaults (60 s leases), at a settable time. */
class Rig {
  readonly core: CoordinatorCore;
  now = 0;

  constructor(over: Partial<CoordinatorConfig> = {}) {
    // Silence is not under test here: pings are not sent, so peers never time out.
    this.core = new CoordinatorCore({ networkId: 'net1', ...DEFAULT_COORDINATOR_CONFIG, peerTimeoutMs: 10 * DEFAULT_LEASE_CEILING_MS, ...over }, seededRng(5));
  }

  join(name: string, role: 'volunteer' | 'requester' = 'volunteer'): PeerId {
    const id = asPeerId(name);
    this.core.connect(id, this.now);
    this.handle(id, hello(role));
    return id;
  }

  handle(peer: PeerId, msg: ToCoordinator): CoordinatorEffect[] {
    return checkFrames(this.core.handle(peer, msg, this.now));
  }

  submit(spec: JobSpec): JobId {
    const req = this.join('req', 'requester');
    return submitAndAdmit(this.core, req, spec, this.now, HASH_A);
  }

  ask(vol: PeerId): Out<'lease'> | null {
    const m = sent(this.handle(vol, { v: V, t: 'lease-request' }), vol)[0];
    if (m?.t === 'lease') return m;
    expect(m?.t).toBe('no-work');
    return null;
  }

  lease(vol: PeerId): Out<'lease'> {
    const l = this.ask(vol);
    if (!l) throw new Error(`${vol} got no work`);
    return l;
  }

  progress(vol: PeerId, leaseId: LeaseId, elapsedMs: number): CoordinatorEffect[] {
    return this.handle(vol, { v: V, t: 'lease-progress', leaseId, elapsedMs });
  }

  result(vol: PeerId, leaseId: LeaseId, outputs: WireTensor[]): Out<'result-ack'> {
    return only(sent(this.handle(vol, { v: V, t: 'result', leaseId, outputs, backend: 'webgpu', inferMs: 5 }), vol), 'result-ack');
  }

  tick(now: number): CoordinatorEffect[] {
    this.now = now;
    return checkFrames(this.core.tick(now));
  }

  /**
   * Time passes to `untilMs` in 1 s ticks; `vol` says it is still working on each of `leases`
   * every LEASE_PROGRESS_INTERVAL_MS after `fromMs`, as the volunteer core does.
   */
  workOn(vol: PeerId, leases: readonly LeaseId[], fromMs: number, untilMs: number): void {
    let nextProgress = fromMs + LEASE_PROGRESS_INTERVAL_MS;
    for (let t = this.now + 1_000; t <= untilMs; t += 1_000) {
      this.now = t;
      if (t >= nextProgress) {
        for (const id of leases) this.progress(vol, id, t - fromMs);
        nextProgress += LEASE_PROGRESS_INTERVAL_MS;
      }
      this.tick(t);
    }
  }
}

const out = (rows: number, v: number): WireTensor[] => [f32('y', [rows, 2], Array<number>(rows * 2).fill(v))];

function withJob(p: VerificationPolicy, items = ITEMS, over: Partial<CoordinatorConfig> = {}) {
  const rig = new Rig(over);
  const jobId = rig.submit(jobSpec(items, ITEMS, p));
  return { rig, jobId };
}

describe("progress keeps a working volunteer's lease [L-10]", () => {
  it('[L-10] a 73 s shard from an unmeasured volunteer that reports progress is accepted without re-lease', () => {
    const { rig, jobId } = withJob(policy(1, 1, 1));
    const slow = rig.join('slow');
    const other = rig.join('other');
    const lease = rig.lease(slow);
    expect(lease.deadlineInMs).toBe(DEFAULT_COORDINATOR_CONFIG.leaseTimeoutMs); // unmeasured: 60 s, less than the shard takes
    rig.workOn(slow, [lease.leaseId], 0, SLOW_SHARD_MS - 1_000);
    // Past leaseTimeoutMs, the lease is still the slow volunteer's: nobody else is given the shard.
    expect(rig.core.activeLeaseCount()).toBe(1);
    expect(rig.ask(other)).toBeNull();
    rig.now = SLOW_SHARD_MS;
    expect(rig.result(slow, lease.leaseId, out(ITEMS, 1)).outcome).toBe('received');
    const shard = rig.core.shardsOf(jobId)[0]!;
    expect(shard.status).toBe('verified');
    expect(shard.accepted!.volunteers).toEqual(['slow']);
    expect(rig.core.peerSummaries().find((p) => p.peerId === 'other')!.activeLeases).toBe(0);
  });

  it('[L-10] [W-18] a lease queued behind the slow one is kept by its progress too', () => {
    const { rig } = withJob(policy(1, 1, 1), 2 * ITEMS);
    const slow = rig.join('slow');
    const other = rig.join('other');
    const running = rig.lease(slow);
    const queued = rig.lease(slow);
    rig.workOn(slow, [running.leaseId, queued.leaseId], 0, SLOW_SHARD_MS - 1_000);
    expect(rig.core.activeLeaseCount()).toBe(2);
    expect(rig.ask(other)).toBeNull();
  });

  it('[L-10] a volunteer that reports progress but never a result loses the lease at the ceiling, and cannot revive it', () => {
    const { rig } = withJob(policy(1, 1, 1));
    const liar = rig.join('liar');
    const other = rig.join('other');
    const lease = rig.lease(liar);
    rig.workOn(liar, [lease.leaseId], 0, DEFAULT_LEASE_CEILING_MS - 1_000);
    expect(rig.core.activeLeaseCount()).toBe(1);
    rig.progress(liar, lease.leaseId, DEFAULT_LEASE_CEILING_MS);
    const expired = rig.tick(DEFAULT_LEASE_CEILING_MS);
    expect(rig.core.activeLeaseCount()).toBe(0);
    expect(expired.some((e) => e.kind === 'log' && /lease expired/.test(e.text))).toBe(true);
    // Progress on an ended lease brings nothing back; the shard goes to someone else.
    rig.progress(liar, lease.leaseId, DEFAULT_LEASE_CEILING_MS + 1_000);
    rig.tick(DEFAULT_LEASE_CEILING_MS + 1_000);
    expect(rig.core.activeLeaseCount()).toBe(0);
    expect(rig.lease(other).shardId).toBe(lease.shardId);
  });

  it('[L-10] a configured ceiling bounds the extensions', () => {
    const { rig } = withJob(policy(1, 1, 1), ITEMS, { leaseCeilingMs: 90_000 });
    const vol = rig.join('vol');
    const lease = rig.lease(vol);
    rig.workOn(vol, [lease.leaseId], 0, 89_000);
    expect(rig.core.activeLeaseCount()).toBe(1);
    rig.progress(vol, lease.leaseId, 89_500);
    rig.tick(90_000);
    expect(rig.core.activeLeaseCount()).toBe(0);
  });

  it("[L-10] progress for someone else's lease is ignored, while the holder's own keeps it", () => {
    const { rig } = withJob(policy(2, 2, 2));
    const [a, b] = [rig.join('a'), rig.join('b')];
    const la = rig.lease(a);
    const lb = rig.lease(b);
    // b reports progress on both leases: its own is kept past 60 s, a's is not.
    rig.workOn(b, [la.leaseId, lb.leaseId], 0, SLOW_SHARD_MS);
    expect(rig.core.peerSummaries().find((p) => p.peerId === 'a')!.activeLeases).toBe(0);
    expect(rig.core.peerSummaries().find((p) => p.peerId === 'b')!.activeLeases).toBe(1);
  });

  it('[L-10] [S-1] an extended deadline is stored with the lease, so it survives a reload', () => {
    const { rig } = withJob(policy(1, 1, 1));
    const vol = rig.join('vol');
    const lease = rig.lease(vol);
    rig.core.persist(rig.now); // the lease as issued is stored
    expect(rig.core.hasUnsavedLeases()).toBe(false);
    rig.now = 50_000;
    rig.progress(vol, lease.leaseId, 50_000);
    expect(rig.core.hasUnsavedLeases()).toBe(true);
    const batch = rig.core.persist(rig.now).find((e) => e.kind === 'persist');
    const stored = batch?.kind === 'persist' ? batch.leases.find((l) => l.id === lease.leaseId) : undefined;
    expect(stored?.deadlineMs).toBe(80_000);
  });

  it('[L-10] progress is rate-bounded: frames closer than half the interval extend nothing', () => {
    const { rig } = withJob(policy(1, 1, 1));
    const vol = rig.join('vol');
    const lease = rig.lease(vol);
    rig.now = 40_000;
    rig.progress(vol, lease.leaseId, 40_000); // kept to 40 s + grace = 70 s
    for (let t = 40_100; t < 40_000 + LEASE_PROGRESS_INTERVAL_MS / 2; t += 100) {
      rig.now = t;
      rig.progress(vol, lease.leaseId, t); // a flood: ignored
    }
    rig.tick(69_999);
    expect(rig.core.activeLeaseCount()).toBe(1);
    rig.tick(70_000);
    expect(rig.core.activeLeaseCount()).toBe(0);
  });
});

describe('deadlines follow slow volunteers [L-8]', () => {
  it('[L-8] a volunteer measured slower than leaseTimeoutMs allows gets a deadline that fits its speed', () => {
    const { rig } = withJob(policy(1, 1, 1), 3 * ITEMS);
    const slow = rig.join('slow');
    const first = rig.lease(slow);
    rig.workOn(slow, [first.leaseId], 0, SLOW_SHARD_MS - 1_000);
    rig.now = SLOW_SHARD_MS;
    expect(rig.result(slow, first.leaseId, out(ITEMS, 1)).outcome).toBe('received');
    const { factor, slackMs } = DEFAULT_COORDINATOR_CONFIG.leaseDeadline!;
    const second = rig.lease(slow);
    expect(second.deadlineInMs).toBe(factor * SLOW_SHARD_MS + slackMs); // 297 s, not 60
    // Its next 73 s shard needs no progress frame at all.
    rig.tick(SLOW_SHARD_MS + SLOW_SHARD_MS);
    expect(rig.core.activeLeaseCount()).toBe(1);
  });

  it('[L-8] a measured deadline never exceeds the ceiling', () => {
    const { rig } = withJob(policy(1, 1, 1), 2 * ITEMS);
    const glacial = rig.join('glacial');
    const first = rig.lease(glacial);
    rig.workOn(glacial, [first.leaseId], 0, 20 * 60_000);
    expect(rig.result(glacial, first.leaseId, out(ITEMS, 1)).outcome).toBe('received');
    expect(rig.lease(glacial).deadlineInMs).toBe(DEFAULT_LEASE_CEILING_MS);
  });
});

describe('late results [R-6]', () => {
  it('[R-6] a result that arrives after its lease expired and was re-leased counts as a replica while the shard is open', () => {
    const { rig, jobId } = withJob(policy(2, 2, 2));
    const [a, b, c] = [rig.join('a'), rig.join('b'), rig.join('c')];
    const la = rig.lease(a);
    rig.now = 1_000;
    const lb = rig.lease(b);
    rig.tick(DEFAULT_COORDINATOR_CONFIG.leaseTimeoutMs); // a sent no progress: its lease ends
    expect(rig.lease(c).shardId).toBe(la.shardId); // re-leased
    rig.now = DEFAULT_COORDINATOR_CONFIG.leaseTimeoutMs + 500;
    expect(rig.result(a, la.leaseId, out(ITEMS, 1)).outcome).toBe('received');
    expect(rig.result(b, lb.leaseId, out(ITEMS, 1)).outcome).toBe('received');
    const shard = rig.core.shardsOf(jobId)[0]!;
    expect(shard.status).toBe('verified');
    expect(shard.accepted!.volunteers).toEqual(['a', 'b']);
  });

  it('[R-6] [L-2] a late result from a volunteer that has since returned the shard on a new lease is not a second replica', () => {
    const { rig, jobId } = withJob(policy(2, 2, 2));
    const a = rig.join('a');
    const first = rig.lease(a);
    rig.tick(DEFAULT_COORDINATOR_CONFIG.leaseTimeoutMs);
    const again = rig.lease(a);
    expect(again.shardId).toBe(first.shardId);
    expect(rig.result(a, again.leaseId, out(ITEMS, 1)).outcome).toBe('received');
    expect(rig.result(a, first.leaseId, out(ITEMS, 1)).outcome).toBe('duplicate');
    expect(rig.core.shardsOf(jobId)[0]!.replicas).toHaveLength(1);
  });

  it('[R-6] a late result on a verified shard is judged: agreeing is valid, contradicting invalid', () => {
    const { rig, jobId } = withJob(policy(2, 2, 2), 2 * ITEMS);
    const [a, b, c, d] = [rig.join('a'), rig.join('b'), rig.join('c'), rig.join('d')];
    // Two shards; the first lease of c and of d on each expires, and others verify them meanwhile.
    const lc = rig.lease(c);
    const ld = rig.lease(d);
    expect(lc.shardId).toBe(ld.shardId);
    rig.tick(DEFAULT_COORDINATOR_CONFIG.leaseTimeoutMs);
    for (const v of [a, b]) expect(rig.result(v, rig.lease(v).leaseId, out(ITEMS, 1)).outcome).toBe('received');
    expect(rig.core.shardsOf(jobId).find((s) => s.id === lc.shardId)!.status).toBe('verified');
    const before = { c: rig.core.reputation.get(c), d: rig.core.reputation.get(d) };
    const validBefore = before.c?.validated ?? 0;
    const invalidBefore = before.d?.invalid ?? 0;

    const agree = rig.result(c, lc.leaseId, out(ITEMS, 1));
    const contradict = rig.result(d, ld.leaseId, out(ITEMS, 9));
    expect(agree.outcome).toBe('duplicate');
    expect(contradict.outcome).toBe('duplicate');
    expect(rig.core.reputation.get(c)!.validated).toBe(validBefore + 1);
    expect(rig.core.reputation.get(d)!.invalid).toBe(invalidBefore + 1);
    expect(rig.core.reputation.isSuspect(d)).toBe(true);
    expect(rig.core.shardsOf(jobId).find((s) => s.id === lc.shardId)!.accepted!.volunteers).toEqual(['a', 'b']);
  });
});
