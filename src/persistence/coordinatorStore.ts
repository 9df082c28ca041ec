/**
 * A coordinator's jobs, shard outcomes, leases and volunteer ids, per network ([S-1]).
 *
 * Accepted results are written with strict durability ([S-2]); leases, volunteer ids and the
 * replicas of open shards go in relaxed batches: losing the last batch in a crash costs repeated
 * work, never a result that was counted.
 */
import type { JobRecord, LeaseRecord, PeerRecord, ShardState } from '../core/coordinator/state.ts';
import type { JobId, LeaseId, ModelHash } from '../protocol/ids.ts';
import type { QuorumDb } from './db.ts';
import type { StoredJob, StoredLease, StoredPeer, StoredShard } from './records.ts';

/** [S-1] One batch of the core's `persist` effect. */
export interface PersistBatch {
  readonly leases: readonly LeaseRecord[];
  readonly forgetLeases: readonly LeaseId[];
  readonly peers: readonly PeerRecord[];
  readonly openShards: readonly ShardState[];
}

/** What the coordinator host needs of its storage (a failing stand-in replaces it when IndexedDB is missing). */
export type CoordinatorStorage = Pick<
  CoordinatorStore,
  'putJob' | 'putShard' | 'putModel' | 'persist' | 'loadModel' | 'loadJobs' | 'loadShards' | 'loadLeases' | 'loadPeers'
>;

/** The stored form of a shard as it stands now. */
export function shardRecord(jobId: JobId, shard: ShardState): StoredShard {
  return {
    jobId,
    index: shard.index,
    status: shard.status,
    disagreements: shard.disagreements,
    accepted: shard.accepted,
    replicas: [...shard.replicas],
    epoch: shard.epoch,
  };
}

export class CoordinatorStore {
  constructor(
    private readonly db: QuorumDb,
    private readonly networkId: string,
  ) {}

  async putJob(job: JobRecord): Promise<void> {
    await this.db.put('jobs', { networkId: this.networkId, job });
  }

  /**
   * Written with strict durability: an accepted result must survive a crash once counted. The
   * record is taken when the write starts; returns the epoch it holds ([S-2]).
   */
  async putShard(jobId: JobId, shard: ShardState): Promise<number> {
    const record = shardRecord(jobId, shard);
    const tx = this.db.transaction('shards', 'readwrite', { durability: 'strict' });
    await Promise.all([tx.store.put(record), tx.done]);
    return record.epoch ?? 0;
  }

  /** [S-1] One relaxed transaction for a batch of leases, volunteer ids and open shards. */
  async persist(batch: PersistBatch, nowMs: number): Promise<void> {
    const tx = this.db.transaction(['leases', 'peers', 'shards'], 'readwrite', { durability: 'relaxed' });
    const leases = tx.objectStore('leases');
    const peers = tx.objectStore('peers');
    const shards = tx.objectStore('shards');
    const ops: Promise<unknown>[] = [];
    for (const l of batch.leases) ops.push(leases.put({ ...l, networkId: this.networkId }));
    for (const id of batch.forgetLeases) ops.push(leases.delete(id));
    for (const p of batch.peers) {
      const record: StoredPeer = { networkId: this.networkId, peerId: p.peerId, token: p.token, reputation: p.reputation, standing: p.standing, updatedAtMs: nowMs };
      ops.push(peers.put(record));
    }
    // Only open shards: a decided one is written (strictly) by its own `store-shard`.
    for (const s of batch.openShards) if (s.status === 'open') ops.push(shards.put(shardRecord(s.jobId, s)));
    ops.push(tx.done);
    await Promise.all(ops);
  }

  async putModel(hash: ModelHash, bytes: ArrayBuffer, nowMs: number): Promise<void> {
    await this.db.put('models', { hash, bytes, storedAtMs: nowMs });
  }

  async loadModel(hash: ModelHash): Promise<ArrayBuffer | null> {
    return (await this.db.get('models', hash))?.bytes ?? null;
  }

  async loadJobs(): Promise<StoredJob[]> {
    return this.db.getAllFromIndex('jobs', 'byNetwork', this.networkId);
  }

  async loadShards(jobId: JobId): Promise<StoredShard[]> {
    return this.db.getAllFromIndex('shards', 'byJob', jobId);
  }

  async loadLeases(): Promise<StoredLease[]> {
    return this.db.getAllFromIndex('leases', 'byNetwork', this.networkId);
  }

  async loadPeers(): Promise<StoredPeer[]> {
    return this.db.getAllFromIndex('peers', 'byNetwork', this.networkId);
  }
}

/** [S-3] Storage for a tab where IndexedDB could not be opened: every call fails with `reason`. */
export function unavailableStorage(reason: string): CoordinatorStorage {
  const fail = (): Promise<never> => Promise.reject(new Error(reason));
  return { putJob: fail, putShard: fail, putModel: fail, persist: fail, loadModel: fail, loadJobs: fail, loadShards: fail, loadLeases: fail, loadPeers: fail };
}
