/**
 * A coordinator's jobs, shard outcomes, leases and volunteer ids, per network ([S-1]).
 *
 * Accepted results are written with strict durability ([S-2]); leases, volunteer ids and the
 * replicas of open shards go in relaxed batches: losing the last batch in a crash costs repeated
 * work, never a result that was counted.
 *
 * A job's inputs (and a job of files' files, end to end) are written in pieces of at most
 * `pieceBytes`, one transaction each, and its record last. IndexedDB copies a value on the calling thread when `put` is called (about 1.5 ms
 * per MB here): one 62 MB put held the coordinator's main thread for 70-100 ms, while volunteers
 * waited for their next lease. In pieces, the page answers them between two puts.
 *
 * Shard results larger than one piece are written the same way (v4): two 106 MB replicas in one
 * put made Chromium abort the write ("AbortError … Free disk space", with 75 GB free) and the job
 * stuck. Each write of a shard puts its pieces under a fresh tag, then the record that names the
 * tag, and removes the shard's pieces of any other tag in the record's transaction: a stored
 * record always has its pieces, and a write cut short leaves only pieces that nothing names,
 * removed when the job's shards are next loaded.
 */
import type { JobLimits } from '../core/jobChecks.ts';
import type { JobRecord, ShardState } from '../core/coordinator/state.ts';
import type { JobId, ModelHash } from '../protocol/ids.ts';
import { peerRecord, shardRecord, type CoordinatorStorage, type PersistBatch } from './coordinatorStorage.ts';
import type { QuorumDb } from './db.ts';
import type { StoredJob, StoredJobPiece, StoredLease, StoredPeer, StoredShard, StoredShardPiece } from './records.ts';
import { joinShard, splitShard } from './shardPieceLayout.ts';
import { SettingsStore } from './settingsStore.ts';

/** The most input or output bytes one put copies (and so blocks the page for, a few ms). */
export const JOB_PIECE_BYTES = 4 * 1024 * 1024;

/** `delete` on the `shardPieces` store of a running transaction. */
type DeletePieces = (range: IDBKeyRange) => Promise<unknown>;

export class CoordinatorStore implements CoordinatorStorage {
  private readonly settings: SettingsStore;

  constructor(
    private readonly db: QuorumDb,
    private readonly networkId: string,
    private readonly pieceBytes: number = JOB_PIECE_BYTES,
  ) {
    this.settings = new SettingsStore(db);
  }

  /**
   * The inputs' pieces first, each in its own transaction, then the record: a job whose record is
   * stored has all its pieces ([S-2]: a shard is stored only after its job). Pieces left by a write
   * that never reached its record are removed by `loadJobs`.
   */
  async putJob(job: JobRecord): Promise<void> {
    const inputPieces: number[] = [];
    for (const [input, tensor] of job.inputs.entries()) inputPieces.push(await this.putPieces(job.id, input, tensor.data));
    const inputs = job.inputs.map((t) => ({ ...t, data: new ArrayBuffer(0) }));
    if (!job.files) {
      await this.db.put('jobs', { networkId: this.networkId, job: { ...job, inputs }, inputPieces });
      return;
    }
    // [J-7] A job's files, end to end, as one more "input" after its tensors: thousands of small
    // files then cost a few puts, not one each. Their sizes cut them apart again on load.
    const fileSizes = job.files.map((f) => f.bytes.byteLength);
    const joined = new Uint8Array(fileSizes.reduce((a, b) => a + b, 0));
    let at = 0;
    for (const f of job.files) {
      joined.set(new Uint8Array(f.bytes), at);
      at += f.bytes.byteLength;
    }
    const filePieces = await this.putPieces(job.id, job.inputs.length, joined.buffer);
    const files = job.files.map((f) => ({ name: f.name, bytes: new ArrayBuffer(0) }));
    await this.db.put('jobs', { networkId: this.networkId, job: { ...job, inputs, files }, inputPieces, filePieces, fileSizes });
  }

  /** `data` as pieces of at most `pieceBytes` under [job, input, piece], each put on its own; returns their count. */
  private async putPieces(jobId: JobId, input: number, data: ArrayBuffer): Promise<number> {
    const total = data.byteLength;
    const pieces = Math.max(1, Math.ceil(total / this.pieceBytes));
    for (let piece = 0; piece < pieces; piece++) {
      // A slice, not a view: IndexedDB would copy a view's whole buffer.
      const bytes = data.slice(piece * this.pieceBytes, Math.min(total, (piece + 1) * this.pieceBytes));
      await this.db.put('jobPieces', { networkId: this.networkId, jobId, input, piece, bytes });
    }
    return pieces;
  }

