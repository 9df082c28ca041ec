/**
 * Identity ([I-1]), storage ([S-1]..[S-3]) and speed-scaled deadlines ([L-8]): the pure half of
 * surviving faults. A tiny in-test "database" applies the effects the way the host would.
 */
import { describe, expect, it } from 'vitest';
import { asPeerId, type JobId, type LeaseId, type PeerId } from '../../protocol/ids.ts';
import { REFUSED_ID_TAKEN, type ToCoordinator } from '../../protocol/messages.ts';
import type { WireTensor } from '../../protocol/tensor.ts';
import { seededRng } from '../rng.ts';
import { HASH_A, V, f32, hello, jobSpec, policy } from '../testing/fixtures.ts';
import { checkFrames, only, sent, submitAndAdmit, type Out } from '../testing/coordinatorFrames.ts';
import { CoordinatorCore, STORAGE_REJECT_REASON } from './coordinator.ts';
import type { CoordinatorEffect } from './effects.ts';
import {
  DEFAULT_COORDINATOR_CONFIG,
  type CoordinatorConfig,
  type JobRecord,
  type LeaseRecord,
  type PeerRecord,
  type Replica,
  type ShardState,
} from './state.ts';

/** A storage round trip for plain records (the core's tsconfig has no structuredClone). */
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** What the host would have written: the last record of each shard, lease and volunteer id. */
class FakeDb {
  readonly shards = new Map<
    string,
    { jobId: JobId; index: number; status: ShardState['status']; accepted: ShardState['accepted']; disagreements: number; replicas: Replica[]; epoch: number }
  >();
  readonly leases = new Map<LeaseId, LeaseRecord>();
  readonly peers = new Map<PeerId, PeerRecord>();

  apply(fx: readonly CoordinatorEffect[]): void {
    for (const e of fx) {
      if (e.kind === 'store-shard') this.putShard(e.shard);
      if (e.kind === 'persist') {
        for (const l of e.leases) this.leases.set(l.id, clone(l));
        for (const id of e.forgetLeases) this.leases.delete(id);
        for (const p of e.peers) this.peers.set(p.peerId, clone(p));
        for (const s of e.openShards) this.putShard(s);
      }
    }
  }

  private putShard(s: ShardState): void {
    this.shards.set(s.id, {
      jobId: s.jobId,
      index: s.index,
      status: s.status,
      accepted: s.accepted,
      disagreements: s.disagreements,
      replicas: [...s.replicas],
      epoch: s.epoch,
    });
  }
}

class Rig {
  core: CoordinatorCore;
  now = 0;
  readonly db = new FakeDb();
  readonly tokens = new Map<PeerId, string>();

  constructor(readonly over: Partial<CoordinatorConfig> = {}) {
    this.core = this.fresh();
  }

  fresh(): CoordinatorCore {
    return new CoordinatorCore(
      { networkId: 'net1', ...DEFAULT_COORDINATOR_CONFIG, leaseTimeoutMs: 10_000, peerTimeoutMs: 600_000, ...this.over },
      seededRng(3),
    );
  }

  /**
   * A coordinator tab reloaded at `now`: a fresh core restored from this rig's storage the way
   * the host does it (job, shards, volunteer ids, leases, then settle), which becomes the rig's.
   */
  reload(job: JobRecord, now: number): CoordinatorCore {
    const core = this.fresh();
    core.restoreJob(job, new ArrayBuffer(8));
    for (const s of this.db.shards.values())
      core.restoreShard(s.jobId, s.index, s.status, s.accepted, s.disagreements, { replicas: s.replicas, epoch: s.epoch });
    for (const p of this.db.peers.values()) core.restorePeer(p);
    for (const l of this.db.leases.values()) core.restoreLease(l, now);
    this.core = core;
    this.now = now;
    this.run(core.settleRestored(now));
    return core;
  }

  run(fx: CoordinatorEffect[]): CoordinatorEffect[] {
    for (const e of checkFrames(fx)) if (e.kind === 'send' && e.msg.t === 'welcome' && e.msg.token !== undefined) this.tokens.set(e.to, e.msg.token);
    this.db.apply(fx);
    return fx;
  }

