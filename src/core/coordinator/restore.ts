/**
 * [S-1] Putting stored shards and leases back after a reload. Apart from the coordinator because
 * this is the only code that writes its state from storage records rather than from events: it
 * rebuilds what the books (jobBook, leaseBook, judgement) would hold had the events happened,
 * and decides nothing. Settling what the restore leaves (quorums already reached) is the
 * coordinator's, since that is a decision.
 */
import type { JobId } from '../../protocol/ids.ts';
import type { JobBook } from './jobBook.ts';
import type { Judgement } from './judgement.ts';
import type { LeaseBook } from './leaseBook.ts';
import type { PersistTracker } from './persistTracker.ts';
import type { AcceptedResult, LeaseRecord, LeaseState, Replica, ShardState } from './state.ts';

/** The books a restore writes into. */
export interface RestoreTarget {
  readonly jobs: JobBook;
  readonly leases: LeaseBook;
  readonly judgement: Judgement;
  readonly persistence: PersistTracker;
}

/** See CoordinatorCore.restoreShard. */
export function restoreShardInto(
  to: RestoreTarget,
  jobId: JobId,
  index: number,
  status: ShardState['status'],
  accepted: AcceptedResult | null,
  disagreements: number,
  more: { readonly replicas?: readonly Replica[] | undefined; readonly epoch?: number | undefined },
): void {
  const shard = to.jobs.shard(jobId, index);
  if (!shard) return;
  if (more.epoch !== undefined) shard.epoch = Math.max(shard.epoch, more.epoch);
  if (more.replicas && shard.replicas.length === 0) {
    for (const r of more.replicas) {
      if (shard.replicas.some((x) => x.volunteer === r.volunteer)) continue;
      shard.replicas.push(r);
      to.judgement.contributed(r.volunteer, shard); // so a quarantine can still re-verify it
    }
    to.jobs.syncInFlight(shard);
  }
  if (status === 'open') return;
  if (status === 'verified' && !accepted) return;
  to.jobs.restoreOutcome(shard, status, accepted, disagreements);
}

/** See CoordinatorCore.restoreLease. */
export function restoreLeaseInto(to: RestoreTarget, record: LeaseRecord, now: number): void {
  const shard = to.jobs.shard(record.jobId, record.shardIndex);
  if (!shard) {
    to.persistence.leaseChanged(record.id); // its job is gone: forget it
    return;
  }
  if (to.leases.known(record.id)) return;
  const live = !record.retired && record.deadlineMs > now && (record.canary || shard.status === 'open');
  if (!live) {
    to.leases.retire(record.id, {
      shardId: shard.id,
      volunteer: record.volunteer,
      issuedAtMs: record.issuedAtMs,
      deadlineMs: record.deadlineMs,
      canary: record.canary,
      epoch: record.epoch,
    });
    if (!record.retired) to.persistence.leaseChanged(record.id);
    return;
  }
  const lease: LeaseState = {
    id: record.id,
    shardId: shard.id,
    shard,
    volunteer: record.volunteer,
    issuedAtMs: record.issuedAtMs,
    deadlineMs: record.deadlineMs,
    canary: record.canary,
    epoch: record.epoch,
  };
  // Not attached to a peer: its volunteer is not connected now. It ends when its volunteer
  // delivers, at its deadline, or at that volunteer's next lease request ([S-4]).
  to.leases.add(lease);
  to.leases.addOrphan(record.volunteer, lease.id);
  if (record.canary) {
    to.judgement.canaryServed(record.volunteer, shard.id); // [C-1]
  } else {
    shard.leases.add(lease.id);
    to.jobs.syncInFlight(shard);
  }
}
