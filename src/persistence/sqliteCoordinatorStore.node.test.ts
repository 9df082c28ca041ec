/**
 * The CoordinatorStorage contract (coordinatorStorage.contract.ts) against the SQLite store, one
 * database file per test, plus what only a file on disk has: its pragmas, its migrations, and
 * records spoiled on disk in the ways a crash, a full disk or a hand edit could leave them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ShardState } from '../core/coordinator/state.ts';
import { HASH_A, policy } from '../core/testing/fixtures.ts';
import { asJobId, asPeerId, shardIdOf } from '../protocol/ids.ts';
import { describeCoordinatorStorageContract } from './coordinatorStorage.contract.ts';
import { MIGRATIONS, SqliteCoordinatorStore, SqliteStoreError, openCoordinatorSqlite, type SqliteDb } from './sqliteCoordinatorStore.node.ts';

/** Small pieces, so that a few hundred bytes of inputs or outputs need several. */
const PIECE_BYTES = 64;

describeCoordinatorStorageContract('SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quorum-sqlite-'));
  const path = join(dir, 'coordinator.db');
  const opened: SqliteDb[] = [];
  const connect = (): SqliteDb => {
    const db = openCoordinatorSqlite(path);
    opened.push(db);
    return db;
  };
  return Promise.resolve({
    open: (networkId) => Promise.resolve(new SqliteCoordinatorStore(connect(), networkId, PIECE_BYTES)),
    pieceBytes: PIECE_BYTES,
    // A piece lost: what is left of the shard's bytes does not add up.
    corruptShard: (jobId, index) => {
      const db = connect();
      const last = db.prepare('SELECT MAX(piece) AS piece FROM shard_pieces WHERE job_id = ? AND idx = ?').get(jobId, index) as { piece: number | null };
      if (last.piece === null) throw new Error(`shard ${index} of ${jobId} has no pieces to spoil`);
      db.prepare('DELETE FROM shard_pieces WHERE job_id = ? AND idx = ? AND piece = ?').run(jobId, index, last.piece);
      return Promise.resolve();
    },
    // A record cut short, as a disk that filled up mid-write could leave a hand-copied file.
    corruptJob: (jobId) => {
      connect().prepare('UPDATE jobs SET record = substr(record, 1, 40) WHERE job_id = ?').run(jobId);
      return Promise.resolve();
    },
    close: () => {
      for (const db of opened) db.close();
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  });
});

