/**
 * The verification machinery inside the coordinator: adaptive replication, spot-checks, canaries,
 * quarantine and retroactive re-verification ([A-n], [C-n], [X-n] in core/SPEC.md), plus the
 * provenance and comparator options of a policy.
 */
import { describe, it, expect } from 'vitest';
import type { Backend } from '../../protocol/capabilities.ts';
import { asPeerId, type JobId, type LeaseId, type PeerId } from '../../protocol/ids.ts';
import type { FromCoordinator, ToCoordinator } from '../../protocol/messages.ts';
import { parseFromCoordinator } from '../../protocol/parse.ts';
import { DEFAULT_POLICY, type VerificationPolicy } from '../../protocol/policy.ts';
import type { WireTensor } from '../../protocol/tensor.ts';
import type { TrustConfig } from '../reputation/reputation.ts';
import { seededRng } from '../rng.ts';
import { HASH_A, V, f32, hello, i32, jobSpec, policy } from '../testing/fixtures.ts';
import { checkFrames, submitAndAdmit } from '../testing/coordinatorFrames.ts';
import { CoordinatorCore } from './coordinator.ts';
import type { CoordinatorEffect } from './effects.ts';
import { DEFAULT_COORDINATOR_CONFIG } from './state.ts';

type Lease = Extract<FromCoordinator, { t: 'lease' }>;
const TIMEOUT = 10_000;

class Rig {
  readonly core: CoordinatorCore;
  now = 0;
  readonly fx: CoordinatorEffect[] = [];
  /** [I-1] The resume token each volunteer's first welcome gave it. */
  private readonly tokens = new Map<PeerId, string>();

  constructor(trust: Partial<TrustConfig> = {}, seed = 7) {
    this.core = new CoordinatorCore(
      { networkId: 'net1', ...DEFAULT_COORDINATOR_CONFIG, leaseTimeoutMs: TIMEOUT, noWorkRetryMs: 500, peerTimeoutMs: 600_000, trust },
      seededRng(seed),
    );
  }

  handle(peer: PeerId, msg: ToCoordinator): CoordinatorEffect[] {
    const fx = checkFrames(this.core.handle(peer, msg, this.now));
    this.fx.push(...fx);
    return fx;
  }

  join(name: string, backend: Backend = 'wasm'): PeerId {
    const id = asPeerId(name);
    this.fx.push(...this.core.connect(id, this.now));
    // [I-1] Coming back under the same id takes the token of its first welcome.
    const token = this.tokens.get(id);
    const fx = this.handle(id, { ...hello('volunteer', backend), ...(token === undefined ? {} : { resume: token }) } as ToCoordinator);
    for (const e of fx) if (e.kind === 'send' && e.msg.t === 'welcome' && e.msg.token !== undefined) this.tokens.set(id, e.msg.token);
    return id;
  }

  submit(p: VerificationPolicy, items: number, outputs?: never): JobId {
    void outputs;
    const req = asPeerId('req');
    this.core.connect(req, this.now);
    this.handle(req, hello('requester'));
    return submitAndAdmit(this.core, req, jobSpec(items, 1, p), this.now, HASH_A, (fx) => {
      this.fx.push(...checkFrames(fx));
      return fx;
    });
  }

  /** The lease a lease-request gets, or the no-work retry. */
  ask(v: PeerId): Lease | { noWork: number } {
    const sent = this.handle(v, { v: V, t: 'lease-request' }).flatMap((e) => (e.kind === 'send' && e.to === v ? [e.msg] : []));
    const m = sent[0]!;
    if (m.t === 'no-work') return { noWork: m.retryInMs };
    if (m.t !== 'lease') throw new Error(`expected a lease, got ${m.t}`);
    return m;
  }

  lease(v: PeerId): Lease {
    const l = this.ask(v);
    if (!('leaseId' in l)) throw new Error(`${v} got no work`);
    return l;
  }

  result(v: PeerId, leaseId: LeaseId, outputs: WireTensor[], backend: Backend = 'wasm'): string {
    const fx = this.handle(v, { v: V, t: 'result', leaseId, outputs, backend, inferMs: 1 });
    const ack = fx.find((e) => e.kind === 'send' && e.msg.t === 'result-ack');
    return ack && ack.kind === 'send' && ack.msg.t === 'result-ack' ? ack.msg.outcome : 'none';
  }

