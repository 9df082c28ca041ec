/**
 * How a shard is replicated and decided: whether a trusted volunteer computes it alone ([A-3],
 * ), when its replicas reach a quorum and what follows — accepted, unverifiable, or more
 * replicas wanted ([R-3], [R-4]) — and deciding it again without a quarantined volunteer
 * ([X-3]). Separate from the coordinator because this is the one place a shard's outcome
 * changes; the coordinator calls in when a result arrives, a lease is issued or a volunteer is
 * quarantined. It keeps the per-backend agreement counts ([T-5]), which only decisions feed.
 */
import type { PeerId, LeaseId } from '../../protocol/ids.ts';
import type { ResolvedPolicy } from '../../protocol/policy.ts';
import type { BackendPairCount } from '../../protocol/telemetry.ts';
import type { ReputationBook } from '../reputation/reputation.ts';
import type { Rng } from '../rng.ts';
import { BackendPairCounter } from '../telemetry/backendPairs.ts';
import { decideQuorumBy } from '../verification/quorum.ts';
import { resultComparison } from '../verification/resultComparison.ts';
import type { CoordinatorEffect } from './effects.ts';
import type { JobBook } from './jobBook.ts';
import type { Judgement } from './judgement.ts';
import { connectedVolunteers } from './peerFacts.ts';
import type { JobRecord, PeerState, Replica, ShardState, VerificationTotals } from './state.ts';
import type { VolunteerNotices } from './volunteerNotices.ts';

/** Connected volunteers (not quarantined) a network needs before anyone computes alone: a canary for one must come from two others. */
const MIN_LONE_NETWORK = 3;
const NO_BACKENDS: readonly Replica['backend'][] = [];

/** What a decision makes the coordinator do. */
export interface DecisionHooks {
  emit(effect: CoordinatorEffect): void;
  log(level: 'info' | 'warn', text: string): void;
  /** [L-1] Put the shard (back) in its job's queue if it wants another lease. */
  offer(shard: ShardState): void;
}

export class ShardDecider {
  private readonly backendPairs = new BackendPairCounter();

  constructor(
    private readonly jobs: JobBook,
    private readonly peers: ReadonlyMap<PeerId, PeerState>,
    private readonly reputation: ReputationBook,
    private readonly judgement: Judgement,
    private readonly notices: VolunteerNotices,
    private readonly totals: VerificationTotals,
    private readonly rng: Rng,
    private readonly hooks: DecisionHooks,
  ) {}

  /** [T-5] Agreement per pair of backends over every accepted shard. */
  backendAgreement(): BackendPairCount[] {
    return this.backendPairs.list();
  }

  /**
   * A fresh shard leased to a volunteer trusted on its backend, in a job that allows
   * adaptive replication, is computed by that volunteer alone, unless drawn for a spot-check.
   * Never while fewer than 3 volunteers (not quarantined) are connected: with two, every new
   * canary source would include the one asking, so its lone results could never be audited
   * ([A-6]) and its debt would stay owed for good. Connected, not known ([C-4]): one that left
   * computes no new shard a canary could come from.
   */
  decideLone(state: PeerState, job: JobRecord, shard: ShardState): void {
    const policy = this.jobs.policyOf(job);
    if (!policy.adaptive || shard.replicas.length > 0 || shard.leases.size > 0 || shard.lone) return;
    const backend = state.caps?.backend;
    if (backend === undefined || !this.reputation.isTrusted(state.id, backend)) return;
    if (connectedVolunteers(this.peers, this.reputation, MIN_LONE_NETWORK) < MIN_LONE_NETWORK) return;
    if (this.reputation.spotCheck(state.id, policy.spotCheckRate, this.rng)) {
      shard.spotChecked = true;
      this.totals.spotChecks++;
      return;
    }
    shard.lone = true;
    shard.target = 1;
  }

  /** Back to the policy's replication: the shard is cross-checked like any other. */
  endLone(shard: ShardState, policy: ResolvedPolicy): void {
    shard.lone = false;
    shard.target = Math.max(shard.target, policy.replication);
    this.hooks.offer(shard);
  }

