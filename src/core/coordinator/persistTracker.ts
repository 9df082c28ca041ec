/**
 * [S-1] What changed since the coordinator last asked its host to persist: leases issued, ended
 * or answered, volunteer ids whose token or standing changed, and open shards with new replicas.
 * Kept apart from the coordinator because it only records ids as things change and, once per
 * batch, reads the current state back into one `persist` effect; it decides nothing.
 */
import type { LeaseId, PeerId } from '../../protocol/ids.ts';
import type { ReputationBook } from '../reputation/reputation.ts';
import type { CoordinatorEffect } from './effects.ts';
import type { JobBook } from './jobBook.ts';
import type { LeaseBook } from './leaseBook.ts';
import { standingOf } from './peerFacts.ts';
import type { LeaseRecord, PeerRecord, PeerState, ShardState, Standing } from './state.ts';

type PersistEffect = Extract<CoordinatorEffect, { kind: 'persist' }>;

/** The coordinator state a batch is read from (never written). */
export interface PersistSources {
  readonly reputation: ReputationBook;
  readonly leases: LeaseBook;
  readonly jobs: JobBook;
  readonly peers: ReadonlyMap<PeerId, PeerState>;
  /** [I-1] Resume tokens of every welcomed volunteer id. */
  readonly tokens: ReadonlyMap<PeerId, string>;
  /** [I-1] Standing of volunteers not connected now. */
  readonly standing: ReadonlyMap<PeerId, Standing>;
}

export class PersistTracker {
  private readonly leases = new Set<LeaseId>();
  private readonly peers = new Set<PeerId>();
  private readonly openShards = new Set<ShardState>();

  constructor(private readonly from: PersistSources) {}

  leaseChanged(id: LeaseId): void {
    this.leases.add(id);
  }

  peerChanged(id: PeerId): void {
    this.peers.add(id);
  }

  /** An open shard's replicas changed: they go to storage with the next batch. */
  openShardChanged(shard: ShardState): void {
    this.openShards.add(shard);
  }

  /** [S-1] Leases issued, ended or answered since the last `persist` effect. */
  hasUnsavedLeases(): boolean {
    return this.leases.size > 0;
  }

  /** [S-1] What a restore put back (reputation, open shards' replicas) is not written back. */
  discardRestored(): void {
    this.from.reputation.takeDirty();
    this.openShards.clear();
  }

  /**
   * [S-1] One `persist` effect with every lease, volunteer id and open shard changed since the
   * last, or null when nothing did. `withPeers` false leaves volunteer ids for a later batch.
   */
  collect(withPeers = true): PersistEffect | null {
    const { reputation, leases: leaseBook, jobs, peers: livePeers, tokens, standing: standingById } = this.from;
    const peerIds = withPeers ? reputation.takeDirty() : [];
    if (withPeers) {
      for (const id of this.peers) peerIds.push(id);
      this.peers.clear();
    }
    if (this.leases.size === 0 && peerIds.length === 0 && this.openShards.size === 0) return null;
    const leases: LeaseRecord[] = [];
    const forgetLeases: LeaseId[] = [];
    for (const id of this.leases) {
      const record = leaseBook.record(id, jobs);
      if (record) leases.push(record);
      else forgetLeases.push(id);
    }
    this.leases.clear();
    const peers: PeerRecord[] = [];
    for (const id of new Set(peerIds)) {
      const token = tokens.get(id);
      if (token === undefined) continue; // only volunteers that were welcomed have an id to keep
      const p = livePeers.get(id);
      const standing = p && p.role === 'volunteer' ? standingOf(p) : (standingById.get(id) ?? { shardsAccepted: 0, resultsReturned: 0, resultsRejected: 0 });
      peers.push({ peerId: id, token, reputation: reputation.snapshot(id) ?? null, standing });
    }
    const openShards = [...this.openShards].filter((s) => s.status === 'open');
    this.openShards.clear();
    return { kind: 'persist', leases, forgetLeases, peers, openShards };
  }
}