  /** Leases `v` a shard and returns `value` (or the right answer) for it. */
  work(v: PeerId, value?: number, backend: Backend = 'wasm'): Lease {
    const l = this.lease(v);
    this.result(v, l.leaseId, answer(l, value), backend);
    return l;
  }

  shard(jobId: JobId, index: number) {
    return this.core.shardsOf(jobId)[index]!;
  }
}

/** The right answer for the fixture job: y = 2·x per item (any deterministic function will do). */
function answer(l: Lease, wrong?: number): WireTensor[] {
  const x = new Float32Array(l.inputs[0]!.data);
  const rows = l.inputs[0]!.dims[0]!;
  const y: number[] = [];
  for (let r = 0; r < rows; r++) y.push(wrong ?? 2 * (x[r * 2] as number), wrong ?? 2 * (x[r * 2 + 1] as number));
  return [f32('y', [rows, 2], y)];
}

const indexOf = (l: Lease): number => Number(l.shardId.split('/')[1]);

describe('adaptive replication [A-3] [A-4]', () => {
  it('[A-3] without `adaptive` (the default policy) every shard goes to `replication` volunteers, trusted or not', () => {
    const rig = new Rig({ trustStreak: 1 });
    const jobId = rig.submit({ ...DEFAULT_POLICY, canaryRate: 0 }, 6);
    const [a, b] = [rig.join('a'), rig.join('b')];
    for (let i = 0; i < 6; i++) {
      rig.work(a);
      rig.work(b);
    }
    expect(rig.core.reputation.isTrusted(a, 'wasm')).toBe(true);
    for (const s of rig.core.shardsOf(jobId)) expect(s.accepted!.volunteers).toEqual(['a', 'b']);
    expect(rig.core.verificationTotals().loneAccepted).toBe(0);
  });

  it('[A-3] with `adaptive`, new volunteers are cross-checked and a trusted one computes fresh shards alone', () => {
    const rig = new Rig({ trustStreak: 2 });
    const jobId = rig.submit({ ...policy(2, 2, 4), adaptive: true, canaryRate: 0, spotCheckRate: 0 }, 8);
    const [a, b] = [rig.join('a', 'webgpu'), rig.join('b')];
    for (let i = 0; i < 2; i++) {
      const la = rig.work(a, undefined, 'webgpu');
      const lb = rig.work(b);
      expect(la.shardId).toBe(lb.shardId); // both untrusted: the same shard, cross-checked
    }
    expect(rig.core.reputation.isTrusted(a, 'webgpu')).toBe(true);
    // Two volunteers are too few to compute alone (no canary could audit it); a third one, idle, is enough.
    const paired = rig.lease(a);
    expect(rig.shard(jobId, indexOf(paired)).target).toBe(2);
    rig.result(a, paired.leaseId, answer(paired), 'webgpu');
    rig.join('c');
    const lone = rig.work(a, undefined, 'webgpu');
    const s = rig.shard(jobId, indexOf(lone));
    expect(s.status).toBe('verified');
    expect(s.accepted!.volunteers).toEqual(['a']);
    expect(s.lone).toBe(true);
    expect(rig.core.verificationTotals().loneAccepted).toBe(1);
    // Trust is per backend: the same volunteer on WASM is cross-checked again.
    const fallback = rig.lease(a);
    rig.result(a, fallback.leaseId, answer(fallback), 'wasm');
    expect(rig.shard(jobId, indexOf(fallback)).status).toBe('open');
    expect(rig.shard(jobId, indexOf(fallback)).target).toBe(2);
  });

  it('[A-3] a lone shard whose lease expires goes back to the policy replication', () => {
    const rig = new Rig({ trustStreak: 1 });
    const jobId = rig.submit({ ...policy(2, 2, 4), adaptive: true, canaryRate: 0, spotCheckRate: 0 }, 4);
    const [a, b] = [rig.join('a'), rig.join('b')];
    rig.work(a);
    rig.work(b);
    const c = rig.join('c'); // a third volunteer: a network of three may compute alone
    const held = rig.lease(a); // trusted: alone
    expect(rig.shard(jobId, indexOf(held)).target).toBe(1);
    rig.now = TIMEOUT;
    rig.core.tick(rig.now);
    expect(rig.shard(jobId, indexOf(held)).lone).toBe(false);
    expect(rig.shard(jobId, indexOf(held)).target).toBe(2);
    // c, untrusted, gets the freed shard, which now needs two
    expect(rig.lease(c).shardId).toBe(held.shardId);
  });

  it('[A-4] a spot-checked shard of a trusted volunteer is cross-checked; a disagreement there is decided by more replicas', () => {
    const rig = new Rig({ trustStreak: 1 });
    const jobId = rig.submit({ ...policy(2, 2, 4), adaptive: true, canaryRate: 0, spotCheckRate: 1 }, 4);
    const [a, b, c] = [rig.join('a'), rig.join('b'), rig.join('c')];
    rig.work(a);
    rig.work(b);
    const la = rig.work(a, 9); // trusted, spot-checked, and lying
    expect(rig.core.verificationTotals().spotChecks).toBe(1);
    expect(rig.shard(jobId, indexOf(la)).status).toBe('open');
    expect(rig.work(b).shardId).toBe(la.shardId);
    expect(rig.work(c).shardId).toBe(la.shardId); // the third replica settles it
    expect(rig.shard(jobId, indexOf(la)).accepted!.volunteers).toEqual(['b', 'c']);
    expect(rig.core.reputation.isSuspect(a)).toBe(true);
    expect(rig.core.reputation.isTrusted(a, 'wasm')).toBe(false);
  });
});

