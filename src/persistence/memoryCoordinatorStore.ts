/**
 * A coordinator's storage held in memory, for tests of the hosts: it keeps the promises of
 * `CoordinatorStorage` (coordinatorStorage.ts) that the host can tell — a record is copied when
 * the write is called, so later changes to the core's state do not reach what was stored; a
 * shard's write returns the epoch it holds; `persist` stores only open shards and forgets the
 * leases it names — without pieces, upgrades or durability, which only the stores on disk have to
 * get right.
 *
 * Several stores (networks, or a "reloaded" coordinator) may share one `MemoryCoordinatorData`,
 * as tabs share one IndexedDB database: what one wrote, a new store over the same data reads.
 */
import { clampJobLimits, DEFAULT_JOB_LIMITS, type JobLimits } from '../core/jobChecks.ts';
import type { JobRecord, ShardState } from '../core/coordinator/state.ts';
import type { JobId, ModelHash } from '../protocol/ids.ts';
import { peerRecord, shardRecord, type CoordinatorStorage, type PersistBatch } from './coordinatorStorage.ts';
import type { StoredJob, StoredLease, StoredPeer, StoredShard } from './records.ts';

/** What one "database" holds; keys that are only unique within a network carry it. */
export class MemoryCoordinatorData {
  readonly jobs = new Map<JobId, StoredJob>();
  /** By job, then shard index. */
  readonly shards = new Map<JobId, Map<number, StoredShard>>();
  /** By `network/lease id`. */
  readonly leases = new Map<string, StoredLease>();
  /** By `network/peer id`. */
  readonly peers = new Map<string, StoredPeer>();
  readonly models = new Map<ModelHash, ArrayBuffer>();
  /** By `setting:network`. */
  readonly settings = new Map<string, unknown>();
}

const inNetwork = (networkId: string, id: string): string => `${networkId}/${id}`;

export class MemoryCoordinatorStore implements CoordinatorStorage {
  constructor(
    private readonly networkId: string,
    private readonly data: MemoryCoordinatorData = new MemoryCoordinatorData(),
  ) {}

  putJob(job: JobRecord): Promise<void> {
    this.data.jobs.set(job.id, structuredClone({ networkId: this.networkId, job }));
    return Promise.resolve();
  }

  putShard(jobId: JobId, shard: ShardState): Promise<number> {
    const record = structuredClone(shardRecord(jobId, shard));
    this.shardsOf(jobId).set(record.index, record);
    return Promise.resolve(record.epoch ?? 0);
  }

  persist(batch: PersistBatch, nowMs: number): Promise<void> {
    const open = batch.openShards.filter((s) => s.status === 'open').map((s) => structuredClone(shardRecord(s.jobId, s)));
    for (const l of batch.leases) this.data.leases.set(inNetwork(this.networkId, l.id), structuredClone({ ...l, networkId: this.networkId }));
    for (const id of batch.forgetLeases) this.data.leases.delete(inNetwork(this.networkId, id));
    for (const p of batch.peers) this.data.peers.set(inNetwork(this.networkId, p.peerId), structuredClone(peerRecord(this.networkId, p, nowMs)));
    for (const r of open) this.shardsOf(r.jobId).set(r.index, r);
    return Promise.resolve();
  }

  putModel(hash: ModelHash, bytes: ArrayBuffer): Promise<void> {
    this.data.models.set(hash, bytes.slice(0));
    return Promise.resolve();
  }

  loadModel(hash: ModelHash): Promise<ArrayBuffer | null> {
    return Promise.resolve(this.data.models.get(hash)?.slice(0) ?? null);
  }

  loadJobs(): Promise<StoredJob[]> {
    return Promise.resolve([...this.data.jobs.values()].filter((j) => j.networkId === this.networkId).map((j) => structuredClone(j)));
  }

  loadShards(jobId: JobId): Promise<StoredShard[]> {
    return Promise.resolve([...(this.data.shards.get(jobId)?.values() ?? [])].map((s) => structuredClone(s)));
  }

  loadLeases(): Promise<StoredLease[]> {
    return Promise.resolve([...this.data.leases.values()].filter((l) => l.networkId === this.networkId).map((l) => structuredClone(l)));
  }

  loadPeers(): Promise<StoredPeer[]> {
    return Promise.resolve([...this.data.peers.values()].filter((p) => p.networkId === this.networkId).map((p) => structuredClone(p)));
  }

  requesterKey(generate: () => string): Promise<string> {
    const key = `requesterKey:${this.networkId}`;
    const stored = this.data.settings.get(key);
    if (typeof stored === 'string' && stored !== '') return Promise.resolve(stored);
    const fresh = generate();
    this.data.settings.set(key, fresh);
    return Promise.resolve(fresh);
  }

  jobLimits(): Promise<JobLimits> {
    const stored = this.data.settings.get(`jobLimits:${this.networkId}`);
    return Promise.resolve(stored === undefined ? DEFAULT_JOB_LIMITS : clampJobLimits(stored as Partial<Record<keyof JobLimits, unknown>>));
  }

  putJobLimits(limits: Partial<Record<keyof JobLimits, unknown>>): Promise<JobLimits> {
    const clean = clampJobLimits(limits);
    this.data.settings.set(`jobLimits:${this.networkId}`, { ...clean });
    return Promise.resolve(clean);
  }

  private shardsOf(jobId: JobId): Map<number, StoredShard> {
    let byIndex = this.data.shards.get(jobId);
    if (!byIndex) this.data.shards.set(jobId, (byIndex = new Map()));
    return byIndex;
  }
}
