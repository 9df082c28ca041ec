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
 */
import type { JobId, PeerId, ShardId } from '../../protocol/ids.ts';
import type { ShardState } from '../coordinator/state.ts';
import type { ReputationBook } from '../reputation/reputation.ts';
import type { Rng } from '../rng.ts';

interface Source {
  readonly shard: ShardState;
  /** The acceptance this source stands for; a re-opened shard's old answer is void. */
  readonly epoch: number;
  readonly volunteers: readonly PeerId[];
  /** Each volunteer's `validated` and `invalid` counts just after the acceptance. */
  readonly validatedAt: readonly number[];
  readonly invalidAt: readonly number[];
  /** [C-3] A volunteer failed it: it is never used again. */
  burned: boolean;
}

type SourceState = 'established' | 'pending' | 'dead';

/** Candidates kept per job; beyond it, a new one replaces one not yet established. */
const MAX_PER_JOB = 4096;
/** Random candidates looked at per pick. */
const TRIES = 8;
/** Candidates looked at for replacement when the pool is full (cheap: most acceptances are not needed). */
const REPLACE_TRIES = 2;

export class CanaryPool {
  private readonly byJob = new Map<JobId, Source[]>();
  private readonly byShard = new Map<ShardId, Source>();

  constructor(private readonly book: ReputationBook) {}

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
      for (let t = 0; t < REPLACE_TRIES && slot < 0; t++) {
        const i = Math.floor(rng.next() * list.length);
        const old = list[i] as Source;
        if (this.state(old) === 'established') continue;
        if (this.byShard.get(old.shard.id) === old) this.byShard.delete(old.shard.id);
        slot = i;
      }
      if (slot < 0) return;
    }
    const source: Source = {
      shard,
      epoch: shard.epoch,
      volunteers: [...volunteers],
      validatedAt: volunteers.map((v) => this.book.get(v)?.validated ?? 0),
      invalidAt: volunteers.map((v) => this.book.get(v)?.invalid ?? 0),
      burned: false,
    };
    list[slot] = source;
    this.byShard.set(shard.id, source);
  }

  /** Whether the shard's current accepted answer is established. */
  isEstablished(shard: ShardState): boolean {
    const source = this.byShard.get(shard.id);
    return source !== undefined && this.state(source) === 'established';
  }

  /**
   * [C-1] A random established source of this job that `excluded` does not rule out (the asking
   * volunteer's own shards, ones it holds or was already tested on), or null.
   */
  pick(jobId: JobId, excluded: (shard: ShardState) => boolean, rng: Rng): ShardState | null {
    const list = this.byJob.get(jobId);
    if (!list) return null;
    for (let t = 0; t < TRIES && list.length > 0; t++) {
      const i = Math.floor(rng.next() * list.length);
      const source = list[i] as Source;
      const state = this.state(source);
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

  private state(s: Source): SourceState {
    if (s.burned || s.shard.status !== 'verified' || s.shard.epoch !== s.epoch) return 'dead';
    let pending = false;
    for (let i = 0; i < s.volunteers.length; i++) {
      const r = this.book.get(s.volunteers[i] as PeerId);
      if (!r || r.quarantined || r.invalid !== s.invalidAt[i]) return 'dead';
      if (!this.book.partneredSince(s.volunteers[i] as PeerId, s.validatedAt[i] as number)) pending = true;
    }
    return pending ? 'pending' : 'established';
  }
}