describe('canaries [C-1] [C-2] [C-3]', () => {
  /** a and b verify shards 0 and 1 together, so shard 0's answer is established (establishAfter 1). */
  function established(canaryRate = 1) {
    const rig = new Rig({ trustStreak: 100, establishAfter: 1 });
    const jobId = rig.submit({ ...policy(2, 2, 4), canaryRate }, 6);
    const [a, b] = [rig.join('a'), rig.join('b')];
    for (let i = 0; i < 2; i++) {
      rig.work(a);
      rig.work(b);
    }
    return { rig, jobId, a, b };
  }

  it('[C-1] a fresh acceptance is no canary until its volunteers have earned more valid results', () => {
    const rig = new Rig({ trustStreak: 100, establishAfter: 1 });
    rig.submit({ ...policy(2, 2, 4), canaryRate: 1 }, 6);
    const [a, b, c] = [rig.join('a'), rig.join('b'), rig.join('c')];
    rig.work(a);
    rig.work(b); // shard 0 verified, not yet established
    const l = rig.lease(c);
    expect(indexOf(l)).toBe(1); // real work, not shard 0
    expect(rig.core.verificationTotals().canaryLeases).toBe(0);
  });

  it('[C-2] a canary lease is the same frame as a work lease, for a verified shard of the same job', () => {
    const { rig, jobId } = established();
    const c = rig.join('c');
    const canary = rig.lease(c);
    expect(rig.core.verificationTotals().canaryLeases).toBe(1);
    expect(canary.jobId).toBe(jobId);
    expect(rig.shard(jobId, indexOf(canary)).status).toBe('verified');
    const work = rig.lease(rig.join('d'));
    expect(Object.keys(canary).sort()).toEqual(Object.keys(work).sort());
    expect(canary.inputs[0]!.dims).toEqual(work.inputs[0]!.dims);
    expect(canary.deadlineInMs).toBe(work.deadlineInMs);
  });

  it('[C-3] a passed canary is acked like any result, counts as a valid result and leaves the shard as it was', () => {
    const { rig, jobId } = established();
    const c = rig.join('c');
    const canary = rig.lease(c);
    const before = rig.shard(jobId, indexOf(canary));
    const accepted = before.accepted;
    const replicas = before.replicas.length;
    expect(rig.result(c, canary.leaseId, answer(canary))).toBe('received');
    const after = rig.shard(jobId, indexOf(canary));
    expect(after.accepted).toBe(accepted);
    expect(after.replicas).toHaveLength(replicas);
    expect(rig.core.reputation.get(c)).toMatchObject({ validated: 1, canariesPassed: 1 });
    expect(rig.core.verificationTotals().canaryResults).toBe(1);
    expect(rig.core.jobStatuses()[0]).toMatchObject({ verified: 2 });
  });

  it('[C-1] a volunteer never gets its own shard, nor the same canary twice', () => {
    const { rig, a } = established();
    // a computed both established shards: whatever it gets is real work.
    expect(indexOf(rig.lease(a))).toBeGreaterThanOrEqual(2);
    const c = rig.join('c');
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const l = rig.lease(c);
      if (rig.core.shardsOf(l.jobId)[indexOf(l)]!.status === 'verified') {
        expect(seen.has(l.shardId)).toBe(false);
        seen.add(l.shardId);
      }
      rig.result(c, l.leaseId, answer(l));
    }
  });
});