  /**
   * Written with strict durability: an accepted result must survive a crash once counted. The
   * record is taken when the write starts; returns the epoch it holds ([S-2]).
   */
  async putShard(jobId: JobId, shard: ShardState): Promise<number> {
    const taken = shardRecord(jobId, shard);
    // Pieces strictly too: the record's strict write vouches for them ([S-2]).
    const record = await this.putShardPieces(taken, 'strict');
    const tx = this.db.transaction(['shards', 'shardPieces'], 'readwrite', { durability: 'strict' });
    await Promise.all([tx.objectStore('shards').put(record), ...this.dropOtherPieces((r) => tx.objectStore('shardPieces').delete(r), record), tx.done]);
    return record.epoch ?? 0;
  }

  /**
   * Writes `record`'s output bytes in pieces under a tag no piece of its shard has yet, each in
   * its own transaction; returns the record to store. A record whose outputs fit in one piece is
   * returned as it is (inline).
   */
  private async putShardPieces(record: StoredShard, durability: 'strict' | 'relaxed'): Promise<StoredShard> {
    const { jobId, index } = record;
    const keys = await this.db.getAllKeys('shardPieces', IDBKeyRange.bound([jobId, index], [jobId, index, []]));
    const tag = keys.reduce((max, k) => Math.max(max, k[2]), 0) + 1;
    const split = splitShard(record, tag, this.pieceBytes);
    if (!split) return record;
    let piece = 0;
    for (const bytes of split.pieces()) {
      const tx = this.db.transaction('shardPieces', 'readwrite', { durability });
      const value: StoredShardPiece = { jobId, index, tag, piece: piece++, bytes };
      await Promise.all([tx.store.put(value), tx.done]);
    }
    return split.record;
  }

  /** Deletes, through `del` (in the record's own transaction), of the shard's pieces that `record` does not name: all of them for an inline record. */
  private dropOtherPieces(del: DeletePieces, record: StoredShard): Promise<unknown>[] {
    const { jobId, index } = record;
    const tag = record.pieces?.tag;
    if (tag === undefined) return [del(IDBKeyRange.bound([jobId, index], [jobId, index, []]))];
    // Keys [jobId, index, tag, piece]: below [jobId, index, tag] are smaller tags; above [jobId, index, tag, []], larger ones.
    return [
      del(IDBKeyRange.bound([jobId, index], [jobId, index, tag], false, true)),
      del(IDBKeyRange.bound([jobId, index, tag, []], [jobId, index, []], true, false)),
    ];
  }

