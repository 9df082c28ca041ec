/**
 * Canary sources: verified shards whose answer is *established*, so a volunteer handed one (as an
 * ordinary-looking lease) can be checked against a known answer ([C-1] in core/SPEC.md).
 *
 * A quorum's answer is only as good as the volunteers in it: two colluders agreeing on a lie make
 * a quorum too. So an acceptance becomes established only once every volunteer of its agreeing
 * class has since agreed with `establishAfter` distinct partners in valid results, with no
 * invalid one, and none of them is quarantined. A colluder that agreed on a lie is outvoted by
 * honest volunteers long before that (it keeps lying), and a small coalition cannot vouch for
 * itself, so a lie practically never becomes a canary; honest acceptances become canaries within
 * a few results of their volunteers.
 *
 * A network too small to offer that many partners asks for fewer, pooled over the class
 * (`establishNeed`, [C-4]): otherwise 3–5 volunteers never establish anything and a liar among
 * them is never caught.
 */
import type { JobId, PeerId, ShardId } from '../../protocol/ids.ts';
import type { ShardState } from '../coordinator/state.ts';
import type { ReputationBook, VolunteerReputation } from '../reputation/reputation.ts';
import type { Rng } from '../rng.ts';

interface Source {
  readonly shard: ShardState;
  /** The acceptance this source stands for; a re-opened shard's old answer is void. */
  readonly epoch: number;
  readonly volunteers: readonly PeerId[];
  /** Each volunteer's `validated` and `invalid` counts just after the acceptance. */
  readonly validatedAt: readonly number[];
  readonly invalidAt: readonly number[];
  /** [C-4] Each volunteer's invalid results just after the acceptance, less those still contested. */
  readonly settledAt: readonly number[];
  /** [C-3] A volunteer failed it: it is never used again. */
  burned: boolean;
}

export type SourceState = 'established' | 'pending' | 'dead';

/** Candidates kept per job; beyond it, a new one replaces one not yet established. */
const MAX_PER_JOB = 4096;
/** Random candidates looked at per pick. */
const TRIES = 8;
/** Candidates looked at for replacement when the pool is full (cheap: most acceptances are not needed). */
const REPLACE_TRIES = 2;

/**
 * [C-4] Distinct partners that establish an answer in a network of `volunteers` known volunteers
 * (not quarantined): `establishAfter`, but at most ⌊volunteers / 2⌋ (and at least 1). From
 * 2·establishAfter volunteers on it is `establishAfter` itself, required of every member of the
 * class ([C-1]). Below that (a small network), the members' partners since the acceptance are
 * pooled and must number need + 1 or more: a group of c volunteers that only agrees among itself
 * pools at most c, so a coalition of at most ⌊n / 2⌋ can never establish its lies on its own,
 * while an honest strict majority (h ≥ ⌊n / 2⌋ + 1) establishes its answers. 0 or less:
 * everything accepted by ≥ 2 counts as established at once (tests only).
 */
export function establishNeed(establishAfter: number, volunteers: number): number {
  if (establishAfter <= 0) return 0;
  return Math.min(establishAfter, Math.max(1, Math.floor(volunteers / 2)));
}

export class CanaryPool {
  private readonly byJob = new Map<JobId, Source[]>();
  private readonly byShard = new Map<ShardId, Source>();

  /**
   * `volunteers(cap)`: how many distinct volunteers the network knows (connected or judged
   * before, not quarantined), counted up to `cap` at least. Left out: as many as it takes, so
   * `need` is always `establishAfter`. `contested(peer)`: how many of its invalid results are
   * outvotes by answers not (yet) established ([X-4]), which in a small network do not kill its
   * other answers ([C-4]); left out: none.
   */
  constructor(
    private readonly book: ReputationBook,
    private readonly volunteers: (cap: number) => number = (cap) => cap,
    private readonly contested: (peer: PeerId) => number = () => 0,
  ) {}

  /** [C-4] Distinct partners that establish an answer now. */
  need(): number {
    const after = this.book.config.establishAfter;
    return after <= 0 ? 0 : establishNeed(after, this.volunteers(2 * after));
  }

  /** A shard accepted by ≥ 2 agreeing volunteers (their valid results already counted) may become a canary. */
  add(shard: ShardState, volunteers: readonly PeerId[], rng: Rng): void {
    if (volunteers.length < 2) return;
    let list = this.byJob.get(shard.jobId);
    if (!list) {
      list = [];
      this.byJob.set(shard.jobId, list);
    }
    // Full: replace a candidate that is not (yet) established, keeping the proven ones.
    let slot = list.length;
    if (slot >= MAX_PER_JOB) {
      slot = -1;
      const need = this.need();
      for (let t = 0; t < REPLACE_TRIES && slot < 0; t++) {
        const i = Math.floor(rng.next() * list.length);
        const old = list[i] as Source;
        if (this.state(old, need) === 'established') continue;
        if (this.byShard.get(old.shard.id) === old) this.byShard.delete(old.shard.id);
        slot = i;
      }
      if (slot < 0) return;
    }
    const validatedAt = new Array<number>(volunteers.length);
    const invalidAt = new Array<number>(volunteers.length);
    const settledAt = new Array<number>(volunteers.length);
    for (let i = 0; i < volunteers.length; i++) {
      const r = this.book.get(volunteers[i] as PeerId);
      validatedAt[i] = r?.validated ?? 0;
      invalidAt[i] = r?.invalid ?? 0;
      settledAt[i] = (r?.invalid ?? 0) - this.contested(volunteers[i] as PeerId);
    }
    // The caller's list is the accepted answer's, never mutated: kept as it is.
    const source: Source = { shard, epoch: shard.epoch, volunteers, validatedAt, invalidAt, settledAt, burned: false };
    list[slot] = source;
    this.byShard.set(shard.id, source);
  }

