/**
 * A coordinator's jobs, shard outcomes, leases and volunteer ids, per network ([S-1]).
 *
 * Accepted results are written with strict durability ([S-2]); leases, volunteer ids and the
 * replicas of open shards go in relaxed batches: losing the last batch in a crash costs repeated
 * work, never a result that was counted.
 *
 * A job's inputs are written in pieces of at most `pieceBytes`, one transaction each, and its
 * record last. IndexedDB copies a value on the calling thread when `put` is called (about 1.5 ms
 * per MB here): one 62 MB put held the coordinator's main thread for 70-100 ms, while volunteers
 * waited for their next lease. In pieces, the page answers them between two puts.
 */
import type { JobRecord, LeaseRecord, PeerRecord, ShardState } from '../core/coordinator/state.ts';
import type { JobId, LeaseId, ModelHash } from '../protocol/ids.ts';
import type { QuorumDb } from './db.ts';
import type { StoredJob, StoredJobPiece, StoredLease, StoredPeer, StoredShard } from './records.ts';

/** The most input bytes one put copies (and so blocks the page for, a few ms). */
export const JOB_PIECE_BYTES = 4 * 1024 * 1024;

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
    private readonly pieceBytes: number = JOB_PIECE_BYTES,
  ) {}

  /**
   * The inputs' pieces first, each in its own transaction, then the record: a job whose record is
   * stored has all its pieces ([S-2]: a shard is stored only after its job). Pieces left by a write
   * that never reached its record are removed by `loadJobs`.
   */
  async putJob(job: JobRecord): Promise<void> {
    const inputPieces: number[] = [];
    for (const [input, tensor] of job.inputs.entries()) {
      const total = tensor.data.byteLength;
      const pieces = Math.max(1, Math.ceil(total / this.pieceBytes));
      for (let piece = 0; piece < pieces; piece++) {
        // A slice, not a view: IndexedDB would copy a view's whole buffer.
        const bytes = tensor.data.slice(piece * this.pieceBytes, Math.min(total, (piece + 1) * this.pieceBytes));
        await this.db.put('jobPieces', { networkId: this.networkId, jobId: job.id, input, piece, bytes });
      }
      inputPieces.push(pieces);
    }
    const inputs = job.inputs.map((t) => ({ ...t, data: new ArrayBuffer(0) }));
    await this.db.put('jobs', { networkId: this.networkId, job: { ...job, inputs }, inputPieces });
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

  /**
   * This network's jobs with their inputs put back together. A job whose pieces do not add up to
   * its inputs is left out (and reported on the console): restoring it would lease garbage.
   */
  async loadJobs(): Promise<StoredJob[]> {
    const stored = await this.db.getAllFromIndex('jobs', 'byNetwork', this.networkId);
    await this.removeOrphanPieces();
    const out: StoredJob[] = [];
    for (const record of stored) {
      const job = await this.withInputs(record);
      if (job) out.push({ networkId: record.networkId, job });
    }
    return out;
  }

  private async withInputs(record: StoredJob): Promise<JobRecord | null> {
    const { job, inputPieces } = record;
    if (inputPieces === undefined) return job; // stored before v3: inline
    const inputs = [];
    for (const [input, tensor] of job.inputs.entries()) {
      const range = IDBKeyRange.bound([job.id, input, 0], [job.id, input, Infinity]);
      const pieces: StoredJobPiece[] = await this.db.getAll('jobPieces', range);
      const expected = inputPieces[input] ?? -1;
      const total = pieces.reduce((n, p) => n + p.bytes.byteLength, 0);
      if (pieces.length !== expected || pieces.some((p, i) => p.piece !== i)) {
        console.warn(`[store] job ${job.id}: input "${tensor.name}" has ${pieces.length} of its ${expected} stored pieces; not restored`);
        return null;
      }
      const data = new Uint8Array(total);
      let at = 0;
      for (const p of pieces) {
        data.set(new Uint8Array(p.bytes), at);
        at += p.bytes.byteLength;
      }
      inputs.push({ ...tensor, data: data.buffer });
    }
    return { ...job, inputs };
  }

  /**
   * This network's pieces whose job has no record (a write cut short by a crash or a full disk).
   * Only this network's: another network's coordinator tab may be writing a job right now, and
   * this one's own writes never run beside this read (the host runs them one after another).
   */
  private async removeOrphanPieces(): Promise<void> {
    const jobs = new Set<string>(await this.db.getAllKeys('jobs'));
    const keys = await this.db.getAllKeysFromIndex('jobPieces', 'byNetwork', this.networkId);
    const orphans = keys.filter(([jobId]) => !jobs.has(jobId));
    if (orphans.length === 0) return;
    const tx = this.db.transaction('jobPieces', 'readwrite');
    await Promise.all([...orphans.map((k) => tx.store.delete(k)), tx.done]);
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