  handle(peer: PeerId, msg: ToCoordinator): CoordinatorEffect[] {
    return this.run(this.core.handle(peer, msg, this.now));
  }

  /** Connects and says hello; `resume`: the token to send (default: the one it was given, if any). */
  join(name: string, resume: string | null | undefined = undefined): CoordinatorEffect[] {
    const id = asPeerId(name);
    this.run(this.core.connect(id, this.now));
    const token = resume === undefined ? this.tokens.get(id) : resume;
    return this.handle(id, { ...hello('volunteer'), ...(token ? { resume: token } : {}) } as ToCoordinator);
  }

  submit(items: number, shardSize: number): JobId {
    const req = asPeerId('req');
    this.run(this.core.connect(req, this.now));
    this.handle(req, hello('requester'));
    return submitAndAdmit(this.core, req, jobSpec(items, shardSize, policy(2, 2, 4)), this.now, HASH_A, (fx) => this.run(fx));
  }

  ask(v: string): Out<'lease'> | Out<'no-work'> {
    const m = sent(this.handle(asPeerId(v), { v: V, t: 'lease-request' }), asPeerId(v))[0];
    if (!m || (m.t !== 'lease' && m.t !== 'no-work')) throw new Error(`expected a lease or no-work, got ${m?.t}`);
    return m;
  }

  lease(v: string): Out<'lease'> {
    const m = this.ask(v);
    if (m.t !== 'lease') throw new Error(`${v} got no work`);
    return m;
  }

  deliver(v: string, l: Out<'lease'>, value = 1): string {
    const rows = l.inputs[0]!.dims[0]!;
    const outputs: WireTensor[] = [f32('y', [rows, 2], Array<number>(rows * 2).fill(value))];
    const ack = sent(this.handle(asPeerId(v), { v: V, t: 'result', leaseId: l.leaseId, outputs, backend: 'wasm', inferMs: 1 }), asPeerId(v)).find(
      (m) => m.t === 'result-ack',
    );
    return ack && ack.t === 'result-ack' ? ack.outcome : 'none';
  }

  tick(now: number): CoordinatorEffect[] {
    this.now = now;
    return this.run(this.core.tick(now));
  }

  status(jobId: JobId) {
    return this.core.jobStatuses().find((j) => j.jobId === jobId)!;
  }
}

describe('identity [I-1]', () => {
  it('[I-1] a first hello gets a token, stored with the next batch; the id then needs it', () => {
    const rig = new Rig();
    const welcome = only(sent(rig.join('v1')), 'welcome');
    expect(welcome.token).toMatch(/^[0-9a-f]{32}$/);
    rig.tick(1);
    expect(rig.db.peers.get(asPeerId('v1'))).toMatchObject({ peerId: 'v1', token: welcome.token });
    rig.run(rig.core.disconnect(asPeerId('v1'), rig.now));
    // Without the token (or with a wrong one): refused and closed.
    for (const bad of [null, 'wrong-token']) {
      const fx = rig.join('v1', bad);
      const refused = only(sent(fx), 'refused');
      expect(refused.reason).toMatch(/peer id v1 belongs to another volunteer/);
      expect(refused.code).toBe(REFUSED_ID_TAKEN); // [W-20] machine-readable

      expect(fx.some((e) => e.kind === 'close' && e.peer === 'v1')).toBe(true);
      rig.run(rig.core.disconnect(asPeerId('v1'), rig.now));
    }
    // With it: welcomed again, same token.
    expect(only(sent(rig.join('v1')), 'welcome').token).toBe(welcome.token);
    // Requesters and observers get none.
    rig.run(rig.core.connect(asPeerId('r'), 0));
    expect(only(sent(rig.handle(asPeerId('r'), hello('requester'))), 'welcome').token).toBeUndefined();
  });

  it('[I-1] a volunteer back with its token keeps its reputation and standing, and its old lease counts', () => {
    const rig = new Rig();
    const jobId = rig.submit(4, 1);
    rig.join('a');
    rig.join('b');
    expect(rig.deliver('a', rig.lease('a'))).toBe('received');
    expect(rig.deliver('b', rig.lease('b'))).toBe('received'); // shard 0 verified
    const held = rig.lease('a'); // shard 1
    rig.run(rig.core.disconnect(asPeerId('a'), rig.now)); // [P-2] released at once
    expect(rig.core.activeLeaseCount()).toBe(0);
    const status = only(sent(rig.join('a')), 'welcome');
    expect(status.token).toBe(rig.tokens.get(asPeerId('a')));
    expect(rig.core.peerSummaries().find((p) => p.peerId === 'a')!.shardsDone).toBe(1);
    expect(rig.core.reputation.get(asPeerId('a'))!.validated).toBe(1);
    // The result of the lease it held before it left is still used.
    expect(rig.deliver('a', held)).toBe('received');
    expect(rig.core.shardsOf(jobId)[1]!.replicas.map((r) => r.volunteer)).toEqual(['a']);
  });

  it('[I-1] connect under an id whose old state is still there drops it first, releasing its leases at once', () => {
    const rig = new Rig();
    const jobId = rig.submit(1, 1);
    rig.join('a');
    const first = rig.lease('a');
    expect(rig.status(jobId).inFlight).toBe(1);
    // The old channel is not seen closed yet; the same id opens a new one.
    rig.run(rig.core.connect(asPeerId('a'), 5));
    expect(rig.core.activeLeaseCount()).toBe(0);
    expect(rig.core.peerSummaries().some((p) => p.peerId === 'a')).toBe(false); // no hello yet on the new one
    rig.join('a');
    const again = rig.lease('a'); // the shard was offered again, and it may take it ([L-2])
    expect(again.shardId).toBe(first.shardId);
    expect(again.leaseId).not.toBe(first.leaseId);
    expect(rig.deliver('a', first)).toBe('received'); // the old lease still counts once
    expect(rig.deliver('a', again)).toBe('duplicate'); // not twice
  });
});