  /** [S-1] One relaxed transaction for a batch of leases, volunteer ids and open shards. */
  async persist(batch: PersistBatch, nowMs: number): Promise<void> {
    // Only open shards: a decided one is written (strictly) by its own `store-shard`. Taken now,
    // before the first await, as `putShard` takes its record.
    const taken = batch.openShards.filter((s) => s.status === 'open').map((s) => shardRecord(s.jobId, s));
    const records: StoredShard[] = [];
    for (const r of taken) records.push(await this.putShardPieces(r, 'relaxed'));
    const tx = this.db.transaction(['leases', 'peers', 'shards', 'shardPieces'], 'readwrite', { durability: 'relaxed' });
    const leases = tx.objectStore('leases');
    const peers = tx.objectStore('peers');
    const shards = tx.objectStore('shards');
    const ops: Promise<unknown>[] = [];
    for (const l of batch.leases) ops.push(leases.put({ ...l, networkId: this.networkId }));
    for (const id of batch.forgetLeases) ops.push(leases.delete([this.networkId, id]));
    for (const p of batch.peers) ops.push(peers.put(peerRecord(this.networkId, p, nowMs)));
    for (const r of records) ops.push(shards.put(r), ...this.dropOtherPieces((range) => tx.objectStore('shardPieces').delete(range), r));
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
      const data = await this.loadPieces(job.id, input, inputPieces[input] ?? -1, `input "${tensor.name}"`);
      if (data === null) return null;
      inputs.push({ ...tensor, data });
    }
    if (!job.files) return { ...job, inputs };
    // [J-7] The files, cut apart again by their sizes.
    const sizes = record.fileSizes ?? [];
    const joined = await this.loadPieces(job.id, job.inputs.length, record.filePieces ?? -1, 'its files');
    if (joined === null) return null;
    if (sizes.length !== job.files.length || sizes.reduce((a, b) => a + b, 0) !== joined.byteLength) {
      console.warn(`[store] job ${job.id}: its files' stored bytes do not match their sizes; not restored`);
      return null;
    }
    let at = 0;
    const files = job.files.map((f, i) => {
      const bytes = joined.slice(at, at + (sizes[i] ?? 0));
      at += bytes.byteLength;
      return { name: f.name, bytes };
    });
    return { ...job, inputs, files };
  }

  /** The bytes of `expected` pieces under [job, input], joined; null (and a console warning) when some are missing. */
  private async loadPieces(jobId: JobId, input: number, expected: number, what: string): Promise<ArrayBuffer | null> {
    const range = IDBKeyRange.bound([jobId, input, 0], [jobId, input, Infinity]);
    const pieces: StoredJobPiece[] = await this.db.getAll('jobPieces', range);
    if (pieces.length !== expected || pieces.some((p, i) => p.piece !== i)) {
      console.warn(`[store] job ${jobId}: ${what} has ${pieces.length} of its ${expected} stored pieces; not restored`);
      return null;
    }
    const data = new Uint8Array(pieces.reduce((n, p) => n + p.bytes.byteLength, 0));
    let at = 0;
    for (const p of pieces) {
      data.set(new Uint8Array(p.bytes), at);
      at += p.bytes.byteLength;
    }
    return data.buffer;
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

  /**
   * The job's shards with their outputs put back together. A shard whose pieces do not add up is
   * left out (and reported on the console): it is computed again rather than restored as garbage
   * or as verified without outputs. Pieces that no record names (a write cut short) are removed.
   */
  async loadShards(jobId: JobId): Promise<StoredShard[]> {
    const records = await this.db.getAllFromIndex('shards', 'byJob', jobId);
    await this.removeOrphanShardPieces(jobId, records);
    const out: StoredShard[] = [];
    for (const record of records) {
      const layout = record.pieces;
      if (!layout) {
        out.push(record); // inline: small, or stored before v4
        continue;
      }
      const { index } = record;
      const pieces = await this.db.getAll('shardPieces', IDBKeyRange.bound([jobId, index, layout.tag], [jobId, index, layout.tag, []]));
      const joined = joinShard(record, pieces);
      if (typeof joined === 'string') {
        console.warn(`[store] shard ${index} of job ${jobId}: has ${joined}; not restored, it will be computed again`);
        continue;
      }
      out.push(joined);
    }
    return out;
  }

  private async removeOrphanShardPieces(jobId: JobId, records: readonly StoredShard[]): Promise<void> {
    const named = new Set(records.flatMap((r) => (r.pieces ? [`${r.index}/${r.pieces.tag}`] : [])));
    const keys = await this.db.getAllKeys('shardPieces', IDBKeyRange.bound([jobId], [jobId, []]));
    const orphans = keys.filter(([, index, tag]) => !named.has(`${index}/${tag}`));
    if (orphans.length === 0) return;
    const tx = this.db.transaction('shardPieces', 'readwrite');
    await Promise.all([...orphans.map((k) => tx.store.delete(k)), tx.done]);
  }

  /** Keyed by [networkId, id] since v4 (see db.ts). */
  async loadLeases(): Promise<StoredLease[]> {
    return this.db.getAllFromIndex('leases', 'byNetwork', this.networkId);
  }

  async loadPeers(): Promise<StoredPeer[]> {
    return this.db.getAllFromIndex('peers', 'byNetwork', this.networkId);
  }

  requesterKey(generate: () => string): Promise<string> {
    return this.settings.requesterKey(this.networkId, generate);
  }

  jobLimits(): Promise<JobLimits> {
    return this.settings.jobLimits(this.networkId);
  }

  putJobLimits(limits: Partial<Record<keyof JobLimits, unknown>>): Promise<JobLimits> {
    return this.settings.putJobLimits(this.networkId, limits);
  }
}