  /**
   * Decide a shard once enough replicas are in. `judge`: this decision is news about its
   * volunteers ([A-1]); a re-decision after a re-opening ([X-3]) is not.
   */
  evaluate(job: JobRecord, shard: ShardState, now: number, judge: boolean): void {
    const policy = this.jobs.policyOf(job);
    const { maxReplicas } = policy;
    // A lone shard stays lone only while its one result comes from a volunteer still trusted
    // on the backend it used; otherwise it is cross-checked like any other.
    if (shard.lone) {
      const only = shard.replicas[0];
      if (shard.replicas.length > 1 || (only !== undefined && !this.reputation.isTrusted(only.volunteer, only.backend))) {
        this.endLone(shard, policy);
      }
    }
    const quorum = shard.lone ? 1 : policy.quorum;
    if (shard.replicas.length < Math.min(quorum, shard.target)) return;
    const compare = resultComparison(policy);
    const decision = decideQuorumBy(shard.replicas, (a, b) => compare(a, b).agree, quorum, maxReplicas);
    const counts = this.jobs.countsOf(job.id);
    if (decision.kind === 'accept') {
      // One pass over the agreeing replicas (this runs for every accepted shard).
      const k = decision.agreeing.length;
      const agreeing = new Array<Replica>(k);
      const volunteers = new Array<PeerId>(k);
      const backends = new Array<Replica['backend']>(k);
      const adapters = new Array<string | null>(k);
      const ortVersions = new Array<string>(k);
      for (let j = 0; j < k; j++) {
        const r = shard.replicas[decision.agreeing[j]!]!;
        agreeing[j] = r;
        volunteers[j] = r.volunteer;
        backends[j] = r.backend;
        adapters[j] = r.adapter;
        ortVersions[j] = r.ortVersion;
      }
      const rep = agreeing[0]!;
      shard.status = 'verified';
      shard.epoch++;
      shard.durable = false; // [S-2] until the host reports this epoch's write
      shard.accepted = {
        outputs: rep.outputs,
        ...(rep.answers ? { answers: rep.answers } : {}),
        volunteers,
        backends,
        adapters,
        ortVersions,
        ...signaturesOf(agreeing),
        acceptedAtMs: now,
      };
      shard.disagreements += decision.dissenting.length;
      counts.verified++;
      counts.disagreements += decision.dissenting.length;
      this.jobs.syncInFlight(shard);
      if (judge) this.judgement.judgeDecision(shard, agreeing, decision.dissenting);
      for (const r of agreeing) {
        const p = this.peers.get(r.volunteer);
        if (p) p.shardsAccepted++;
        this.notices.standingChanged(r.volunteer);
      }
      for (const i of decision.dissenting) {
        const p = this.peers.get(shard.replicas[i]!.volunteer);
        if (p) p.resultsRejected++;
        this.notices.standingChanged(shard.replicas[i]!.volunteer);
      }
      this.backendPairs.recordDecision(backends, decision.dissenting.length === 0 ? NO_BACKENDS : decision.dissenting.map((i) => shard.replicas[i]!.backend));
      this.hooks.emit({ kind: 'store-shard', jobId: job.id, shard });
      if (counts.verified + counts.unverifiable === job.shardCount) this.hooks.log('info', `job ${job.id} "${job.name}" complete`);
    } else if (decision.kind === 'unverifiable') {
      shard.status = 'unverifiable';
      shard.epoch++;
      const outvoted = shard.replicas.length - decision.largestClass;
      shard.disagreements += outvoted;
      counts.unverifiable++;
      counts.disagreements += outvoted;
      this.jobs.syncInFlight(shard);
      // Nobody can tell who lied, but someone did: everyone involved gets tested.
      for (const r of shard.replicas) this.reputation.suspect(r.volunteer);
      this.hooks.log('warn', `shard ${shard.id} is unverifiable: no ${quorum} of ${shard.replicas.length} results agree`);
      this.hooks.emit({ kind: 'store-shard', jobId: job.id, shard });
    } else {
      // Disagreement asks for more replicas, up to maxReplicas.
      const wanted = Math.min(maxReplicas, shard.replicas.length + decision.more);
      if (decision.disagreement && wanted > shard.target) {
        this.hooks.log('info', `shard ${shard.id}: results disagree, asking for replica ${wanted}`);
      }
      shard.target = Math.max(shard.target, wanted);
      this.hooks.offer(shard);
    }
  }