describe('restore after a reload [S-1]', () => {
  it('[S-1] leases, replicas of open shards and volunteer ids come back; live leases stay valid, expired ones are re-offered', () => {
    const rig = new Rig();
    const jobId = rig.submit(3, 1);
    rig.join('a');
    rig.join('b');
    rig.join('c');
    rig.deliver('a', rig.lease('a')); // shard 0: one replica (a)
    rig.deliver('b', rig.lease('b')); // shard 0: verified (a, b)
    const aLease = rig.lease('a'); // shard 1, deadline 10 s
    rig.deliver('b', rig.lease('b')); // shard 1: b's replica; open
    rig.now = 8_000;
    const cLease = rig.lease('c'); // shard 2, deadline 18 s
    expect(cLease.shardId).toBe(`${jobId}/2`);
    rig.tick(9_000); // the batch goes to storage
    const job = rig.core.job(jobId)!;
    const repA = clone(rig.core.reputation.get(asPeerId('a'))!);
    expect(rig.db.shards.get(`${jobId}/1`)).toMatchObject({ status: 'open', replicas: [{ volunteer: 'b' }] });
    expect(rig.db.leases.get(aLease.leaseId)).toMatchObject({ retired: false, deadlineMs: 10_000 });

    // The tab reloads at t = 11 s: a's lease has expired, c's has not.
    const now = 11_000;
    const core = rig.reload(job, now);
    expect(rig.status(jobId)).toMatchObject({ verified: 1, inFlight: 2, pending: 0 });
    expect(core.activeLeaseCount()).toBe(1); // c's
    expect(core.reputation.get(asPeerId('a'))).toEqual(repA);
    rig.tick(now + 1); // the expired lease is written back as retired
    expect(rig.db.leases.get(aLease.leaseId)).toMatchObject({ retired: true });

    // Volunteers reconnect under their ids with their tokens; a stranger under a known id cannot.
    expect(only(sent(rig.join('a', 'nope')), 'refused').reason).toMatch(/belongs to another volunteer/);
    rig.run(core.disconnect(asPeerId('a'), now));
    rig.join('a');
    rig.join('b');
    rig.join('c');
    expect(core.peerSummaries().find((p) => p.peerId === 'a')!.shardsDone).toBe(1); // its standing came back
    // c delivers its live lease; a's result for its expired lease still counts and, with b's
    // stored replica, verifies shard 1.
    expect(rig.deliver('c', cLease)).toBe('received');
    expect(rig.deliver('a', aLease)).toBe('received');
    expect(core.shardsOf(jobId)[1]!.accepted!.volunteers).toEqual(['b', 'a']);
    // The rest is leased again and the job completes.
    const last = rig.lease('b');
    expect(last.shardId).toBe(`${jobId}/2`);
    rig.deliver('b', last);
    expect(rig.status(jobId)).toMatchObject({ verified: 3, done: true });
  });

  it('[S-1] persist() writes a just-issued lease before the next tick, so its result counts after a reload', () => {
    const rig = new Rig();
    const jobId = rig.submit(2, 1);
    rig.join('a');
    rig.tick(1); // the token and the job's state are stored
    expect(rig.core.hasUnsavedLeases()).toBe(false);
    rig.now = 100;
    const l = rig.lease('a');
    expect(rig.core.hasUnsavedLeases()).toBe(true);
    expect(rig.db.leases.has(l.leaseId)).toBe(false);
    rig.now = 200; // what the host does PERSIST_SOON_MS after the change, well before its tick
    const fx = rig.run(rig.core.persist(rig.now));
    expect(fx.filter((e) => e.kind === 'persist')).toHaveLength(1);
    expect(rig.core.hasUnsavedLeases()).toBe(false);
    expect(rig.db.leases.get(l.leaseId)).toMatchObject({ retired: false, volunteer: 'a', issuedAtMs: 100 });
    expect(rig.core.persist(rig.now).filter((e) => e.kind === 'persist')).toEqual([]); // nothing new: no write

    // Reload right away: the lease is there and its result is taken in.
    const job = rig.core.job(jobId)!;
    rig.reload(job, 250);
    rig.join('a');
    expect(rig.deliver('a', l)).toBe('received');
  });

  it('[S-4] a restored lease its volunteer does not deliver before asking again is released at that request, not at its deadline', () => {
    const rig = new Rig();
    const jobId = rig.submit(2, 1);
    rig.join('a');
    rig.join('b');
    const held = rig.lease('a'); // shard 0: a computes it before the reload…
    const dropped = rig.lease('a'); // shard 1: …and had this one queued, which it drops on the disconnect
    expect(dropped.shardId).toBe(`${jobId}/1`);
    rig.tick(1_000);
    const job = rig.core.job(jobId)!;
    const core = rig.reload(job, 1_500);
    expect(core.activeLeaseCount()).toBe(2);
    rig.join('a');
    rig.join('b');
    // [W-16] a delivers what it held, then asks for work: the lease it no longer has ends now.
    expect(rig.deliver('a', held)).toBe('received');
    expect(core.activeLeaseCount()).toBe(1);
    const next = rig.lease('a');
    expect(core.activeLeaseCount()).toBe(1); // the dropped one released, the new one issued
    expect(next.leaseId).not.toBe(dropped.leaseId);
    // The released shard is offered again at once (b takes it), and a late result on the
    // released lease would still count while the shard is open ([L-3]).
    const again = rig.lease('b');
    expect([again.shardId, next.shardId]).toContain(`${jobId}/1`);
  });

  it('[S-1] stored reputation survives a round trip through a snapshot', () => {
    const rig = new Rig();
    rig.submit(2, 1);
    rig.join('a');
    rig.join('b');
    rig.deliver('a', rig.lease('a'));
    rig.deliver('b', rig.lease('b'));
    rig.core.reputation.suspect(asPeerId('a'));
    rig.tick(1);
    const core = rig.fresh();
    for (const p of rig.db.peers.values()) core.restorePeer(clone(p));
    expect(core.reputation.get(asPeerId('a'))).toEqual(rig.core.reputation.get(asPeerId('a')));
    expect(core.reputation.isSuspect(asPeerId('a'))).toBe(true);
    // Junk in storage restores nothing it does not recognise, and never throws.
    core.restorePeer({
      peerId: asPeerId('z'),
      token: 't',
      reputation: { validated: 'x', streak: [1], partners: [{}], nope: 1 },
      standing: { shardsAccepted: 0, resultsReturned: 0, resultsRejected: 0 },
    });
    expect(core.reputation.get(asPeerId('z'))).toMatchObject({ validated: 0, streak: { webgpu: 0, wasm: 0 }, partners: [] });
  });

  it('[S-1] a reputation snapshot equals its JSON form and shares nothing mutable with the live record', () => {
    const rig = new Rig();
    rig.submit(2, 1);
    rig.join('a');
    rig.join('b');
    rig.deliver('a', rig.lease('a'));
    rig.deliver('b', rig.lease('b'));
    const live = rig.core.reputation.get(asPeerId('a'))!;
    expect(live.partners.length).toBeGreaterThan(0);
    const snap = rig.core.reputation.snapshot(asPeerId('a')) as Record<string, unknown>;
    expect(snap).toEqual(clone(live));
    // Every nested value is a copy (a field added to the record with a nested value must be copied too).
    for (const [key, value] of Object.entries(live as unknown as Record<string, unknown>)) {
      if (value !== null && typeof value === 'object') expect(snap[key], key).not.toBe(value);
    }
    const before = clone(snap);
    rig.deliver('a', rig.lease('a'));
    rig.core.reputation.suspect(asPeerId('a'));
    expect(snap).toEqual(before); // later changes do not reach a batch already handed to the host
  });
});

