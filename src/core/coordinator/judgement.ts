/**
 * The tests the coordinator sets its volunteers and what it concludes from their results ([A-n],
 * [C-n], [X-n] in SPEC.md): the established answers that can serve as canaries, which canary a
 * lease serves and which each volunteer was served ([C-1]), who agreed with whom, who was
 * outvoted by an answer that may yet be established ([X-4]), whose results may vouch for a canary
 * it owes ([A-7]), which small-network answers struck it ([X-5]) and which shards each
 * contributed to ([X-3]). Separate from the coordinator because this evidence is its own state,
 * kept per volunteer and read only here (and by a quarantine, which takes the contributions); the
 * coordinator decides shards and calls in with each verdict. The consequence of a verdict — a quarantine, which ends leases and re-opens
 * shards — stays with the coordinator, reached through `hooks`.
 */
import type { JobId, PeerId, ShardId } from '../../protocol/ids.ts';
import type { ToCoordinator } from '../../protocol/messages.ts';
import type { ResolvedPolicy } from '../../protocol/policy.ts';
import type { ReputationBook } from '../reputation/reputation.ts';
import type { Rng } from '../rng.ts';
import { CanaryPool, establishNeed } from '../verification/canaries.ts';
import { resultComparison } from '../verification/resultComparison.ts';
import type { JobRecord, Replica, ShardState, VerificationTotals } from './state.ts';

type ResultMsg = Extract<ToCoordinator, { t: 'result' }>;

/** Outvotes remembered per volunteer; a liar gives more than enough evidence in fewer. */
const MAX_OUTVOTED = 16;
/** Results returned while owing a canary, remembered per volunteer until one is vouched for. */
const MAX_VOUCHING = 16;
/** Strikes remembered per volunteer with their answers; an older one can no longer be withdrawn. */
const MAX_STRIKE_EVIDENCE = 16;

/**
 * The answer a strike rested on, as it stood when it struck: established in a small network
 * ([C-4]: `need` below `establishAfter`), by `volunteers`, whose invalid results then numbered
 * `invalidAt`.
 */
interface StrikeEvidence {
  readonly shard: ShardState;
  readonly epoch: number;
  readonly volunteers: readonly PeerId[];
  readonly invalidAt: readonly number[];
  readonly need: number;
}

/** What a verdict may make the coordinator do. */
export interface JudgementHooks {
  log(level: 'info' | 'warn', text: string): void;
  /** Quarantine a volunteer caught lying. */
  quarantine(peer: PeerId, reason: string, now: number): void;
  /** Lift the quarantine of a volunteer whose strikes were withdrawn. */
  lift(peer: PeerId, reason: string): void;
}

export class Judgement {
  /** Every shard each volunteer holds a replica in, for retroactive re-verification. */
  private readonly contributions = new Map<PeerId, ShardState[]>();
  /** [C-1] Shards each volunteer was already given as a canary: never the same one twice. */
  private readonly canaried = new Map<PeerId, Set<ShardId>>();
  /**
   * Per volunteer, the acceptances (shard and epoch) that outvoted it and may yet become
   * established, oldest first, at most MAX_OUTVOTED.
   */
  private readonly outvoted = new Map<PeerId, { readonly shard: ShardState; readonly epoch: number }[]>();
  /**
   * [C-4] Per volunteer, its outvotes dropped without their answer ever being established (undone,
   * dead, or pushed out of `outvoted`): with those still waiting, the invalid results that do not
   * kill its answers in a small network.
   */
  private readonly excused = new Map<PeerId, number>();
  /**
   * Per volunteer owing a canary, the shards it returned a result for meanwhile and the
   * `owed` count then, oldest first, at most MAX_VOUCHING: one accepted with it and since
   * established stands in for the canary it may never be served.
   */
  private readonly vouching = new Map<PeerId, { readonly shard: ShardState; readonly owed: number }[]>();
  /**
   * Per volunteer, the answers behind its strikes in a small network, oldest first, at most
   * MAX_STRIKE_EVIDENCE: each strike is withdrawn if its answer is contradicted.
   */
  private readonly strikeEvidence = new Map<PeerId, StrikeEvidence[]>();
  /**
   * Per volunteer owing a canary none can be served, the lone acceptance of its re-opened
   * to be cross-checked by another volunteer, and its `owed` count then: at most one at a time.
   */
  private readonly audits = new Map<PeerId, { readonly shard: ShardState; readonly owed: number }>();
  /** [C-1] [C-4] Established answers that may serve as canaries. */
  private readonly canaries: CanaryPool;

