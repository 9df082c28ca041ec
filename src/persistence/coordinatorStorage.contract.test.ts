/**
 * The CoordinatorStorage contract (coordinatorStorage.contract.ts) against the in-memory store and
 * the IndexedDB store (fake-indexeddb, one database per test). The SQLite store runs it in
 * sqliteCoordinatorStore.node.test.ts.
 */
import 'fake-indexeddb/auto';
import { describeCoordinatorStorageContract } from './coordinatorStorage.contract.ts';
import { CoordinatorStore } from './coordinatorStore.ts';
import { openQuorumDb, type QuorumDb } from './db.ts';
import { MemoryCoordinatorData, MemoryCoordinatorStore } from './memoryCoordinatorStore.ts';

describeCoordinatorStorageContract('memory', () => {
  const data = new MemoryCoordinatorData();
  return Promise.resolve({
    open: (networkId) => Promise.resolve(new MemoryCoordinatorStore(networkId, data)),
    pieceBytes: Infinity,
    close: () => Promise.resolve(),
  });
});

/** Small pieces, so that a few hundred bytes of inputs or outputs need several. */
const PIECE_BYTES = 64;
let dbs = 0;

describeCoordinatorStorageContract('IndexedDB', () => {
  const name = `contract-${++dbs}`;
  const opened: QuorumDb[] = [];
  const connect = async (): Promise<QuorumDb> => {
    const db = await openQuorumDb(name);
    opened.push(db);
    return db;
  };
  return Promise.resolve({
    open: async (networkId) => new CoordinatorStore(await connect(), networkId, PIECE_BYTES),
    pieceBytes: PIECE_BYTES,
    // A piece lost (a write cut short, a disk that lost a block): the rest cannot be trusted.
    async corruptShard(jobId, index) {
      const db = await connect();
      const keys = await db.getAllKeys('shardPieces', IDBKeyRange.bound([jobId, index], [jobId, index, []]));
      if (keys.length === 0) throw new Error(`shard ${index} of ${jobId} has no pieces to spoil: make its outputs bigger`);
      await db.delete('shardPieces', keys[keys.length - 1]!);
    },
    async corruptJob(jobId) {
      const db = await connect();
      const keys = await db.getAllKeys('jobPieces', IDBKeyRange.bound([jobId], [jobId, []]));
      if (keys.length < 2) throw new Error(`job ${jobId} has too few pieces to spoil: make its inputs bigger`);
      await db.delete('jobPieces', keys[1]!);
    },
    close: () => {
      for (const db of opened) db.close();
      return Promise.resolve();
    },
  });
});
