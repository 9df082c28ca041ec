/**
 * What a coordinator writes at scale, for the SQLite store's group-commit tests and benchmark
 * ([N-7]): verified shards the size of an MNIST shard's (10 items, two volunteers' 10-class
 * outputs), persist batches of leases and open shards, and a count of the transactions a
 * database ran (each one a sync under `synchronous = FULL`).
 */
import type { LeaseRecord, ShardState } from '../../core/coordinator/state.ts';
import { asJobId, asLeaseId, asPeerId, shardIdOf, type JobId } from '../../protocol/ids.ts';
import type { WireTensor } from '../../protocol/tensor.ts';
import type { PersistBatch } from '../coordinatorStorage.ts';
import type { SqliteDb } from '../sqliteCoordinatorStore.node.ts';

export const LOAD_JOB: JobId = asJobId('mnist-load');
/** Items per shard, as the scale benchmark's MNIST job. */
export const LOAD_SHARD_ITEMS = 10;

/** A [items, 10] float32 output whose values say which shard and seed they came from. */
function logits(index: number, seed: number): WireTensor {
  const data = Float32Array.from({ length: LOAD_SHARD_ITEMS * 10 }, (_, i) => index * 1000 + seed + i / 8).buffer;
  return { name: 'logits', dtype: 'float32', dims: [LOAD_SHARD_ITEMS, 10], data };
}

/** Shard `index` of the load's job: open with one replica, or verified by two volunteers at `epoch`. */
export function loadShard(index: number, status: 'open' | 'verified', epoch = 1, seed = 0): ShardState {
  const replica = (v: number): ShardState['replicas'][number] => ({
    volunteer: asPeerId(`v${v}`),
    backend: 'wasm',
    adapter: null,
    ortVersion: '1.20.0',
    outputs: [logits(index, seed + v)],
    receivedAtMs: 1000 + index,
  });
  const verified = status === 'verified';
  return {
    id: shardIdOf(LOAD_JOB, index),
    jobId: LOAD_JOB,
    index,
    start: index * LOAD_SHARD_ITEMS,
    count: LOAD_SHARD_ITEMS,
    status,
    target: 2,
    replicas: verified ? [replica(0), replica(1)] : [replica(0)],
    leases: new Set(),
    accepted: verified
      ? { outputs: [logits(index, seed)], volunteers: [asPeerId('v0'), asPeerId('v1')], backends: ['wasm', 'wasm'], acceptedAtMs: 2000 }
      : null,
    disagreements: 0,
    lone: false,
    spotChecked: false,
    epoch: verified ? epoch : 0,
    queueKey: index,
    queued: false,
    inFlight: !verified,
  };
}

export function loadLease(id: string, shardIndex: number): LeaseRecord {
  return {
    id: asLeaseId(id),
    jobId: LOAD_JOB,
    shardIndex,
    volunteer: asPeerId(`v${shardIndex % 7}`),
    issuedAtMs: 1000,
    deadlineMs: 61_000,
    canary: false,
    epoch: 0,
    retired: false,
  };
}

/** A persist batch as a busy coordinator's: `leases` new leases, as many open shards, none forgotten. */
export function loadBatch(from: number, leases: number): PersistBatch {
  const indices = Array.from({ length: leases }, (_, i) => from + i);
  return {
    leases: indices.map((i) => loadLease(`lease-${i}`, i)),
    forgetLeases: [],
    peers: [],
    openShards: indices.map((i) => loadShard(i, 'open')),
  };
}

/**
 * `db` seen through a wrapper that counts the transactions run through it: every function
 * `db.transaction` made, each time it is called, and the time spent in them (the event loop
 * held). Each one is a commit and, at FULL, a sync.
 */
export function countingTransactions(db: SqliteDb): { db: SqliteDb; transactions(): number; transactionMs(): number } {
  let n = 0;
  let ms = 0;
  const timed = <T>(run: () => T): T => {
    n++;
    const t0 = performance.now();
    try {
      return run();
    } finally {
      ms += performance.now() - t0;
    }
  };
  const wrapped = new Proxy(db, {
    get(target, key) {
      if (key === 'transaction') {
        return (fn: (...args: never[]) => unknown) => {
          const tx = target.transaction(fn);
          const counted = (...args: never[]): unknown => timed(() => tx(...args));
          return Object.assign(counted, { immediate: (...args: never[]): unknown => timed(() => tx.immediate(...args)) });
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      // better-sqlite3's methods are native: they must be called on the database itself.
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { db: wrapped, transactions: () => n, transactionMs: () => ms };
}
