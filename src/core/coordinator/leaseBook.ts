/**
 * The coordinator's leases: those out now, those ended but remembered so a late result can still
 * be recognised ([L-3]), and those restored after a reload that their volunteer has not yet
 * claimed ([S-4]); plus the lease id counter. Separate from the coordinator because these maps
 * only ever change together (a lease moves from live to retired, an orphan is a live lease) and
 * their bookkeeping — the retired cap, orphan clean-up, id reuse after a reload — is the same
 * whatever ended the lease. What a lease means for its shard and volunteer stays in the
 * coordinator.
 */
import type { LeaseId, PeerId, ShardId } from '../../protocol/ids.ts';
import { randomTag, type Rng } from '../rng.ts';
import type { LeaseRecord, LeaseState, ShardState } from './state.ts';

/** Remembered after a lease ends, so a late result can still be recognised. */
export interface RetiredLease {
  readonly shardId: ShardId;
  readonly volunteer: PeerId;
  readonly issuedAtMs: number;
  readonly deadlineMs: number;
  /** [C-2] A canary lease, and the acceptance of its shard it tests. */
  readonly canary: boolean;
  readonly epoch: number;
}

const MAX_RETIRED_LEASES = 100_000;

export class LeaseBook {
  private readonly live = new Map<LeaseId, LeaseState>();
  private readonly retired = new Map<LeaseId, RetiredLease>();
  /**
   * [S-4] Live leases restored after a reload, per volunteer, not yet delivered. A volunteer asks
   * for work only after delivering what it held and finishing the run it had in hand ([W-16]),
   * so any of these left at its first request after reconnecting is one it no longer holds
   * (e.g. a queued lease it dropped on the disconnect): released then, not at its deadline.
   */
  private readonly orphans = new Map<PeerId, Set<LeaseId>>();
  private counter = 0;

  /**
   * @param forgotten Told of a retired lease dropped to keep within MAX_RETIRED_LEASES, so that
   * storage forgets it too ([S-1]).
   */
  constructor(private readonly forgotten: (id: LeaseId) => void) {}

  /** Leases out now. */
  get size(): number {
    return this.live.size;
  }

  get(id: LeaseId): LeaseState | undefined {
    return this.live.get(id);
  }

  values(): IterableIterator<LeaseState> {
    return this.live.values();
  }

  retiredLease(id: LeaseId): RetiredLease | undefined {
    return this.retired.get(id);
  }

  /** Whether the id belongs to a lease out now or one remembered after it ended. */
  known(id: LeaseId): boolean {
    return this.live.has(id) || this.retired.has(id);
  }

  /** A fresh lease id. After a reload the counter starts again: never reuse an id a restored lease still has. */
  newId(rng: Rng): LeaseId {
    let id = `l${(++this.counter).toString(36)}${randomTag(rng, 4)}` as LeaseId;
    while (this.known(id)) id = `l${(++this.counter).toString(36)}${randomTag(rng, 4)}` as LeaseId;
    return id;
  }

  add(lease: LeaseState): void {
    this.live.set(lease.id, lease);
  }

  /** Takes a live lease out (and off its volunteer's orphans, [S-4]). */
  remove(lease: LeaseState): void {
    this.live.delete(lease.id);
    if (this.orphans.size > 0) {
      const orphans = this.orphans.get(lease.volunteer);
      if (orphans?.delete(lease.id) && orphans.size === 0) this.orphans.delete(lease.volunteer);
    }
  }

  /** [L-3] Remembers an ended lease (up to MAX_RETIRED_LEASES, oldest forgotten first). */
  retire(leaseId: LeaseId, retired: RetiredLease): void {
    this.retired.set(leaseId, retired);
    if (this.retired.size > MAX_RETIRED_LEASES) {
      const oldest = this.retired.keys().next().value;
      if (oldest !== undefined) {
        this.retired.delete(oldest);
        this.forgotten(oldest);
      }
    }
  }

  /** No late result is wanted from this lease any more. */
  forgetRetired(leaseId: LeaseId): void {
    this.retired.delete(leaseId);
  }

  /** [S-4] A restored live lease its volunteer has yet to deliver or drop. */
  addOrphan(volunteer: PeerId, leaseId: LeaseId): void {
    let orphans = this.orphans.get(volunteer);
    if (!orphans) this.orphans.set(volunteer, (orphans = new Set()));
    orphans.add(leaseId);
  }

  /** [S-4] The volunteer's restored leases not yet delivered, forgotten as orphans from now on. */
  takeOrphans(volunteer: PeerId): Set<LeaseId> | undefined {
    const orphans = this.orphans.size > 0 ? this.orphans.get(volunteer) : undefined;
    if (orphans) this.orphans.delete(volunteer);
    return orphans;
  }

  /** [S-1] How a lease, live or retired, is stored; null when it is gone (storage forgets it). */
  record(id: LeaseId, shards: { shardById(id: ShardId): ShardState | undefined }): LeaseRecord | null {
    const live = this.live.get(id);
    const retired = live ? undefined : this.retired.get(id);
    const shard = live?.shard ?? (retired && shards.shardById(retired.shardId));
    const r = live ?? retired;
    if (!r || !shard) return null;
    return {
      id,
      jobId: shard.jobId,
      shardIndex: shard.index,
      volunteer: r.volunteer,
      issuedAtMs: r.issuedAtMs,
      deadlineMs: r.deadlineMs,
      canary: r.canary,
      epoch: r.epoch,
      retired: !live,
    };
  }
}
