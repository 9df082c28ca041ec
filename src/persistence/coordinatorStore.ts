/** A coordinator's jobs and shard outcomes, per network. */
import type { JobRecord, ShardState } from '../core/coordinator/state.ts';
import type { JobId, ModelHash } from '../protocol/ids.ts';
import type { QuorumDb } from './db.ts';
import type { StoredJob, StoredShard } from './records.ts';

export class CoordinatorStore {
  constructor(
    private readonly db: QuorumDb,
    private readonly networkId: string,
  ) {}

  async putJob(job: JobRecord): Promise<void> {
    await this.db.put('jobs', { networkId: this.networkId, job });
  }

  /** Written with strict durability: an accepted result must survive a crash once acknowledged. */
  async putShard(jobId: JobId, shard: ShardState): Promise<void> {
    const record: StoredShard = {
      jobId,
      index: shard.index,
      status: shard.status,
      disagreements: shard.disagreements,
      accepted: shard.accepted,
    };
    const tx = this.db.transaction('shards', 'readwrite', { durability: 'strict' });
    await Promise.all([tx.store.put(record), tx.done]);
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
}