describe('quarantine and retroactive re-verification [X-1] [X-2] [X-3]', () => {
  it('[X-1] [X-2] a second failed canary quarantines: no work ever again, even after reconnecting with the same id', () => {
    const rig = new Rig({ trustStreak: 100, establishAfter: 1, quarantineRetryMs: 60_000 });
    const jobId = rig.submit({ ...policy(2, 2, 4), canaryRate: 1 }, 8);
    const [a, b] = [rig.join('a'), rig.join('b')];
    for (let i = 0; i < 3; i++) {
      rig.work(a);
      rig.work(b);
    }
    const liar = rig.join('liar');
    const first = rig.lease(liar);
    expect(rig.result(liar, first.leaseId, answer(first, 123))).toBe('received'); // it learns nothing
    // One failure is a strike: the liar is a suspect, the source is burnt and its volunteers suspected.
    expect(rig.core.reputation.isQuarantined(liar)).toBe(false);
    expect(rig.core.reputation.get(liar)).toMatchObject({ strikes: 1, suspect: true });
    expect(rig.core.reputation.isSuspect(a) && rig.core.reputation.isSuspect(b)).toBe(true);
    expect(rig.fx.some((e) => e.kind === 'log' && /liar struck: failed a canary/.test(e.text))).toBe(true);
    const second = rig.lease(liar);
    expect(second.shardId).not.toBe(first.shardId);
    expect(rig.shard(jobId, indexOf(second)).status).toBe('verified');
    rig.result(liar, second.leaseId, answer(second, 123));
    expect(rig.core.reputation.isQuarantined(liar)).toBe(true);
    expect(rig.fx.some((e) => e.kind === 'log' && /liar quarantined: failed a canary/.test(e.text))).toBe(true);
    expect(rig.ask(liar)).toEqual({ noWork: 60_000 });
    expect(rig.core.peerSummaries().find((p) => p.peerId === 'liar')).toMatchObject({ quarantined: true, trusted: false });
    expect(rig.core.peerSamples().find((p) => p.peerId === 'liar')!.quarantined).toBe(true);
    rig.core.disconnect(liar, rig.now);
    rig.join('liar');
    expect(rig.ask(liar)).toEqual({ noWork: 60_000 });
  });

  it('[X-3] every accepted shard a quarantined volunteer took part in is re-opened, re-persisted and verified again', () => {
    const rig = new Rig({ trustStreak: 100, establishAfter: 1, strikesToQuarantine: 1 }, 11);
    const jobId = rig.submit({ ...policy(2, 2, 4), canaryRate: 0 }, 8);
    const [l1, l2] = [rig.join('l1'), rig.join('l2')];
    // Two colluders get shard 0 and agree on the same lie: it is accepted.
    rig.work(l1, 9);
    rig.work(l2, 9);
    expect(rig.shard(jobId, 0).accepted!.volunteers).toEqual(['l1', 'l2']);
    const [h1, h2, h3] = [rig.join('h1'), rig.join('h2'), rig.join('h3')];
    for (let i = 0; i < 2; i++) {
      rig.work(h1);
      rig.work(h2);
    }
    // l1 meets h3 on shard 3; the third replica (h1) outvotes it, then a canary convicts it.
    rig.work(l1, 9);
    rig.work(h3);
    rig.work(h1);
    expect(rig.core.reputation.isSuspect(l1)).toBe(true);
    rig.fx.length = 0;
    let canary: Lease | null = null;
    for (let i = 0; i < 20 && !canary; i++) {
      const l = rig.lease(l1);
      if (rig.shard(jobId, indexOf(l)).status === 'verified') canary = l;
      else rig.result(l1, l.leaseId, answer(l, 9));
    }
    expect(canary).not.toBeNull();
    const verifiedBefore = rig.core.jobStatuses()[0]!.verified;
    rig.result(l1, canary!.leaseId, answer(canary!, 9));
    expect(rig.core.reputation.isQuarantined(l1)).toBe(true);
    // Shard 0 is open again, without l1's replica, and persisted as such.
    const s0 = rig.shard(jobId, 0);
    expect(s0.status).toBe('open');
    expect(s0.accepted).toBeNull();
    expect(s0.replicas.map((r) => r.volunteer)).toEqual(['l2']);
    expect(rig.fx).toContainEqual(expect.objectContaining({ kind: 'store-shard', shard: expect.objectContaining({ index: 0, status: 'open' }) }));
    expect(rig.fx).toContainEqual({ kind: 'status-changed' });
    expect(rig.core.jobStatuses()[0]!.verified).toBe(verifiedBefore - 1);
    expect(rig.core.verificationTotals()).toMatchObject({ reopened: 1, quarantined: 1 });
    // Its partner in the lie is now a suspect.
    expect(rig.core.reputation.isSuspect(l2)).toBe(true);
    // Honest volunteers re-verify shard 0: l2's lie is outvoted.
    for (const h of [h2, h3]) {
      const l = rig.lease(h);
      expect(indexOf(l)).toBe(0);
      rig.result(h, l.leaseId, answer(l));
    }
    expect(rig.shard(jobId, 0).status).toBe('verified');
    expect(rig.shard(jobId, 0).accepted!.volunteers).toEqual(['h2', 'h3']);
    expect(new Float32Array(rig.shard(jobId, 0).accepted!.outputs[0]!.data)[0]).toBe(0);
  });

  it('[X-3] an unverifiable shard a quarantined volunteer took part in gets another chance', () => {
    const rig = new Rig({ trustStreak: 100, establishAfter: 1, strikesToQuarantine: 1 });
    const jobId = rig.submit({ ...policy(2, 2, 3), canaryRate: 1 }, 6);
    const [x, y, z] = [rig.join('x'), rig.join('y'), rig.join('z')];
    rig.work(x, 5);
    rig.work(y, 6);
    rig.work(z); // three different answers, max 3 replicas: unverifiable
    expect(rig.shard(jobId, 0).status).toBe('unverifiable');
    expect(rig.core.reputation.isSuspect(x) && rig.core.reputation.isSuspect(z)).toBe(true);
    const [h1, h2] = [rig.join('h1'), rig.join('h2')];
    for (let i = 0; i < 2; i++) {
      rig.work(h1);
      rig.work(h2);
    }
    const canary = rig.lease(x);
    expect(rig.shard(jobId, indexOf(canary)).status).toBe('verified');
    rig.result(x, canary.leaseId, answer(canary, 5));
    expect(rig.core.reputation.isQuarantined(x)).toBe(true);
    expect(rig.shard(jobId, 0).status).toBe('open');
    expect(rig.shard(jobId, 0).replicas.map((r) => r.volunteer)).toEqual(['y', 'z']);
    expect(rig.core.jobStatuses()[0]!.unverifiable).toBe(0);
  });
});

