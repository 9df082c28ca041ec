/**
 * A requester tab's own jobs and their verified results, per network, so that a reload (or a
 * crash) loses neither: the job list comes back, results already fetched are shown and exportable
 * at once, and jobs still running are followed and fetched from the coordinator as before.
 *
 * Shards are written one record each: a put copies its value on the page's thread, so one
 * shard at a time keeps the page answering (shard results are bounded by [J-5]'s budget).
 */
import type { JobId } from '../protocol/ids.ts';
import type { VerifiedShard } from '../protocol/messages.ts';
import type { SignedReceipt } from '../protocol/receipt.ts';
import type { QuorumDb } from './db.ts';
import type { StoredRequesterJob } from './records.ts';

/** What the requester host needs of its storage. */
export interface RequesterStorage {
  putJob(job: Omit<StoredRequesterJob, 'networkId'>): Promise<void>;
  /** Stores a job's verified shards, then marks the job as having them. */
  putResults(jobId: JobId, items: number, shards: readonly VerifiedShard[], itemNames: readonly string[] | undefined, receipt?: SignedReceipt): Promise<void>;
  loadJobs(): Promise<StoredRequesterJob[]>;
  loadResults(jobId: JobId): Promise<VerifiedShard[]>;
}

export class RequesterStore implements RequesterStorage {
  constructor(
    private readonly db: QuorumDb,
    private readonly networkId: string,
  ) {}

  async putJob(job: Omit<StoredRequesterJob, 'networkId'>): Promise<void> {
    await this.db.put('requesterJobs', { ...job, networkId: this.networkId });
  }

  async putResults(
    jobId: JobId,
    items: number,
    shards: readonly VerifiedShard[],
    itemNames: readonly string[] | undefined,
    receipt?: SignedReceipt,
  ): Promise<void> {
    for (const shard of shards) await this.db.put('requesterShards', { networkId: this.networkId, jobId, index: shard.index, shard });
    const job = await this.db.get('requesterJobs', [this.networkId, jobId]);
    if (!job) return;
    await this.db.put('requesterJobs', {
      ...job,
      results: { items, shards: shards.length, ...(itemNames ? { itemNames } : {}), ...(receipt ? { receipt } : {}) },
    });
  }

  /** This network's jobs, oldest first. */
  async loadJobs(): Promise<StoredRequesterJob[]> {
    const jobs = await this.db.getAllFromIndex('requesterJobs', 'byNetwork', this.networkId);
    return jobs.sort((a, b) => a.acceptedAtMs - b.acceptedAtMs);
  }

  /**
   * A job's stored shards in index order; [] unless all the shards its record counts are there
   * (a write cut short by a reload is fetched again rather than shown half).
   */
  async loadResults(jobId: JobId): Promise<VerifiedShard[]> {
    const job = await this.db.get('requesterJobs', [this.networkId, jobId]);
    if (!job?.results) return [];
    const rows = await this.db.getAllFromIndex('requesterShards', 'byJob', [this.networkId, jobId]);
    if (rows.length !== job.results.shards) return [];
    return rows.sort((a, b) => a.index - b.index).map((r) => r.shard);
  }
}