  /**
   * @param knownVolunteers [C-4] Distinct volunteers the network knows and has not quarantined,
   * counted up to `cap`: how many partners establish an answer.
   */
  constructor(
    private readonly reputation: ReputationBook,
    private readonly knownVolunteers: (cap: number) => number,
    private readonly rng: Rng,
    private readonly totals: VerificationTotals,
    private readonly hooks: JudgementHooks,
  ) {
    this.canaries = new CanaryPool(reputation, knownVolunteers, (peer) => this.contested(peer));
  }

  /** The volunteer now holds a replica in this shard. */
  contributed(peer: PeerId, shard: ShardState): void {
    let mine = this.contributions.get(peer);
    if (!mine) this.contributions.set(peer, (mine = []));
    mine.push(shard);
  }

  /** Every shard the volunteer contributed to, forgotten here (it is being quarantined). */
  takeContributions(peer: PeerId): ShardState[] {
    const shards = this.contributions.get(peer) ?? [];
    this.contributions.delete(peer);
    return shards;
  }

  /** [C-1] The volunteer was served this shard as a canary. */
  canaryServed(peer: PeerId, shardId: ShardId): void {
    let seen = this.canaried.get(peer);
    if (!seen) this.canaried.set(peer, (seen = new Set()));
    seen.add(shardId);
  }

  /** [C-1] Whether the volunteer was already served this shard as a canary. */
  wasCanaried(peer: PeerId, shardId: ShardId): boolean {
    return this.canaried.get(peer)?.has(shardId) === true;
  }

  /**
   * [C-1] Whether this lease is a canary, and which: with the volunteer's canary rate, an
   * established shard of the job it would work on that it never computed, holds or was tested
   * on. With no other work, a suspect ([A-5]) or a volunteer whose lone results are not yet
   * backed by a canary ([A-6]) gets one from any job. `canaryRate`: the job's policy rate;
   * `involved`: [L-2] whether the volunteer computed a shard or holds any lease on it.
   */
  drawCanary(peer: PeerId, job: JobRecord | null, canaryRate: number, involved: (shard: ShardState, volunteer: PeerId) => boolean): ShardState | null {
    if (job) {
      const rate = this.reputation.canaryRate(peer, canaryRate);
      if (rate <= 0 || this.rng.next() >= rate) return null;
    } else if (!this.reputation.owesCanary(peer)) {
      return null;
    }
    const excluded = (shard: ShardState): boolean => this.wasCanaried(peer, shard.id) || involved(shard, peer);
    if (job) return this.canaries.pick(job.id, excluded, this.rng);
    const jobs = this.canaries.jobs();
    for (let i = jobs.length - 1; i >= 0; i--) {
      const shard = this.canaries.pick(jobs[i] as JobId, excluded, this.rng);
      if (shard) return shard;
    }
    return null;
  }

  /**
   * The lone acceptance to cross-check for a volunteer that owes a canary for its lone
   * results and has no other work, when no canary can be drawn for it: its latest one still
   * standing (`auditable` rules out shards that cannot be leased again), remembered with its
   * `owed` count. Null for a suspect (its lone results predate the suspicion, so they say nothing
   * about it, as in ), one that owes nothing, or one whose audit is still open. The caller
   * re-opens the shard with its one replica, so another volunteer computes it blind.
   */
  auditTarget(peer: PeerId, auditable: (shard: ShardState) => boolean): ShardState | null {
    const open = this.audits.get(peer);
    if (open) {
      if (open.shard.status === 'open') return null;
      this.audits.delete(peer); // decided without clearing it (outvoted, or stale): another may follow
    }
    const r = this.reputation.get(peer);
    if (!r || r.quarantined || r.suspect || r.debt <= 0) return null;
    const mine = this.contributions.get(peer) ?? [];
    for (let i = mine.length - 1; i >= 0; i--) {
      const shard = mine[i] as ShardState;
      const only = shard.accepted?.volunteers;
      if (!shard.lone || shard.status !== 'verified' || only?.length !== 1 || only[0] !== peer || !auditable(shard)) continue;
      this.audits.set(peer, { shard, owed: this.reputation.owedCount(peer) });
      return shard;
    }
    return null;
  }