  /** Whether the shard's current accepted answer is established. */
  isEstablished(shard: ShardState): boolean {
    const source = this.byShard.get(shard.id);
    return source !== undefined && this.state(source, this.need()) === 'established';
  }

  /**
   * The state of the acceptance of `shard` at `epoch`: established, pending, or dead (the
   * shard was re-opened since, its source burnt or replaced, or one of its volunteers has an
   * invalid result since — in a small network, not an outvote still contested ([C-4]) — or is
   * quarantined). `need` comes from `need()`.
   */
  stateOf(shard: ShardState, epoch: number, need: number): SourceState {
    const source = this.byShard.get(shard.id);
    if (source === undefined || source.epoch !== epoch) return 'dead';
    return this.state(source, need);
  }

  /**
   * [C-1] A random established source of this job that `excluded` does not rule out (the asking
   * volunteer's own shards, ones it holds or was already tested on), or null.
   */
  pick(jobId: JobId, excluded: (shard: ShardState) => boolean, rng: Rng): ShardState | null {
    const list = this.byJob.get(jobId);
    if (!list) return null;
    const need = list.length > 0 ? this.need() : 0;
    for (let t = 0; t < TRIES && list.length > 0; t++) {
      const i = Math.floor(rng.next() * list.length);
      const source = list[i] as Source;
      const state = this.state(source, need);
      if (state === 'dead') {
        // Swap-remove: the order of candidates carries no meaning.
        list[i] = list[list.length - 1] as Source;
        list.pop();
        if (this.byShard.get(source.shard.id) === source) this.byShard.delete(source.shard.id);
        continue;
      }
      if (state === 'established' && !excluded(source.shard)) return source.shard;
    }
    return null;
  }

  /**
   * [C-3] A volunteer contradicted this shard's established answer: the source is never used
   * again (if the answer was wrong after all, it tests nobody else). Returns the volunteers the
   * answer rested on.
   */
  burn(shard: ShardState): readonly PeerId[] {
    const source = this.byShard.get(shard.id);
    if (!source) return [];
    source.burned = true;
    this.byShard.delete(shard.id);
    return source.volunteers;
  }

  /** Jobs with candidates, newest last. */
  jobs(): JobId[] {
    return [...this.byJob.keys()];
  }

  private state(s: Source, need: number): SourceState {
    if (s.burned || s.shard.status !== 'verified' || s.shard.epoch !== s.epoch) return 'dead';
    const small = need < this.book.config.establishAfter;
    let pending = false;
    for (let i = 0; i < s.volunteers.length; i++) {
      const v = s.volunteers[i] as PeerId;
      const r = this.book.get(v);
      if (!r || r.quarantined) return 'dead';
      // [C-4] In a small network an outvote by an answer not established is no evidence yet: a
      // pair of colluders outvoting the one honest volunteer in every shard would otherwise kill
      // every honest answer before it could establish, and nothing would ever be (seed 1814070218).
      if (small ? r.invalid - this.contested(v) !== s.settledAt[i] : r.invalid !== s.invalidAt[i]) return 'dead';
      // Not small: need is establishAfter, which partneredSince asks of each member.
      if (!small && !this.book.partneredSince(s.volunteers[i] as PeerId, s.validatedAt[i] as number)) pending = true;
    }
    if (!small) return pending ? 'pending' : 'established';
    return this.vouchers(s, need) > need ? 'established' : 'pending';
  }

  /**
   * [C-4] In a small network: how many distinct volunteers the class's members have, between them,
   * agreed with since the acceptance (counting up to need + 1). Pooled rather than per member,
   * because the lease order may pair volunteers unevenly (one fast volunteer meets everyone, the
   * others only it); a group that only ever agrees among itself still pools at most its own size.
   */
  private vouchers(s: Source, need: number): number {
    const seen: PeerId[] = [];
    for (let i = 0; i < s.volunteers.length; i++) {
      const r = this.book.get(s.volunteers[i] as PeerId) as VolunteerReputation;
      const since = s.validatedAt[i] as number;
      for (let j = 0; j < r.partners.length; j++) {
        const p = r.partners[j] as PeerId;
        if ((r.partnerAt[j] as number) > since && !seen.includes(p)) {
          seen.push(p);
          if (seen.length > need) return seen.length;
        }
      }
    }
    return seen.length;
  }
}