describe('small networks [C-4] [X-4]', () => {
  it('[C-4] [X-4] three volunteers, one liar: outvoted twice on answers that became established, it is quarantined', () => {
    // Default establishment (5 partners), which three volunteers could never offer; no canaries at all.
    const rig = new Rig({ trustStreak: 100 });
    const jobId = rig.submit({ ...policy(2, 2, 4), canaryRate: 0 }, 12);
    const [a, b, liar] = [rig.join('a'), rig.join('b'), rig.join('liar')];
    const round = (): void => {
      // The liar and a take the next shard and disagree; b's replica outvotes the liar.
      const ll = rig.lease(liar);
      const la = rig.lease(a);
      expect(la.shardId).toBe(ll.shardId);
      rig.result(liar, ll.leaseId, answer(ll, 77));
      rig.result(a, la.leaseId, answer(la));
      rig.work(b);
      expect(rig.shard(jobId, indexOf(ll)).accepted!.volunteers).toEqual(['a', 'b']);
    };
    round();
    expect(rig.core.reputation.get(liar)).toMatchObject({ strikes: 0, suspect: true });
    // a and b agree once more: each has a partner since, so shard 0's answer is established.
    rig.work(a);
    rig.work(b);
    const l = rig.lease(liar); // its next request hears the verdict (and gets work: one strike is not enough)
    expect(rig.core.reputation.get(liar)).toMatchObject({ strikes: 1, quarantined: false });
    expect(rig.fx.some((e) => e.kind === 'log' && /liar struck: was outvoted on .*\/0, whose answer is now established/.test(e.text))).toBe(true);
    rig.handle(liar, { v: V, t: 'lease-abandon', leaseId: l.leaseId, reason: 'test' });
    round();
    rig.work(a);
    rig.work(b);
    // Struck on small-network answers, it is told to ask again as often as an idle volunteer.
    expect(rig.ask(liar)).toEqual({ noWork: 500 });
    expect(rig.core.reputation.isQuarantined(liar)).toBe(true);
    // The honest pair is not suspected for it, and no answer it gave stays accepted.
    expect(rig.core.reputation.isSuspect(a) || rig.core.reputation.isSuspect(b)).toBe(false);
    for (const s of rig.core.shardsOf(jobId)) if (s.accepted) expect(s.accepted.volunteers).not.toContain('liar');
  });

  it('[X-4] an outvote on an answer that never becomes established is no strike', () => {
    const rig = new Rig({ trustStreak: 100 });
    rig.submit({ ...policy(2, 2, 4), canaryRate: 0 }, 12);
    const [a, b, x] = [rig.join('a'), rig.join('b'), rig.join('x')];
    for (const n of ['c', 'd', 'e', 'f']) rig.join(n);
    // Seven volunteers known: establishment needs 3 partners. x is outvoted by a and b, who then
    // agree only with each other.
    const lx = rig.lease(x);
    const la = rig.lease(a);
    rig.result(x, lx.leaseId, answer(lx, 5));
    rig.result(a, la.leaseId, answer(la));
    rig.work(b);
    for (let i = 0; i < 3; i++) {
      rig.work(a);
      rig.work(b);
    }
    rig.ask(x);
    expect(rig.core.reputation.get(x)).toMatchObject({ strikes: 0, suspect: true });
  });
});