  /**
   * An audited lone result accepted again, now with another volunteer's agreeing answer:
   * its volunteer's lone work was checked blind, as a canary would have checked it, so its debt
   * is cleared — unless an owed event came since (a later lone acceptance, a suspicion).
   */
  private settleAudits(shard: ShardState, volunteers: readonly PeerId[]): void {
    for (const v of volunteers) {
      const audit = this.audits.get(v);
      if (audit?.shard !== shard) continue;
      this.audits.delete(v);
      if (this.reputation.vouched(v, audit.owed))
        this.hooks.log('info', `volunteer ${v} cleared: its lone result on ${shard.id} was confirmed by another volunteer`);
    }
  }

  /**
   * An acceptance by ≥ 2 agreeing volunteers is a valid result for each (and may later
   * make a canary, [C-1]); outvoted results are invalid. A lone acceptance proves nothing.
   */
  judgeDecision(shard: ShardState, agreeing: readonly Replica[], dissenting: readonly number[]): void {
    if (agreeing.length >= 2) {
      // The accepted answer's own list (never mutated): one array less per acceptance.
      const volunteers = shard.accepted?.volunteers ?? agreeing.map((r) => r.volunteer);
      for (const r of agreeing) this.reputation.valid(r.volunteer, r.backend, volunteers);
      this.canaries.add(shard, volunteers, this.rng);
      if (this.audits.size > 0) this.settleAudits(shard, volunteers);
    } else {
      for (const r of agreeing) this.reputation.lone(r.volunteer);
      this.totals.loneAccepted++;
    }
    for (const i of dissenting) {
      const v = (shard.replicas[i] as Replica).volunteer;
      this.reputation.invalid(v);
      // Outvoted by ≥ 2 agreeing volunteers: evidence against it once their answer is established.
      if (agreeing.length < 2) continue;
      let list = this.outvoted.get(v);
      if (!list) this.outvoted.set(v, (list = []));
      if (list.length >= MAX_OUTVOTED) {
        list.shift();
        this.excuse(v);
      }
      list.push({ shard, epoch: shard.epoch });
    }
  }

  /** [C-4] Outvotes of the volunteer by answers not established, waiting or dropped. */
  private contested(peer: PeerId): number {
    return (this.outvoted.get(peer)?.length ?? 0) + (this.excused.get(peer) ?? 0);
  }

  private excuse(peer: PeerId): void {
    this.excused.set(peer, (this.excused.get(peer) ?? 0) + 1);
  }

  /**
   * [C-3] A canary's answer compared with the shard's established answer: passing is a valid
   * result, failing a strike ([X-1]). A shard re-opened since the lease has no known answer any
   * more: the result tests nothing.
   */
  judgeCanary(peer: PeerId, msg: ResultMsg, shard: ShardState, epoch: number, policy: ResolvedPolicy, now: number): void {
    if (shard.status === 'verified' && shard.epoch === epoch && shard.accepted) {
      const verdict = resultComparison(policy)(shard.accepted, msg);
      if (verdict.agree) this.reputation.canaryPassed(peer, msg.backend, shard.accepted.volunteers);
      else this.caught(peer, shard, `failed a canary (${shard.id}): ${verdict.reason}`, now);
    }
  }

  /**
   * A late result on a verified shard changes nothing about the shard, but says something
   * about its volunteer: agreeing with the accepted answer is a valid result; contradicting it is
   * an invalid one ([A-1]), and a lie for certain if the answer is established ([X-1]).
   */
  judgeLateResult(peer: PeerId, msg: ResultMsg, shard: ShardState, policy: ResolvedPolicy, now: number): void {
    if (!shard.accepted) return;
    const verdict = resultComparison(policy)(shard.accepted, msg);
    if (verdict.agree) this.reputation.valid(peer, msg.backend, shard.accepted.volunteers);
    else if (this.canaries.isEstablished(shard)) this.caught(peer, shard, `contradicted the established answer of ${shard.id}: ${verdict.reason}`, now);
    else this.reputation.invalid(peer);
  }

