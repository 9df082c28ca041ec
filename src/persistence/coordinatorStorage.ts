/**
 * What a coordinator keeps, as one interface: the host is written against it, and every store
 * implements it — IndexedDB in a browser tab (coordinatorStore.ts), memory for tests of the hosts
 * (memoryCoordinatorStore.ts), SQLite for a Node coordinator (sqliteCoordinatorStore.node.ts).
 * One contract suite (coordinatorStorage.contract.ts) holds each of them to the promises below.
 *
 * The promises the host relies on ([S-1]–[S-3] in core/SPEC.md):
 * - one store instance is one network's view: everything it loads is its own network's, and
 *   lease and volunteer ids are only unique within a network;
 * - a write takes its record when it is called (before its first await): the core goes on
 *   mutating the shard it passed, and that must not reach what is stored;
 * - a write whose promise resolved is read back by a new instance over the same storage, with
 *   its bytes, outputs and answers as they were; `putShard` is durable once resolved ([S-2]);
 * - `persist` stores only open shards (a decided one is written by its own `putShard`) and
 *   removes the leases it names;
 * - a record that cannot be read back whole (pieces missing, bytes cut short, a field that does
 *   not parse) is left out of what loads, with a console warning — the job or shard is then not
 *   restored or computed again — and never restored as garbage.
 */
import type { JobLimits } from '../core/jobChecks.ts';
import type { JobRecord, LeaseRecord, PeerRecord, ShardState } from '../core/coordinator/state.ts';
import type { JobId, LeaseId, ModelHash } from '../protocol/ids.ts';
import type { StoredJob, StoredLease, StoredPeer, StoredShard } from './records.ts';

/** [S-1] One batch of the core's `persist` effect. */
export interface PersistBatch {
  readonly leases: readonly LeaseRecord[];
  readonly forgetLeases: readonly LeaseId[];
  readonly peers: readonly PeerRecord[];
  readonly openShards: readonly ShardState[];
}

/** A coordinator's small settings for its network: [J-1] its requester key, [J-4] its job limits. */
export interface CoordinatorSettings {
  /** The network's requester key, made with `generate` on first use and the same ever after. */
  requesterKey(generate: () => string): Promise<string>;
  /** The job limits saved last, clamped to the hard caps; the defaults when none were saved. */
  jobLimits(): Promise<JobLimits>;
  /** Saves (clamped) limits and returns what was saved. */
  putJobLimits(limits: Partial<Record<keyof JobLimits, unknown>>): Promise<JobLimits>;
}

/** Everything the coordinator host stores and restores for one network. */
export interface CoordinatorStorage extends CoordinatorSettings {
  /** [S-1] A job with its inputs (or files) and pipeline; a job whose record loads has all its bytes. */
  putJob(job: JobRecord): Promise<void>;
  /** [S-2] A shard as it stands now, durably; returns the epoch the stored record holds. */
  putShard(jobId: JobId, shard: ShardState): Promise<number>;
  putModel(hash: ModelHash, bytes: ArrayBuffer, nowMs: number): Promise<void>;
  /** [S-1] Leases, volunteer ids and open shards' replicas, in one batch (a crash may lose the last one). */
  persist(batch: PersistBatch, nowMs: number): Promise<void>;
  loadModel(hash: ModelHash): Promise<ArrayBuffer | null>;
  loadJobs(): Promise<StoredJob[]>;
  loadShards(jobId: JobId): Promise<StoredShard[]>;
  loadLeases(): Promise<StoredLease[]>;
  loadPeers(): Promise<StoredPeer[]>;
  /**
   * [N-7] True where writes issued before earlier ones finished still land in call order, and
   * every write issued before its caller could know of a failure fails too: the host then keeps
   * several in flight, and the store commits them together (SQLite). Absent: one at a time.
   */
  readonly ordersWrites?: boolean;
}

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

/** The stored form of one volunteer id of `networkId`, written at `nowMs`. */
export function peerRecord(networkId: string, p: PeerRecord, nowMs: number): StoredPeer {
  return { networkId, peerId: p.peerId, token: p.token, reputation: p.reputation, standing: p.standing, updatedAtMs: nowMs };
}

/** [S-3] Storage for a tab where IndexedDB could not be opened: every call fails with `reason`. */
export function unavailableStorage(reason: string): CoordinatorStorage {
  const fail = (): Promise<never> => Promise.reject(new Error(reason));
  return {
    putJob: fail,
    putShard: fail,
    putModel: fail,
    persist: fail,
    loadModel: fail,
    loadJobs: fail,
    loadShards: fail,
    loadLeases: fail,
    loadPeers: fail,
    requesterKey: fail,
    jobLimits: fail,
    putJobLimits: fail,
  };
}