describe('a small network that grows [X-5]', () => {
  /**
   * Two colluders and one honest volunteer are the first three to join: a majority of the three
   * known, their lie is established ([C-4]) and the honest one, outvoted on it twice, is
   * quarantined ([X-4]). Returns the rig, the colluders and the honest volunteer.
   */
  const colludersFirst = (): { rig: Rig; jobId: JobId; c1: PeerId; c2: PeerId; h1: PeerId } => {
    const rig = new Rig({ trustStreak: 100 });
    const jobId = rig.submit({ ...policy(2, 2, 4), canaryRate: 0 }, 40);
    const [c1, c2, h1] = [rig.join('c1'), rig.join('c2'), rig.join('h1')];
    // h1 and c1 share a shard, c2 outvotes h1; then the colluders agree on the next shard alone,
    // which establishes the first answer (pooled partners c1, c2: more than one, [C-4]).
    const round = (): void => {
      const lh = rig.lease(h1);
      const lc = rig.lease(c1);
      expect(lc.shardId).toBe(lh.shardId);
      rig.result(h1, lh.leaseId, answer(lh));
      rig.result(c1, lc.leaseId, answer(lc, 9));
      rig.work(c2, 9);
      expect(rig.shard(jobId, indexOf(lh)).accepted!.volunteers).toEqual(['c1', 'c2']);
      rig.work(c1, 9);
      rig.work(c2, 9);
    };
    round();
    const l = rig.lease(h1); // struck once: one strike is not enough
    rig.handle(h1, { v: V, t: 'lease-abandon', leaseId: l.leaseId, reason: 'test' });
    round();
    rig.ask(h1);
    // Outvoted on shards 0 and 2 (shard 1 the colluders computed alone), a strike each.
    expect(rig.core.reputation.get(h1)).toMatchObject({ strikes: 2, quarantined: true });
    return { rig, jobId, c1, c2, h1 };
  };

  it('[X-5] [C-4] a quarantine on answers established while the colluders were a majority of those known is lifted once more volunteers contradict them', () => {
    const { rig, jobId, c1, h1 } = colludersFirst();
    // It may be lifted: it is told to ask again soon, not after quarantineRetryMs.
    expect(rig.ask(h1)).toEqual({ noWork: 500 });
    // Two more honest volunteers: five known, two of them colluders. Growth alone lifts nothing:
    // the answers that struck h1 still stand.
    const [h2, h3] = [rig.join('h2'), rig.join('h3')];
    rig.work(h2);
    rig.work(h3);
    expect(rig.ask(h1)).toEqual({ noWork: 500 });
    // c1 meets h2 on a shard; h3 outvotes it. The class whose answers struck h1 is contradicted.
    const lc = rig.lease(c1);
    const l2 = rig.lease(h2);
    expect(l2.shardId).toBe(lc.shardId);
    rig.result(c1, lc.leaseId, answer(lc, 9));
    rig.result(h2, l2.leaseId, answer(l2));
    rig.work(h3);
    expect(rig.shard(jobId, indexOf(lc)).accepted!.volunteers).toEqual(['h2', 'h3']);
    rig.fx.length = 0;
    const back = rig.ask(h1);
    expect('leaseId' in back).toBe(true);
    expect(rig.core.reputation.get(h1)).toMatchObject({ quarantined: false, suspect: true, strikes: 0 });
    expect(
      rig.fx.some((e) => e.kind === 'log' && /volunteer h1's quarantine lifted: the answers of .*\/0, .*\/2 that struck it were contradicted/.test(e.text)),
    ).toBe(true);
    expect(rig.core.peerSummaries().find((p) => p.peerId === 'h1')).toMatchObject({ quarantined: false });
  });

  it('[X-5] a newcomer outvoted by the colluders is not struck while the honest one they quarantined may yet be lifted', () => {
    const { rig, jobId, c1, c2, h1 } = colludersFirst();
    // h2 joins alone: three volunteers not quarantined, two of them colluders. Their answers are
    // established for [C-4] (need 1), but not once h1 is counted (four volunteers, need 2).
    const h2 = rig.join('h2');
    const l2 = rig.lease(h2);
    const lc = rig.lease(c1);
    expect(lc.shardId).toBe(l2.shardId);
    rig.result(h2, l2.leaseId, answer(l2));
    rig.result(c1, lc.leaseId, answer(lc, 9));
    rig.work(c2, 9);
    expect(rig.shard(jobId, indexOf(l2)).accepted!.volunteers).toEqual(['c1', 'c2']);
    for (let i = 0; i < 3; i++) {
      rig.work(c1, 9);
      rig.work(c2, 9);
    }
    rig.ask(h2);
    expect(rig.core.reputation.get(h2)).toMatchObject({ strikes: 0, quarantined: false, suspect: true });
    expect(rig.core.reputation.isQuarantined(h1)).toBe(true);
  });

  it('[X-5] a quarantine in a network that never grew stands, whoever is outvoted later', () => {
    // Three volunteers, the colluders a majority: the bound of [C-4]. h1 is quarantined and no
    // one joins; the colluders' answers are never contradicted and h1 never works again.
    const { rig, c1, c2, h1 } = colludersFirst();
    for (let i = 0; i < 4; i++) {
      rig.work(c1, 9);
      rig.work(c2, 9);
    }
    expect(rig.ask(h1)).toEqual({ noWork: 500 });
    expect(rig.core.reputation.isQuarantined(h1)).toBe(true);
  });
});

describe('vouched-for results [A-7]', () => {
  it('[A-7] a suspect that computed every established shard is cleared once a result it returned as one is in an established answer', () => {
    // Two volunteers: every shard accepted by two includes a, so no canary can ever be served to it.
    const rig = new Rig({ trustStreak: 100 });
    rig.submit({ ...policy(2, 2, 4), canaryRate: 0 }, 8);
    const [a, b] = [rig.join('a'), rig.join('b')];
    rig.core.reputation.suspect(a); // e.g. it agreed with a volunteer since quarantined
    rig.work(a);
    rig.work(b); // shard 0, with a's result returned as a suspect
    rig.core.reputation.suspect(a); // suspected again since: shard 0 no longer speaks for it
    rig.work(a);
    rig.work(b); // shard 1; shard 0 is now established ([C-4]: two partners pooled)
    const l = rig.lease(a);
    expect(rig.core.verificationTotals().canaryLeases).toBe(0);
    expect(rig.core.reputation.isSuspect(a)).toBe(true);
    rig.result(a, l.leaseId, answer(l));
    rig.work(b); // shard 2: shard 1, returned after the last suspicion, is established
    rig.lease(a);
    expect(rig.core.reputation.isSuspect(a)).toBe(false);
    expect(rig.core.reputation.get(a)).toMatchObject({ canariesPassed: 0, invalid: 0 });
  });

  it('[A-7] an outvoted result vouches for nothing', () => {
    const rig = new Rig({ trustStreak: 100 });
    const jobId = rig.submit({ ...policy(2, 2, 4), canaryRate: 0 }, 8);
    const [a, b, c] = [rig.join('a'), rig.join('b'), rig.join('c')];
    rig.core.reputation.suspect(a);
    const la = rig.work(a, 9); // wrong
    rig.work(b);
    rig.work(c); // b and c outvote a
    expect(rig.shard(jobId, indexOf(la)).accepted!.volunteers).toEqual(['b', 'c']);
    for (let i = 0; i < 3; i++) {
      rig.work(b);
      rig.work(c);
    }
    rig.ask(a);
    expect(rig.core.reputation.isSuspect(a)).toBe(true);
  });
});

describe('audits of lone work [A-6]', () => {
  /**
   * a and b cross-check shards 0 and 1 (a is then trusted), c only watches, and a computes shard
   * 2 alone: every established answer includes a, so no canary can ever be served to it.
   */
  function loneDebtor(value?: number) {
    const rig = new Rig({ trustStreak: 2 });
    const jobId = rig.submit({ ...policy(2, 2, 4), adaptive: true, canaryRate: 0, spotCheckRate: 0 }, 3);
    const [a, b, c] = [rig.join('a'), rig.join('b'), rig.join('c')];
    for (let i = 0; i < 2; i++) {
      rig.work(a);
      rig.work(b);
    }
    const lone = rig.work(a, value);
    expect(rig.shard(jobId, indexOf(lone))).toMatchObject({ status: 'verified', lone: true });
    expect(rig.core.pendingAudits()).toBe(1);
    expect(rig.ask(a)).toEqual({ noWork: 500 }); // nothing left, and no canary for it
    return { rig, jobId, a, b, c, shard: indexOf(lone) };
  }

  it('[A-6] a volunteer owing a canary none can be served has its lone result cross-checked by another, which clears its debt', () => {
    const { rig, jobId, a, c, shard } = loneDebtor();
    const audit = rig.work(c);
    expect(indexOf(audit)).toBe(shard);
    expect(rig.shard(jobId, shard)).toMatchObject({ status: 'verified', accepted: { volunteers: ['a', 'c'] } });
    expect(rig.core.reputation.get(a)).toMatchObject({ debt: 0, suspect: false, invalid: 0 });
    expect(rig.core.pendingAudits()).toBe(0);
    expect(rig.core.verificationTotals().reopened).toBe(0); // not a quarantine's re-opening ([X-3])
  });

  it('[A-6] a lie accepted alone is outvoted when audited, and its volunteer stays owing', () => {
    const { rig, jobId, a, b, c, shard } = loneDebtor(9);
    rig.work(c);
    rig.work(b); // c and b disagree with a: a third replica decides
    expect(rig.shard(jobId, shard)).toMatchObject({ status: 'verified', accepted: { volunteers: ['c', 'b'] } });
    expect(rig.core.reputation.get(a)).toMatchObject({ suspect: true, invalid: 1 });
    expect(rig.core.pendingAudits()).toBe(1);
  });
});

describe('provenance and comparators [R-3] [V-7]', () => {
  it("[R-3] an accepted result records each volunteer's backend, adapter and onnxruntime version", () => {
    const rig = new Rig();
    const jobId = rig.submit({ ...policy(2, 2, 4), canaryRate: 0 }, 1);
    rig.work(rig.join('g', 'webgpu'), undefined, 'webgpu');
    rig.work(rig.join('w', 'wasm'));
    const [s] = rig.core.verifiedShards(jobId);
    expect(s).toMatchObject({ volunteers: ['g', 'w'], backends: ['webgpu', 'wasm'], adapters: ['acme gen1', null], ortVersions: ['1.30.0', '1.30.0'] });
    const msg = { v: V, t: 'job-results', jobId, shards: rig.core.verifiedShards(jobId) };
    const parsed = parseFromCoordinator(msg);
    expect(parsed.ok && parsed.msg.t === 'job-results' && parsed.msg.shards[0]!.adapters).toEqual(['acme gen1', null]);
  });

  it('[V-7] a policy may give named outputs their own comparator', () => {
    const rig = new Rig();
    const p: VerificationPolicy = {
      ...policy(2, 2, 2, { kind: 'allclose', atol: 1e-3, rtol: 0 }),
      canaryRate: 0,
      outputComparators: [{ name: 'y', comparator: { kind: 'argmax' } }],
    };
    const jobId = rig.submit(p, 1);
    const [a, b] = [rig.join('a'), rig.join('b')];
    const la = rig.lease(a);
    const lb = rig.lease(b);
    // "y" differs a lot but has the same arg-max; "label" is an int32 and must match exactly.
    rig.result(a, la.leaseId, [f32('y', [1, 2], [1, 5]), i32('label', [1], [1])]);
    rig.result(b, lb.leaseId, [f32('y', [1, 2], [-3, 9]), i32('label', [1], [1])]);
    expect(rig.shard(jobId, 0).status).toBe('verified');
  });
});