  /**
   * [X-1] [C-3] A volunteer contradicted an established answer: a strike against it, and the
   * source is burnt. The volunteers the answer rested on become suspects: one side lied, and a
   * canary of their own will tell which. Enough strikes quarantine.
   */
  private caught(peer: PeerId, shard: ShardState, reason: string, now: number): void {
    const need = this.strikeNeed();
    const strikes = this.canaries.stateOf(shard, shard.epoch, need) === 'established';
    for (const v of this.canaries.burn(shard)) if (v !== peer) this.reputation.suspect(v);
    if (!strikes) {
      // Established, but not once the volunteers it may have quarantined wrongly are counted.
      this.reputation.invalid(peer);
      this.hooks.log('info', `volunteer ${peer} ${reason}; no strike while volunteers quarantined on such answers may yet be cleared`);
      return;
    }
    this.noteStrike(peer, shard, need);
    if (this.reputation.strike(peer)) this.hooks.quarantine(peer, reason, now);
    else this.hooks.log('warn', `volunteer ${peer} struck: ${reason}`);
  }

  /**
   * An outvoted result contradicted the accepted answer as surely as a late one ([R-6]):
   * once that answer is established ([C-1], [C-4], counting as does), the outvote is a
   * strike. Nobody else is suspected: the answer was already the quorum's and has since been
   * vouched for, and the source stays usable. Outvotes whose acceptance was undone or can no
   * longer establish are dropped.
   */
  judgeOutvotes(peer: PeerId, now: number): void {
    const list = this.outvoted.get(peer);
    if (!list) return;
    const need = this.strikeNeed();
    for (let i = 0; i < list.length;) {
      const { shard, epoch } = list[i] as { shard: ShardState; epoch: number };
      const state = this.canaries.stateOf(shard, epoch, need);
      if (state === 'pending') {
        i++;
        continue;
      }
      list.splice(i, 1);
      if (state !== 'established') {
        this.excuse(peer);
        continue;
      }
      const reason = `was outvoted on ${shard.id}, whose answer is now established`;
      this.noteStrike(peer, shard, need);
      if (this.reputation.strike(peer, true)) {
        this.outvoted.delete(peer);
        this.hooks.quarantine(peer, reason, now);
        return;
      }
      this.hooks.log('warn', `volunteer ${peer} struck: ${reason}`);
    }
    if (list.length === 0) this.outvoted.delete(peer);
  }

  /**
   * Remembers a result returned while owing a canary, with the `owed` count before its shard
   * is decided: an outvote it leads to counts as a new owed event, which makes it stale.
   */
  noteVouching(peer: PeerId, shard: ShardState): void {
    let list = this.vouching.get(peer);
    if (!list) this.vouching.set(peer, (list = []));
    if (list.length >= MAX_VOUCHING) list.shift();
    list.push({ shard, owed: this.reputation.owedCount(peer) });
  }

  /**
   * A volunteer owing a canary is cleared, as by passing one, when a result it returned
   * since it last came to owe one was accepted by ≥ 2 agreeing volunteers, itself among them, and
   * that answer is now established ([C-1], [C-4]). It computed that result blind, as it would a
   * canary, and establishment is the bar a canary's answer meets: every member, this one
   * included, has since agreed with enough partners, with no invalid result, and none is
   * quarantined. So a coalition clears its members no more than it can make canaries of its
   * lies. Needed where canaries cannot be served: in a network of two or three volunteers every
   * established shard includes the one asking, and a fast volunteer in a slightly larger one
   * computed nearly all of them. Results from before its latest suspicion, invalid result or lone
   * acceptance are stale and dropped, as are those outvoted or in an acceptance that died.
   */
  judgeVouching(peer: PeerId): void {
    const list = this.vouching.get(peer);
    if (!list) return;
    if (!this.reputation.owesCanary(peer)) {
      this.vouching.delete(peer);
      return;
    }
    const owed = this.reputation.owedCount(peer);
    const need = this.canaries.need();
    for (let i = 0; i < list.length;) {
      const { shard, owed: at } = list[i] as { shard: ShardState; owed: number };
      if (at === owed && shard.status === 'open') {
        i++; // not decided yet (or re-opened, [X-3]): it may still be accepted with this result
        continue;
      }
      const state =
        at === owed && shard.status === 'verified' && shard.accepted !== null && shard.accepted.volunteers.includes(peer)
          ? this.canaries.stateOf(shard, shard.epoch, need)
          : 'dead';
      if (state === 'pending') {
        i++;
        continue;
      }
      if (state === 'established' && this.reputation.vouched(peer, owed)) {
        this.vouching.delete(peer);
        this.hooks.log('info', `volunteer ${peer} cleared: its result on ${shard.id} agrees with an established answer`);
        return;
      }
      list.splice(i, 1);
    }
    if (list.length === 0) this.vouching.delete(peer);
  }

