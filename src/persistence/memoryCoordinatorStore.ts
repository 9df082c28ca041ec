/**
 * A coordinator's storage held in memory, for tests of the hosts: it behaves as `CoordinatorStore`
 * does over IndexedDB where the host can tell ([S-1], [S-2]) — a record is copied when the write
 * starts, so later changes to the core's state do not reach what was stored; a shard's write
 * returns the epoch it holds; `persist` stores only open shards and forgets the leases it names —
 * without pieces, upgrades or durability, which only the IndexedDB store has to get right.
 */
import type { JobRecord, ShardState } from '../core/coordinator/state.ts';
import type { JobId, LeaseId, ModelHash } from '../protocol/ids.ts';
import { shardRecord, type CoordinatorStorage, type PersistBatch } from './coordinatorStore.ts';
import type { StoredJob, StoredLease, StoredPeer, StoredShard } from './records.ts';

export class MemoryCoordinatorStore implements CoordinatorStorage {
  private readonly jobs = new Map<JobId, StoredJob>();
  /** By job, then shard index. */
  private readonly shards = new Map<JobId, Map<number, StoredShard>>();
  private readonly leases = new Map<LeaseId, StoredLease>();
  private readonly peers = new Map<string, StoredPeer>();
  private readonly models = new Map<ModelHash, ArrayBuffer>();

  constructor(private readonly networkId: string) {}

  putJob(job: JobRecord): Promise<void> {
    this.jobs.set(job.id, structuredClone({ networkId: this.networkId, job }));
    return Promise.resolve();
  }

  putShard(jobId: JobId, shard: ShardState): Promise<number> {
    const record = structuredClone(shardRecord(jobId, shard));
    this.shardsOf(jobId).set(record.index, record);
    return Promise.resolve(record.epoch ?? 0);
  }

  persist(batch: PersistBatch, nowMs: number): Promise<void> {
    // Taken before anything else, as the IndexedDB store takes them before its first await.
    const open = batch.openShards.filter((s) => s.status === 'open').map((s) => structuredClone(shardRecord(s.jobId, s)));
    for (const l of batch.leases) this.leases.set(l.id, structuredClone({ ...l, networkId: this.networkId }));
    for (const id of batch.forgetLeases) this.leases.delete(id);
    for (const p of batch.peers) {
      const record: StoredPeer = {
        networkId: this.networkId,
        peerId: p.peerId,
        token: p.token,
        reputation: p.reputation,
        standing: p.standing,
        updatedAtMs: nowMs,
      };
      this.peers.set(p.peerId, structuredClone(record));
    }
    for (const r of open) this.shardsOf(r.jobId).set(r.index, r);
    return Promise.resolve();
  }

  putModel(hash: ModelHash, bytes: ArrayBuffer): Promise<void> {
    this.models.set(hash, bytes.slice(0));
    return Promise.resolve();
  }

  loadModel(hash: ModelHash): Promise<ArrayBuffer | null> {
    return Promise.resolve(this.models.get(hash)?.slice(0) ?? null);
  }

  loadJobs(): Promise<StoredJob[]> {
    return Promise.resolve([...this.jobs.values()].map((j) => structuredClone(j)));
  }

  loadShards(jobId: JobId): Promise<StoredShard[]> {
    return Promise.resolve([...(this.shards.get(jobId)?.values() ?? [])].map((s) => structuredClone(s)));
  }

  loadLeases(): Promise<StoredLease[]> {
    return Promise.resolve([...this.leases.values()].map((l) => structuredClone(l)));
  }

  loadPeers(): Promise<StoredPeer[]> {
    return Promise.resolve([...this.peers.values()].map((p) => structuredClone(p)));
  }

  private shardsOf(jobId: JobId): Map<number, StoredShard> {
    let byIndex = this.shards.get(jobId);
    if (!byIndex) this.shards.set(jobId, (byIndex = new Map()));
    return byIndex;
  }
}
