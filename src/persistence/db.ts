/**
 * The only place that opens IndexedDB. One database per origin, shared by every role's tabs:
 * volunteers cache models by hash, coordinators keep jobs, models and shard outcomes.
 *
 * Versioned schema: each `upgrade` step moves a database from version n-1 to n. Never edit a
 * released step; add a new one.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { JobId, ModelHash } from '../protocol/ids.ts';
import type {
  StoredJob,
  StoredJobPiece,
  StoredLease,
  StoredOutboxEntry,
  StoredPeer,
  StoredRequesterJob,
  StoredRequesterShard,
  StoredShard,
  StoredShardPiece,
  StoredCoordinatorKey,
} from './records.ts';
import { errorMessage } from '../protocol/errorMessage.ts';

export const DB_NAME = 'quorum';
export const DB_VERSION = 7;

export interface QuorumSchema extends DBSchema {
  models: { key: ModelHash; value: { hash: ModelHash; bytes: ArrayBuffer; storedAtMs: number } };
  jobs: { key: JobId; value: StoredJob; indexes: { byNetwork: string } };
  shards: { key: [JobId, number]; value: StoredShard; indexes: { byJob: JobId } };
  settings: { key: string; value: unknown };
  /**
   * v2: a coordinator's leases (live and retired), so a reload resumes mid-lease. v4: keyed by
   * [networkId, id]: every network on the origin shares this database, and lease ids are only
   * unique within one network.
   */
  leases: { key: [string, string]; value: StoredLease; indexes: { byNetwork: string } };
  /** v2: what a coordinator knows of each volunteer id: its resume token and reputation. */
  peers: { key: [string, string]; value: StoredPeer; indexes: { byNetwork: string } };
  /** v2: a volunteer's results that its coordinator has not acknowledged yet. */
  outbox: { key: [string, string]; value: StoredOutboxEntry; indexes: { byVolunteer: string } };
  /** v3: a job's input bytes in pieces, written one by one before the job's record. */
  jobPieces: { key: [JobId, number, number]; value: StoredJobPiece; indexes: { byNetwork: string } };
  /** v4: a shard record's output bytes in pieces, under the tag of the write that made them. */
  shardPieces: { key: [JobId, number, number, number]; value: StoredShardPiece };
  /** v5: the jobs a requester tab submitted, so a reload still knows (and can fetch) its own. */
  requesterJobs: { key: [string, JobId]; value: StoredRequesterJob; indexes: { byNetwork: string } };
  /** v5: a requester's verified shards of its jobs, one record per shard, as the coordinator sent them. */
  requesterShards: { key: [string, JobId, number]; value: StoredRequesterShard; indexes: { byJob: [string, JobId] } };
  /** v6: [K-1] each network's coordinator key pair (the private key non-extractable), by network id. */
  coordinatorKeys: { key: string; value: StoredCoordinatorKey };
  /** v7: [I-2] this browser profile's volunteer key pair per network (non-extractable), by network id. */
  volunteerKeys: { key: string; value: StoredCoordinatorKey };
}

export type QuorumDb = IDBPDatabase<QuorumSchema>;

/** Raised when IndexedDB cannot be opened or written; the message says what to do. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
}

export async function openQuorumDb(name: string = DB_NAME): Promise<QuorumDb> {
  if (typeof indexedDB === 'undefined') {
    throw new StorageError('IndexedDB is not available in this browser (private mode?): Quorum cannot keep data here.');
  }
  try {
    return await openDB<QuorumSchema>(name, DB_VERSION, {
      upgrade(db, oldVersion, _newVersion, transaction) {
        if (oldVersion < 1) {
          db.createObjectStore('models', { keyPath: 'hash' });
          const jobs = db.createObjectStore('jobs', { keyPath: 'job.id' });
          jobs.createIndex('byNetwork', 'networkId');
          const shards = db.createObjectStore('shards', { keyPath: ['jobId', 'index'] });
          shards.createIndex('byJob', 'jobId');
          db.createObjectStore('settings');
        }
        if (oldVersion < 2) {
          const leases = db.createObjectStore('leases', { keyPath: 'id' });
          leases.createIndex('byNetwork', 'networkId');
          const peers = db.createObjectStore('peers', { keyPath: ['networkId', 'peerId'] });
          peers.createIndex('byNetwork', 'networkId');
          const outbox = db.createObjectStore('outbox', { keyPath: ['volunteerId', 'leaseId'] });
          outbox.createIndex('byVolunteer', 'volunteerId');
        }
        if (oldVersion < 3) {
          // Jobs stored before v3 keep their inputs inline in the record and load as they are.
          const pieces = db.createObjectStore('jobPieces', { keyPath: ['jobId', 'input', 'piece'] });
          pieces.createIndex('byNetwork', 'networkId');
        }
        if (oldVersion < 4) {
          // Shards stored before v4 keep their outputs inline in the record and load as they are.
          db.createObjectStore('shardPieces', { keyPath: ['jobId', 'index', 'tag', 'piece'] });
          // A key path cannot change in place: the leases are read, the store made anew, and put back.
          // Only IndexedDB requests are awaited here, so the upgrade transaction stays active.
          void (async () => {
            const leases = await transaction.objectStore('leases').getAll();
            db.deleteObjectStore('leases');
            const store = db.createObjectStore('leases', { keyPath: ['networkId', 'id'] });
            store.createIndex('byNetwork', 'networkId');
            await Promise.all(leases.map((l) => store.put(l)));
          })().catch((e: unknown) => {
            // The database stays at the version it had, with its leases: nothing is lost.
            console.warn(`Quorum database upgrade to v4 failed: ${errorMessage(e)}`);
            transaction.abort();
          });
        }
        if (oldVersion < 5) {
          const jobs = db.createObjectStore('requesterJobs', { keyPath: ['networkId', 'jobId'] });
          jobs.createIndex('byNetwork', 'networkId');
          const shards = db.createObjectStore('requesterShards', { keyPath: ['networkId', 'jobId', 'index'] });
          shards.createIndex('byJob', ['networkId', 'jobId']);
        }
        if (oldVersion < 6) {
          db.createObjectStore('coordinatorKeys', { keyPath: 'networkId' });
        }
        if (oldVersion < 7) {
          db.createObjectStore('volunteerKeys', { keyPath: 'networkId' });
        }
      },
      blocked() {
        console.warn('Quorum database upgrade is waiting for other Quorum tabs to close.');
      },
    });
  } catch (e) {
    throw new StorageError(`Could not open the Quorum database: ${errorMessage(e)}`);
  }
}