describe('SQLite coordinator store on disk', () => {
  let dir: string;
  let path: string;
  const opened: SqliteDb[] = [];
  const open = (migrations = MIGRATIONS): SqliteDb => {
    const db = openCoordinatorSqlite(path, migrations);
    opened.push(db);
    return db;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'quorum-sqlite-'));
    path = join(dir, 'coordinator.db');
  });
  afterEach(() => {
    vi.restoreAllMocks();
    for (const db of opened.splice(0)) if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const jobId = asJobId('j1');
  const shard = (answers: unknown[]): ShardState => ({
    id: shardIdOf(jobId, 0),
    jobId,
    index: 0,
    start: 0,
    count: answers.length,
    status: 'open',
    target: 2,
    replicas: [{ volunteer: asPeerId('v1'), backend: 'wasm', adapter: null, ortVersion: '1.30.0', outputs: [], answers: answers as never, receivedAtMs: 1 }],
    leases: new Set(),
    accepted: null,
    disagreements: 0,
    lone: false,
    spotChecked: false,
    epoch: 0,
    queueKey: 0,
    queued: false,
    inFlight: true,
  });

  it('[S-2] commits durably: WAL with synchronous = FULL, and a write is read back after the file is closed and opened again', async () => {
    const db = open();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    await new SqliteCoordinatorStore(db, 'net').putModel(HASH_A, new Uint8Array([4, 5, 6]).buffer, 1);
    db.close();
    expect([...new Uint8Array((await new SqliteCoordinatorStore(open(), 'net').loadModel(HASH_A))!)]).toEqual([4, 5, 6]);
  });

  it("[S-5] migrates a new file to the newest schema once, keeps an older file's data through a later step, and refuses a newer file", async () => {
    const v1 = open(MIGRATIONS.slice(0, 1));
    expect(v1.pragma('user_version', { simple: true })).toBe(1);
    await new SqliteCoordinatorStore(v1, 'net').persist(
      {
        leases: [],
        forgetLeases: [],
        peers: [{ peerId: asPeerId('v1'), token: 't', reputation: { n: 1 }, standing: { shardsAccepted: 1, resultsReturned: 1, resultsRejected: 0 } }],
        openShards: [],
      },
      5,
    );
    v1.close();

    // A later release's step runs once, on the data the earlier one left.
    const later = [...MIGRATIONS, 'CREATE TABLE later_step (x INTEGER)'];
    const v2 = open(later);
    expect(v2.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length + 1);
    expect((await new SqliteCoordinatorStore(v2, 'net').loadPeers()).map((p) => p.token)).toEqual(['t']);
    v2.close();
    expect(open(later).pragma('user_version', { simple: true })).toBe(MIGRATIONS.length + 1);

    expect(() => open(MIGRATIONS)).toThrow(SqliteStoreError);
    expect(() => open(MIGRATIONS)).toThrow(/newer than this build's v1: run the newer Quorum that wrote it, or give this one another file/);
  });

  it("[S-5] [V-12] a stored answer that does not parse with the protocol's schema leaves its shard out, with a warning naming it", async () => {
    const db = open();
    const store = new SqliteCoordinatorStore(db, 'net');
    await store.persist({ leases: [], forgetLeases: [], peers: [], openShards: [shard([{ kind: 'labels', labels: [{ index: 3, score: 0.5 }] }])] }, 1);
    expect((await store.loadShards(jobId))[0]?.replicas?.[0]?.answers).toEqual([{ kind: 'labels', labels: [{ index: 3, score: 0.5 }] }]);

    // Edited on disk: a label's score is now text.
    db.prepare('UPDATE shards SET record = replace(record, \'"score":0.5\', \'"score":"high"\')').run();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(await store.loadShards(jobId)).toEqual([]);
    expect(warn.mock.calls.flat().join('\n')).toMatch(/shard 0 of job j1: its stored record does not parse \(replicas\.0\.answers\.0\.labels\.0\.score/);
  });

  it("[S-5] stored bytes that do not fit their tensor's dims leave the shard (or the job) out, never restored as garbage", async () => {
    const db = open();
    const store = new SqliteCoordinatorStore(db, 'net', 1024);
    const y = { name: 'y', dtype: 'float32' as const, dims: [1, 2], data: new Float32Array([1, 2]).buffer };
    await store.putShard(jobId, {
      ...shard([]),
      replicas: [{ volunteer: asPeerId('v1'), backend: 'wasm', adapter: null, ortVersion: '1', outputs: [y], receivedAtMs: 1 }],
    });
    await store.putJob({
      id: jobId,
      name: 'j',
      modelHash: HASH_A,
      modelBytes: 1,
      inputs: [{ ...y, name: 'x' }],
      items: 1,
      shardSize: 1,
      shardCount: 1,
      policy: policy(1, 1, 1),
      createdAtMs: 0,
      submittedBy: asPeerId('req'),
    });
    // The dims say three floats, and the layout and sizes agree with the bytes: only the dims are wrong.
    db.prepare('UPDATE shards SET record = replace(record, \'"dims":[1,2]\', \'"dims":[1,3]\')').run();
    db.prepare('UPDATE jobs SET record = replace(record, \'"dims":[1,2]\', \'"dims":[1,3]\')').run();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(await store.loadShards(jobId)).toEqual([]);
    expect(await store.loadJobs()).toEqual([]);
    const said = warn.mock.calls.flat().join('\n');
    expect(said).toMatch(/shard 0 of job j1: tensor "y" has 8 bytes, but dims \[1,3\] of float32 need 12/);
    expect(said).toMatch(/job j1: tensor "x" has 8 bytes, but dims \[1,3\] of float32 need 12/);
  });
});