  /**
   * Remembers the answer behind a strike when it was established in a small network
   * ([C-4]): there `need` counts the volunteers known so far, so colluders that joined first may
   * have been a majority of those and established a lie, and the strike may yet be withdrawn.
   */
  private noteStrike(peer: PeerId, shard: ShardState, need: number): void {
    const accepted = shard.accepted;
    if (accepted === null || need >= this.reputation.config.establishAfter) return;
    let list = this.strikeEvidence.get(peer);
    if (!list) this.strikeEvidence.set(peer, (list = []));
    if (list.length >= MAX_STRIKE_EVIDENCE) list.shift();
    const invalidAt = accepted.volunteers.map((v) => this.reputation.get(v)?.invalid ?? 0);
    list.push({ shard, epoch: shard.epoch, volunteers: accepted.volunteers, invalidAt, need });
  }

  /**
   * Whether it is quarantined and enough of its strikes rest on small-network answers that
   * may yet be contradicted that the quarantine may be lifted.
   */
  mayBeLifted(peer: PeerId): boolean {
    const list = this.strikeEvidence.get(peer);
    const r = this.reputation.get(peer);
    return list !== undefined && r !== undefined && r.quarantined && r.strikes - list.length < this.reputation.config.strikesToQuarantine;
  }

  /**
   * The partners an answer needs before it may strike anyone: as [C-4], but counting the
   * volunteers whose quarantine may yet be lifted. Otherwise each honest volunteer that joins
   * alone after colluders got one quarantined would face them again as a majority of the rest,
   * and be struck out in turn. Serving canaries and clearing suspects ([A-7]) count as [C-4] does,
   * so audits in a network that quarantined a liar are not held up by it.
   */
  private strikeNeed(): number {
    const after = this.reputation.config.establishAfter;
    if (after <= 0) return 0;
    let liftable = 0;
    for (const peer of this.strikeEvidence.keys()) if (this.mayBeLifted(peer)) liftable++;
    return establishNeed(after, this.knownVolunteers(2 * after) + liftable);
  }

  /**
   * Withdraws each of the volunteer's strikes whose answer has been contradicted since: its
   * shard re-opened ([X-3]) or a volunteer of its class quarantined — or, once the network has
   * grown so that establishment needs more partners than it did then, a volunteer of its class
   * judged invalid since (outvoted by others, in a network where that class may be a minority). A
   * quarantine left with fewer than `strikesToQuarantine` strikes is lifted. Growth alone
   * withdraws nothing: an answer that still stands keeps its strike.
   */
  reviewStrikes(peer: PeerId): void {
    const list = this.strikeEvidence.get(peer);
    if (!list) return;
    // Today's network, which counts this volunteer as the one it was struck in did (quarantined, it
    // counts while it may be lifted).
    const need = this.strikeNeed();
    const withdrawn: string[] = [];
    let struckOut = true;
    for (let i = 0; i < list.length;) {
      const e = list[i] as StrikeEvidence;
      if (!this.contradicted(e, need)) {
        i++;
        continue;
      }
      list.splice(i, 1);
      withdrawn.push(e.shard.id);
      struckOut = this.reputation.unstrike(peer);
    }
    if (list.length === 0) this.strikeEvidence.delete(peer);
    if (withdrawn.length === 0) return;
    const reason = `the answers of ${withdrawn.join(', ')} that struck it were contradicted since`;
    if (this.reputation.isQuarantined(peer) && !struckOut) this.hooks.lift(peer, reason);
    else this.hooks.log('info', `volunteer ${peer}: strike withdrawn, ${reason}`);
  }

  /** Whether a strike's answer no longer stands; `need`: the network's now ([C-4]). */
  private contradicted(e: StrikeEvidence, need: number): boolean {
    if (e.shard.epoch !== e.epoch) return true;
    const grown = need > e.need;
    for (let i = 0; i < e.volunteers.length; i++) {
      const r = this.reputation.get(e.volunteers[i] as PeerId);
      if (r === undefined || r.quarantined || (grown && r.invalid !== e.invalidAt[i])) return true;
    }
    return false;
  }
}
