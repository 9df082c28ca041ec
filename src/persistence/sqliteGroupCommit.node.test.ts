/**
 * [N-7] Group commit in the SQLite store: small writes that arrive together share one
 * transaction and one sync, each caller learning of the commit (or its failure) only once it
 * happened, in call order. Read back through a second connection to the same file, as another
 * process (or the coordinator after a crash) would see it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StorageWriteQueue } from '../host/storageWriteQueue.ts';
import { asLeaseId } from '../protocol/ids.ts';
import { SqliteCoordinatorStore, openCoordinatorSqlite, type SqliteDb } from './sqliteCoordinatorStore.node.ts';
import { countingTransactions, LOAD_JOB, loadBatch, loadLease, loadShard } from './testing/storeLoad.ts';

describe('[N-7] SQLite group commit', () => {
  let dir: string;
  let path: string;
  const opened: SqliteDb[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'quorum-group-'));
    path = join(dir, 'coordinator.db');
  });
  afterEach(() => {
    for (const db of opened.splice(0)) if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const open = (): SqliteDb => {
    const db = openCoordinatorSqlite(path);
    opened.push(db);
    return db;
  };
  /**
   * Another connection to the file: sees only what was committed. Opened before the writes under
   * test, so that its sweep of unnamed pieces ([N-6]) cannot hide what a failed write left.
   */
  const reader = open;
  const storedIndices = (db: SqliteDb): number[] =>
    (db.prepare('SELECT idx FROM shards WHERE job_id = ? ORDER BY idx').all(LOAD_JOB) as { idx: number }[]).map((r) => r.idx);

  it('[N-7] [S-2] the writes of one turn go in one transaction, and each caller resolves only once a second connection sees its row', async () => {
    const counted = countingTransactions(open());
    const store = new SqliteCoordinatorStore(counted.db, 'net');
    const other = reader();
    const before = counted.transactions();
    const seen: number[][] = [];
    const writes = Array.from({ length: 8 }, (_, i) =>
      store.putShard(LOAD_JOB, loadShard(i, 'verified')).then((epoch) => {
        seen.push(storedIndices(other));
        return epoch;
      }),
    );
    const batch = store.persist(loadBatch(100, 4), 1);
    expect(await Promise.all(writes)).toEqual(Array.from({ length: 8 }, () => 1));
    await batch;
    // Every caller saw, through the other connection, every row of its group already committed.
    expect(seen).toHaveLength(8);
    for (const rows of seen) expect(rows).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 100, 101, 102, 103]);
    // Eight verified shards and a persist batch: one commit, one sync.
    expect(counted.transactions() - before).toBe(1);
  });

  it('[N-7] [S-3] a group with a failing write rejects every member and stores none of them, nor a write issued before its callers knew; written again, all are stored', async () => {
    const db = open();
    const other = reader();
    const store = new SqliteCoordinatorStore(db, 'net');
    await store.putShard(LOAD_JOB, loadShard(9, 'verified'));
    // A disk that refuses one row, as a full disk or an I/O error refuses a statement.
    db.exec(`CREATE TRIGGER refuse_three BEFORE INSERT ON shards WHEN NEW.idx = 3 BEGIN SELECT RAISE(ABORT, 'disk says no'); END`);
    const writes = Array.from({ length: 6 }, (_, i) => store.putShard(LOAD_JOB, loadShard(i, 'verified')));
    const batch = store.persist(loadBatch(50, 2), 1);
    const outcomes = await Promise.allSettled([...writes, batch]);
    expect(outcomes.map((o) => o.status)).toEqual(Array.from({ length: 7 }, () => 'rejected'));
    for (const o of outcomes) expect(o.status === 'rejected' ? String(o.reason) : '').toMatch(/disk says no/);
    // Nothing of the group is stored, not even its pieces; what was stored before is whole.
    expect(storedIndices(other)).toEqual([9]);
    expect((other.prepare('SELECT COUNT(*) AS n FROM leases').get() as { n: number }).n).toBe(0);
    expect((other.prepare('SELECT COUNT(DISTINCT idx) AS n FROM shard_pieces').get() as { n: number }).n).toBe(1);
    // Storage works again; a write issued in the same turn as the failure, before its caller
    // could know of it, still fails unrun: it must not land before the ones its caller retries.
    db.exec('DROP TRIGGER refuse_three');
    await expect(store.putShard(LOAD_JOB, loadShard(20, 'verified'))).rejects.toThrow(/disk says no/);
    expect(storedIndices(other)).toEqual([9]);
    // The host's queue writes them again, a turn later at the soonest ([S-3]).
    await new Promise((r) => setImmediate(r));
    await Promise.all([...Array.from({ length: 6 }, (_, i) => store.putShard(LOAD_JOB, loadShard(i, 'verified'))), store.persist(loadBatch(50, 2), 1)]);
    expect(storedIndices(other)).toEqual([0, 1, 2, 3, 4, 5, 9, 50, 51]);
    const loaded = await new SqliteCoordinatorStore(open(), 'net').loadShards(LOAD_JOB);
    expect(loaded.filter((s) => s.status === 'verified')).toHaveLength(7);
  });

  it('[N-7] writes keep their call order: in a group and around a big write, the later write of a key wins', async () => {
    const db = open();
    // Pieces of 256 bytes, transactions of 4 KiB: a shard of 1.2 KB of outputs is small, one of 40 KB big.
    const store = new SqliteCoordinatorStore(db, 'net', 256, 4096);
    const bigShard = (index: number, epoch: number) => {
      const s = loadShard(index, 'verified', epoch, epoch * 10);
      const wide = { ...s.replicas[0]!.outputs[0]!, dims: [10, 1000], data: new Float32Array(10_000).fill(epoch).buffer };
      return { ...s, accepted: { ...s.accepted!, outputs: [wide] }, replicas: s.replicas.map((r) => ({ ...r, outputs: [wide] })) };
    };
    const writes = [
      store.persist({ ...loadBatch(0, 1), leases: [loadLease('l-a', 0)] }, 1),
      store.putShard(LOAD_JOB, loadShard(0, 'verified', 1)),
      store.putShard(LOAD_JOB, loadShard(0, 'verified', 2)),
      store.persist({ leases: [], forgetLeases: [asLeaseId('l-a')], peers: [], openShards: [] }, 2),
      store.putShard(LOAD_JOB, bigShard(0, 3)),
      store.putShard(LOAD_JOB, loadShard(0, 'verified', 4)),
      store.putShard(LOAD_JOB, loadShard(1, 'verified', 1)),
      store.putShard(LOAD_JOB, bigShard(1, 5)),
    ];
    await Promise.all(writes);
    const loaded = await new SqliteCoordinatorStore(open(), 'net').loadShards(LOAD_JOB);
    expect(loaded.map((s) => [s.index, s.epoch])).toEqual([
      [0, 4],
      [1, 5],
    ]);
    expect(new Float32Array(loaded[1]?.accepted?.outputs[0]?.data ?? new ArrayBuffer(0))[0]).toBe(5);
    // The lease put and then forgotten in one group stays forgotten.
    expect(await new SqliteCoordinatorStore(open(), 'net').loadLeases()).toEqual([]);
  });

  it('[N-7] with a window, writes of several turns within it share one transaction; with group commit off, each has its own', async () => {
    const counted = countingTransactions(open());
    const other = reader();
    const windowed = new SqliteCoordinatorStore(counted.db, 'net', undefined, undefined, { groupWindowMs: 50 });
    let before = counted.transactions();
    const writes: Promise<number>[] = [];
    for (let i = 0; i < 4; i++) {
      writes.push(windowed.putShard(LOAD_JOB, loadShard(i, 'verified')));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(writes);
    expect(counted.transactions() - before).toBe(1);

    const plain = new SqliteCoordinatorStore(counted.db, 'net', undefined, undefined, { groupCommit: false });
    before = counted.transactions();
    await Promise.all(Array.from({ length: 4 }, (_, i) => plain.putShard(LOAD_JOB, loadShard(10 + i, 'verified'))));
    expect(counted.transactions() - before).toBe(4);
    expect(storedIndices(other)).toEqual([0, 1, 2, 3, 10, 11, 12, 13]);
  });

  it("[N-7] [S-3] through the host's write queue, the writes of a turn share one commit; a failure keeps the failed write and every later one, in call order, and a retry stores them", async () => {
    const counted = countingTransactions(open());
    const store = new SqliteCoordinatorStore(counted.db, 'net');
    const events: string[] = [];
    const queue = new StorageWriteQueue({
      failed: (what, reason) => events.push(`failed ${what}: ${reason}`),
      recovered: () => events.push('recovered'),
      changed: () => undefined,
    });
    const write = (what: string, op: () => Promise<unknown>): void => queue.write(() => op().then(() => undefined), what, store.ordersWrites);
    const burst = (epoch: number, lease: string): void => {
      write(`put ${lease}`, () => store.persist({ leases: [loadLease(lease, 0)], forgetLeases: [], peers: [], openShards: [] }, 1));
      for (let i = 0; i < 6; i++) write(`shard ${i}`, () => store.putShard(LOAD_JOB, loadShard(i, 'verified', epoch)));
      write(`forget ${lease}`, () => store.persist({ leases: [], forgetLeases: [asLeaseId(lease)], peers: [], openShards: [] }, 2));
    };
    let before = counted.transactions();
    burst(1, 'l-a');
    await queue.flushed();
    expect(counted.transactions() - before).toBe(1);
    expect(queue.problem).toBeNull();

    counted.db.exec(`CREATE TRIGGER refuse_three BEFORE INSERT ON shards WHEN NEW.idx = 3 BEGIN SELECT RAISE(ABORT, 'disk says no'); END`);
    burst(2, 'l-b');
    await queue.flushed();
    expect(queue.problem).toMatch(/disk says no/);
    expect(queue.pendingWrites).toBe(8);
    expect(events).toHaveLength(1);
    const reader = new SqliteCoordinatorStore(open(), 'net');
    expect((await reader.loadShards(LOAD_JOB)).map((s) => s.epoch)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(await reader.loadLeases()).toEqual([]);

    counted.db.exec('DROP TRIGGER refuse_three');
    // "Retry storage" or the retry timer: a later turn of the event loop.
    await new Promise((r) => setImmediate(r));
    before = counted.transactions();
    expect(await queue.retry()).toBe(true);
    queue.stop();
    expect(events.at(-1)).toBe('recovered');
    // Written again one after another, in call order: the lease put before its forget.
    expect(counted.transactions() - before).toBe(8);
    expect((await reader.loadShards(LOAD_JOB)).map((s) => s.epoch)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(await reader.loadLeases()).toEqual([]);
  });
});