describe('storage failures [S-2] [S-3]', () => {
  it('[S-2] with awaitDurableWrites a shard counts as verified only once its write of that epoch is reported', () => {
    const rig = new Rig({ awaitDurableWrites: true });
    const jobId = rig.submit(2, 1);
    rig.join('a');
    rig.join('b');
    rig.deliver('a', rig.lease('a'));
    const fx = [] as CoordinatorEffect[];
    rig.deliver('b', rig.lease('b'));
    const shard = rig.core.shardsOf(jobId)[0]!;
    expect(shard.status).toBe('verified');
    expect(rig.status(jobId)).toMatchObject({ verified: 0, inFlight: 1, pending: 1 });
    expect(rig.core.verifiedShards(jobId)).toEqual([]);
    rig.run(rig.core.shardStored(jobId, 0, shard.epoch - 1)); // an older write: not this acceptance
    expect(rig.status(jobId).verified).toBe(0);
    fx.push(...rig.run(rig.core.shardStored(jobId, 0, shard.epoch)));
    expect(fx.some((e) => e.kind === 'status-changed')).toBe(true);
    expect(rig.status(jobId)).toMatchObject({ verified: 1, inFlight: 0, pending: 1 });
    expect(rig.core.verifiedShards(jobId).map((s) => s.index)).toEqual([0]);
  });

  it('[S-3] while storage fails: no lease, no job; results in hand are kept; afterwards work resumes', () => {
    const rig = new Rig({ awaitDurableWrites: true });
    const jobId = rig.submit(3, 1);
    rig.join('a');
    rig.join('b');
    const la = rig.lease('a');
    const lb = rig.lease('b');
    const fx = rig.run(rig.core.storageFailed('quota exceeded', rig.now));
    expect(fx.some((e) => e.kind === 'log' && /storage failed \(quota exceeded\)/.test(e.text))).toBe(true);
    expect(rig.core.storageFailure()).toBe('quota exceeded');
    // Results already leased are taken in (kept in memory), but not counted as verified.
    expect(rig.deliver('a', la)).toBe('received');
    expect(rig.deliver('b', lb)).toBe('received');
    expect(rig.core.shardsOf(jobId)[0]!.status).toBe('verified');
    expect(rig.status(jobId).verified).toBe(0);
    expect(rig.ask('a').t).toBe('no-work');
    const req = asPeerId('req');
    const rej = sent(rig.handle(req, { v: V, t: 'submit-job', ref: 'r2', spec: jobSpec(2, 1, policy(2, 2, 4)) }), req);
    expect(only(rej, 'job-rejected').reason).toBe(STORAGE_REJECT_REASON);
    // Storage works again: the waiting write lands, then leases flow.
    rig.run(rig.core.storageRecovered(rig.now));
    rig.run(rig.core.shardStored(jobId, 0, rig.core.shardsOf(jobId)[0]!.epoch));
    expect(rig.status(jobId).verified).toBe(1);
    expect(rig.ask('a').t).toBe('lease');
  });
});