  /**
   * A quarantined volunteer's replica leaves every shard it contributed to. Each accepted
   * shard it was part of and each unverifiable one is re-opened and decided again from the
   * remaining replicas (asking for more where they fall short), so no result that rests on its
   * word stays accepted. Its partners in those acceptances become suspects ([A-5]).
   */
  withdraw(peer: PeerId, shards: readonly ShardState[], now: number): void {
    let reopened = 0;
    for (const shard of shards) {
      const at = shard.replicas.findIndex((r) => r.volunteer === peer);
      if (at < 0) continue;
      const accepted = shard.status === 'verified' && shard.accepted !== null && shard.accepted.volunteers.includes(peer);
      if (accepted) for (const v of shard.accepted!.volunteers) if (v !== peer) this.reputation.suspect(v);
      shard.replicas.splice(at, 1);
      if (accepted || shard.status === 'unverifiable') {
        this.reopen(shard, now);
        this.totals.reopened++;
        reopened++;
      } else {
        this.jobs.syncInFlight(shard);
        this.hooks.offer(shard);
      }
    }
    if (reopened > 0) this.hooks.log('warn', `${reopened} shard(s) ${peer} took part in re-opened for verification`);
  }

  /**
   * A lone acceptance cross-checked after the fact: re-opened with its one replica, it
   * wants `replication` like any other shard, and is accepted again once others agree with it.
   */
  reopenForAudit(shard: ShardState, now: number): void {
    if (shard.status !== 'verified' || !shard.lone) return;
    this.reopen(shard, now);
    this.hooks.log('info', `shard ${shard.id}, accepted alone, re-opened to be cross-checked: no canary is left for its volunteer`);
  }

  /** Decide a shard again from the replicas it has now (asking for more where they fall short). */
  private reopen(shard: ShardState, now: number): void {
    const job = this.jobs.job(shard.jobId);
    if (!job) return;
    const policy = this.jobs.policyOf(job);
    const counts = this.jobs.countsOf(job.id);
    if (shard.status === 'verified') counts.verified--;
    else if (shard.status === 'unverifiable') counts.unverifiable--;
    if (shard.durable) counts.durable--;
    shard.durable = false;
    shard.status = 'open';
    shard.accepted = null;
    shard.epoch++;
    shard.lone = false;
    shard.target = Math.max(policy.replication, shard.replicas.length);
    this.jobs.syncInFlight(shard);
    this.evaluate(job, shard, now, false);
    // evaluate reports a new decision itself; an open shard is re-persisted as open here.
    if (shard.status === 'open') {
      this.hooks.emit({ kind: 'store-shard', jobId: job.id, shard });
      this.hooks.offer(shard);
    }
  }
}

/**
 * [I-3] The agreeing volunteers' keys and result signatures, when every one of them signed; and
 * the digest each signed, when every one kept it (replicas stored before digests were kept have none).
 */
function signaturesOf(agreeing: readonly Replica[]): { volunteerKeys?: string[]; resultSigs?: string[]; resultLeases?: LeaseId[]; resultDigests?: string[] } {
  const volunteerKeys: string[] = [];
  const resultSigs: string[] = [];
  const resultLeases: LeaseId[] = [];
  const resultDigests: string[] = [];
  for (const r of agreeing) {
    if (r.volunteerKey === undefined || r.signature === undefined || r.signedLeaseId === undefined) return {};
    volunteerKeys.push(r.volunteerKey);
    resultSigs.push(r.signature);
    resultLeases.push(r.signedLeaseId);
    if (r.signedDigest !== undefined) resultDigests.push(r.signedDigest);
  }
  return { volunteerKeys, resultSigs, resultLeases, ...(resultDigests.length === agreeing.length ? { resultDigests } : {}) };
}