describe('deadlines scaled to speed [L-8]', () => {
  const tuning = { factor: 4, slackMs: 1_000, floorMs: 2_000, alpha: 0.5 };

  it('[L-8] an unmeasured volunteer gets leaseTimeoutMs; a measured one factor × its expected time + slack, clamped', () => {
    const rig = new Rig({ leaseTimeoutMs: 60_000, leaseDeadline: tuning });
    rig.submit(40, 10);
    rig.join('a');
    const first = rig.lease('a');
    expect(first.deadlineInMs).toBe(60_000);
    rig.now = 1_000; // 1 s for 10 items: 100 ms an item
    rig.deliver('a', first);
    const second = rig.lease('a');
    expect(second.deadlineInMs).toBe(4 * 100 * 10 + 1_000);
    rig.now = 1_000 + 300; // 30 ms an item now: smoothed to 65
    rig.deliver('a', second);
    const third = rig.lease('a');
    expect(third.deadlineInMs).toBe(Math.round(4 * 65 * 10 + 1_000));
    // [L-4] The deadline the volunteer was told is the one the coordinator keeps: expiry at issue + deadlineInMs, not before.
    rig.tick(rig.now + third.deadlineInMs - 1);
    expect(rig.core.activeLeaseCount()).toBe(1);
    rig.tick(1_300 + third.deadlineInMs);
    expect(rig.core.activeLeaseCount()).toBe(0);
  });

  it("[L-8] the floor and the ceiling hold; a slow volunteer's deadline follows it past leaseTimeoutMs", () => {
    const rig = new Rig({ leaseTimeoutMs: 30_000, leaseDeadline: tuning, leaseCeilingMs: 90_000 });
    rig.submit(40, 10);
    rig.join('fast');
    rig.join('slow');
    const f = rig.lease('fast');
    const s = rig.lease('slow');
    rig.now = 10; // 1 ms an item
    rig.deliver('fast', f);
    expect(rig.lease('fast').deadlineInMs).toBe(2_000); // 4·10+1000 < floor
    rig.now = 25_000; // 2.5 s an item
    rig.deliver('slow', s);
    expect(rig.lease('slow').deadlineInMs).toBe(90_000); // 4·25000+1000, capped at the ceiling, not leaseTimeoutMs
  });

  it('[L-8] [W-18] a queued lease is timed from the previous result, not from its issue', () => {
    const rig = new Rig({ leaseTimeoutMs: 60_000, leaseDeadline: { ...tuning, alpha: 1 } });
    rig.submit(60, 10);
    rig.join('a');
    const first = rig.lease('a'); // issued at 0
    const queued = rig.lease('a'); // issued at 0 too, but starts only when the first is done
    rig.now = 1_000;
    rig.deliver('a', first); // 1 s for 10 items: 100 ms an item
    rig.now = 1_500;
    rig.deliver('a', queued); // its own 500 ms, not the 1.5 s since its issue: 50 ms an item
    const third = rig.lease('a');
    expect(third.deadlineInMs).toBe(4 * 50 * 10 + 1_000);
    rig.now = 2_000;
    rig.deliver('a', third);
    // A lease issued long after the previous result (the volunteer was idle) is timed from its issue.
    rig.now = 5_000;
    const fourth = rig.lease('a');
    rig.now = 5_300;
    rig.deliver('a', fourth); // 300 ms: 30 ms an item
    expect(rig.lease('a').deadlineInMs).toBe(4 * 30 * 10 + 1_000);
  });

  it('[L-8] [W-18] a lease queued behind others the volunteer holds allows for their items too', () => {
    const rig = new Rig({ leaseTimeoutMs: 60_000, leaseDeadline: tuning, maxLeasesPerVolunteer: 3 });
    rig.submit(60, 10);
    rig.join('a');
    const first = rig.lease('a');
    rig.now = 1_000; // 100 ms an item
    rig.deliver('a', first);
    expect(rig.lease('a').deadlineInMs).toBe(4 * 100 * 10 + 1_000); // nothing in front
    expect(rig.lease('a').deadlineInMs).toBe(4 * 100 * 20 + 1_000); // one shard of 10 in front
    expect(rig.lease('a').deadlineInMs).toBe(4 * 100 * 30 + 1_000); // two
  });
});
