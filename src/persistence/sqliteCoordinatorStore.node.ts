/**
 * A Node coordinator's storage: one SQLite file (better-sqlite3), shared by every network the
 * process coordinates, as a browser origin shares one IndexedDB database. The only file that
 * imports better-sqlite3; Node only (the browser app never imports a `.node.ts` file).
 *
 * - Durable: WAL with `synchronous = FULL`, so every committed write survives a power cut.
 * - Never blocking for long ([N-6]): better-sqlite3 is synchronous, and one transaction of a
 *   200 MiB job held the event loop for 2.4 s (every peer's frames and pings waited). So a write's
 *   pieces go in transactions of about `chunkBytes`, the loop free between them, under a tag of
 *   their own; its records go last, in one transaction that names that tag and drops the pieces
 *   of others. A job, shard, model or persist batch is thus stored whole or not at all, and only
 *   once that last transaction committed does its promise resolve ([S-1], [S-2]). Pieces a crash
 *   left unnamed are swept when the file is opened. Writes run one after another, in call order.
 *   A small write still runs whole, in one transaction.
 * - Group commit ([N-7]): the small writes of one turn of the event loop (or of a short window)
 *   share that transaction and its one sync: one fsync per verified shard capped a headless
 *   coordinator at about 25 shards/s. Each caller's promise resolves only after the group
 *   committed; a group that fails rejects every member and stores none of them.
 * - Versioned: `PRAGMA user_version` counts the MIGRATIONS applied; a file from a newer build is
 *   refused rather than misread.
 * - Bytes in blobs, cut into pieces of at most `pieceBytes` (a 128 MiB tensor is never one
 *   allocation on read); records as JSON without their bytes.
 * - Not trusted on the way back ([S-5]): every record is parsed with the protocol's schemas
 *   (storedRecordSchemas.ts) and every tensor's bytes checked against its dims; a record that
 *   fails is left out with a console warning, as the IndexedDB store leaves out one whose pieces
 *   are missing.
 *
 * A write takes its records (as JSON) when it is called; its bytes are read from the buffers it
 * was given, which the coordinator never changes once a tensor is made.
 */
import Database from 'better-sqlite3';
import type { z } from 'zod';
import type { JobRecord, LeaseRecord, ShardState } from '../core/coordinator/state.ts';
import { clampJobLimits, type JobLimits } from '../core/jobChecks.ts';
import { errorMessage } from '../protocol/errorMessage.ts';
import type { JobId, ModelHash } from '../protocol/ids.ts';
import { wireTensorSchema } from '../protocol/schemas.ts';
import type { WireTensor } from '../protocol/tensor.ts';
import { peerRecord, shardRecord, type CoordinatorStorage, type PersistBatch } from './coordinatorStorage.ts';
import type { StoredJob, StoredLease, StoredPeer, StoredShard } from './records.ts';
import { joinShard, splitShardAlways } from './shardPieceLayout.ts';
import { jobRecordSchema, leaseRecordSchema, shardRecordSchema, standingSchema } from './storedRecordSchemas.ts';

export type SqliteDb = Database.Database;

/** The most bytes one blob row holds, as the IndexedDB store's pieces. */
export const SQLITE_PIECE_BYTES = 4 * 1024 * 1024;
/** [N-6] About how many bytes of pieces one transaction writes before the event loop gets a turn. */
export const SQLITE_CHUNK_BYTES = 4 * 1024 * 1024;

/** Raised when the database cannot be opened or is of a newer schema; the message says what to do. */
export class SqliteStoreError extends Error {
  override readonly name = 'SqliteStoreError';
}

/**
 * The schema, one step per version: step i moves a database from user_version i to i + 1. Never
 * edit a released step; add a new one.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE models (hash TEXT PRIMARY KEY, bytes BLOB NOT NULL, stored_at_ms INTEGER NOT NULL);
   CREATE TABLE jobs (network_id TEXT NOT NULL, job_id TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (network_id, job_id));
   -- slot i < inputs: input i; then one slot per file, in item order.
   CREATE TABLE job_pieces (network_id TEXT NOT NULL, job_id TEXT NOT NULL, slot INTEGER NOT NULL, piece INTEGER NOT NULL, bytes BLOB NOT NULL,
     PRIMARY KEY (network_id, job_id, slot, piece));
   CREATE TABLE shards (network_id TEXT NOT NULL, job_id TEXT NOT NULL, idx INTEGER NOT NULL, record TEXT NOT NULL, PRIMARY KEY (network_id, job_id, idx));
   CREATE TABLE shard_pieces (network_id TEXT NOT NULL, job_id TEXT NOT NULL, idx INTEGER NOT NULL, piece INTEGER NOT NULL, bytes BLOB NOT NULL,
     PRIMARY KEY (network_id, job_id, idx, piece));
   CREATE TABLE leases (network_id TEXT NOT NULL, lease_id TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (network_id, lease_id));
   CREATE TABLE peers (network_id TEXT NOT NULL, peer_id TEXT NOT NULL, token TEXT NOT NULL, reputation TEXT NOT NULL, standing TEXT NOT NULL,
     updated_at_ms INTEGER NOT NULL, PRIMARY KEY (network_id, peer_id));
   CREATE TABLE settings (network_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (network_id, name));`,
  // [N-6] Pieces under a tag, so that a write's pieces can go in several transactions beside the
  // ones its record still names. Pieces kept from v1 get tag 0, which v1 records name (a job's
  // record has no tag, a shard's layout says 0). A model's bytes move to pieces when written again.
  `CREATE TABLE job_pieces_v2 (network_id TEXT NOT NULL, job_id TEXT NOT NULL, tag INTEGER NOT NULL, slot INTEGER NOT NULL, piece INTEGER NOT NULL,
     bytes BLOB NOT NULL, PRIMARY KEY (network_id, job_id, tag, slot, piece));
   INSERT INTO job_pieces_v2 SELECT network_id, job_id, 0, slot, piece, bytes FROM job_pieces;
   DROP TABLE job_pieces;
   ALTER TABLE job_pieces_v2 RENAME TO job_pieces;
   CREATE TABLE shard_pieces_v2 (network_id TEXT NOT NULL, job_id TEXT NOT NULL, idx INTEGER NOT NULL, tag INTEGER NOT NULL, piece INTEGER NOT NULL,
     bytes BLOB NOT NULL, PRIMARY KEY (network_id, job_id, idx, tag, piece));
   INSERT INTO shard_pieces_v2 SELECT network_id, job_id, idx, 0, piece, bytes FROM shard_pieces;
   DROP TABLE shard_pieces;
   ALTER TABLE shard_pieces_v2 RENAME TO shard_pieces;
   -- tag NULL: the bytes are inline (v1); else in model_pieces under that tag, size bytes in all.
   ALTER TABLE models ADD COLUMN tag INTEGER;
   ALTER TABLE models ADD COLUMN size INTEGER;
   CREATE TABLE model_pieces (hash TEXT NOT NULL, tag INTEGER NOT NULL, piece INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (hash, tag, piece));`,
];

/** A record's JSON field, or NULL where the record is not JSON (such a record does not load anyway). */
const jsonField = (column: string, path: string): string => `CASE WHEN json_valid(${column}) THEN json_extract(${column}, '${path}') END`;

/**
 * [N-6] Drops pieces no record names: those of a write a crash cut short before its records were
 * committed. Run when the file is opened, before any write: one process owns the file, so no
 * write of another can be in flight.
 */
function sweepUnnamedPieces(db: SqliteDb): void {
  db.transaction(() => {
    db.exec(`DELETE FROM job_pieces WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.network_id = job_pieces.network_id AND j.job_id = job_pieces.job_id
      AND IFNULL(${jsonField('j.record', '$.tag')}, 0) = job_pieces.tag)`);
    db.exec(`DELETE FROM shard_pieces WHERE NOT EXISTS (SELECT 1 FROM shards s WHERE s.network_id = shard_pieces.network_id
      AND s.job_id = shard_pieces.job_id AND s.idx = shard_pieces.idx AND IFNULL(${jsonField('s.record', '$.pieces.tag')}, 0) = shard_pieces.tag)`);
    db.exec('DELETE FROM model_pieces WHERE NOT EXISTS (SELECT 1 FROM models m WHERE m.hash = model_pieces.hash AND m.tag = model_pieces.tag)');
  })();
}

/** Brings `db` to the newest of `migrations`, each step in its own transaction; refuses a newer file. */
export function migrate(db: SqliteDb, migrations: readonly string[] = MIGRATIONS): void {
  const from = db.pragma('user_version', { simple: true }) as number;
  if (from > migrations.length) {
    throw new SqliteStoreError(
      `the database ${db.name} has schema v${from}, newer than this build's v${migrations.length}: run the newer Quorum that wrote it, or give this one another file.`,
    );
  }
  for (let v = from; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v] ?? '');
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/** Opens (or creates) the coordinator's database at `path`, durable and at the newest schema. */
export function openCoordinatorSqlite(path: string, migrations: readonly string[] = MIGRATIONS): SqliteDb {
  let db: SqliteDb;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
  } catch (e) {
    throw new SqliteStoreError(`Could not open the coordinator database ${path}: ${errorMessage(e)}. Check that its folder exists and is writable.`);
  }
  try {
    migrate(db, migrations);
    // Only at this build's schema: an older one (tests of later steps) has no tags to sweep by.
    if (migrations === MIGRATIONS) sweepUnnamedPieces(db);
  } catch (e) {
    db.close();
    throw e instanceof SqliteStoreError ? e : new SqliteStoreError(`Could not upgrade the coordinator database ${path}: ${errorMessage(e)}`);
  }
  return db;
}

/** A JSON text of `value` with every ArrayBuffer left out (bytes live in blobs). */
const jsonWithoutBytes = (value: unknown): string => JSON.stringify(value, (_k, v: unknown) => (v instanceof ArrayBuffer ? undefined : v));

/** A Buffer's bytes as an ArrayBuffer of exactly their length. */
function arrayBufferOf(b: Uint8Array): ArrayBuffer {
  const out = new Uint8Array(b.byteLength);
  out.set(b);
  return out.buffer;
}

interface PieceRow {
  readonly piece: number;
  readonly bytes: Uint8Array;
}

/** `data` in pieces of at most `pieceBytes` (none for no bytes). */
function* cut(data: ArrayBuffer, pieceBytes: number): Generator<Buffer> {
  // Buffers over the job's own bytes, not copies: SQLite copies them as it binds them.
  for (let at = 0; at < data.byteLength; at += pieceBytes) yield Buffer.from(data, at, Math.min(pieceBytes, data.byteLength - at));
}

/** `rows` joined, or why they are not the `expected` bytes in order. */
function joinRows(rows: readonly PieceRow[], expected: number): ArrayBuffer | string {
  const got = rows.reduce((n, r) => n + r.bytes.byteLength, 0);
  if (rows.some((r, i) => r.piece !== i) || got !== expected) return `${rows.length} stored pieces of ${got} bytes where ${expected} bytes were written`;
  const out = new Uint8Array(expected);
  let at = 0;
  for (const r of rows) {
    out.set(r.bytes, at);
    at += r.bytes.byteLength;
  }
  return out.buffer;
}

/** Every tensor of a joined shard record checked against its dims; the first problem, or null. */
function tensorProblem(record: StoredShard): string | null {
  const tensors: WireTensor[] = [...(record.accepted?.outputs ?? []), ...(record.replicas ?? []).flatMap((r) => r.outputs)];
  for (const t of tensors) {
    const parsed = wireTensorSchema.safeParse(t);
    if (!parsed.success) return parsed.error.issues[0]?.message ?? 'a tensor that does not parse';
  }
  return null;
}

const EMPTY = new ArrayBuffer(0);

/** One piece to insert: its size, and the insert itself (run inside a transaction). */
interface PieceInsert {
  readonly bytes: number;
  run(): void;
}

/**
 * [N-6] One write: its pieces, inserted a chunk per transaction, then `commit` — its records, the
 * pieces of other tags dropped — in the last transaction, with the last chunk.
 */
interface WritePlan {
  pieces(): Iterable<PieceInsert>;
  commit(): void;
}

/** [N-7] A small write waiting in a group: what it inserts, and its caller's promise. */
interface GroupMember {
  readonly chunk: readonly PieceInsert[];
  readonly plan: WritePlan;
  readonly ticket: Ticket;
  resolve(): void;
  reject(err: Error): void;
}

/** [N-7] A write issued and not started yet; `failure`: why it fails unrun (a write before it failed). */
interface Ticket {
  failure: Error | null;
}

/** How a store commits its small writes ([N-7]). */
export interface SqliteStoreOptions {
  /**
   * Small writes that arrive close together share one transaction and one sync (default true).
   * False commits each in its own, as before (the benchmark's baseline).
   */
  readonly groupCommit?: boolean;
  /** How long a group stays open for more writes, in ms; 0 (the default): until the next turn of the event loop. */
  readonly groupWindowMs?: number;
}

/** A macrotask's wait: timers, I/O and other peers' frames run before the next chunk. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Every insert of `plans`' pieces in order, lazily (a shard's pieces are cut as they are written). */
function* allPieces(plans: readonly WritePlan[]): Generator<PieceInsert> {
  for (const plan of plans) yield* plan.pieces();
}

export class SqliteCoordinatorStore implements CoordinatorStorage {
  /** [N-7] Call order is write order, and a failure fails every write issued before it was known. */
  readonly ordersWrites = true;
  /**
   * The next write's tag: above every tag in the file when this instance was made, so it never
   * names another write's pieces — as long as this instance is its network's only writer to the
   * file, as a coordinator host is (a second writer's pieces would fail `expectPieces`, not mix).
   */
  private nextTag: number;
  /** Writes not finished yet; a write while any is queued waits its turn (call order is write order). */
  private queued = 0;
  private tail: Promise<void> = Promise.resolve();
  /** [N-7] The small writes waiting for one transaction, while no other write is queued after them. */
  private openGroup: GroupMember[] | null = null;
  /** [N-7] Writes issued and not started yet, and a failure of this turn (see `failed`). */
  private readonly waiting = new Set<Ticket>();
  private freshFailure: Error | null = null;
  private readonly groupCommit: boolean;
  private readonly groupWindowMs: number;
  /** [N-7] One transaction over a group's writes, each one's pieces then its records, in call order. */
  private readonly commitGroup: (members: readonly GroupMember[]) => void;

  constructor(
    private readonly db: SqliteDb,
    private readonly networkId: string,
    private readonly pieceBytes: number = SQLITE_PIECE_BYTES,
    private readonly chunkBytes: number = SQLITE_CHUNK_BYTES,
    options: SqliteStoreOptions = {},
  ) {
    this.groupCommit = options.groupCommit ?? true;
    this.groupWindowMs = Math.max(0, options.groupWindowMs ?? 0);
    this.commitGroup = db.transaction((members: readonly GroupMember[]) => {
      for (const m of members) {
        for (const piece of m.chunk) piece.run();
        m.plan.commit();
      }
    });
    const top = db
      .prepare(
        `SELECT MAX(t) AS t FROM (SELECT MAX(tag) AS t FROM job_pieces UNION ALL SELECT MAX(tag) FROM shard_pieces UNION ALL SELECT MAX(tag) FROM model_pieces
          UNION ALL SELECT MAX(${jsonField('record', '$.tag')}) FROM jobs UNION ALL SELECT MAX(${jsonField('record', '$.pieces.tag')}) FROM shards)`,
      )
      .get() as { t: number | null };
    this.nextTag = (top.t ?? 0) + 1;
  }

  /**
   * [N-6] Runs `plan`: a small one (its pieces fit one chunk) joins the open group ([N-7]), or
   * without group commit runs at once when no write is queued (committing whole in this call);
   * a big one runs after the writes before it, a chunk of pieces per transaction, a turn of the
   * event loop between. Resolves once the records' transaction committed.
   */
  private write(plan: WritePlan): Promise<void> {
    const pieces = plan.pieces()[Symbol.iterator]();
    let next = pieces.next();
    // Pieces up to chunkBytes (at least one): what one transaction inserts.
    const take = (): PieceInsert[] => {
      const chunk: PieceInsert[] = [];
      let bytes = 0;
      while (!next.done && (bytes === 0 || bytes + next.value.bytes <= this.chunkBytes)) {
        bytes += next.value.bytes;
        chunk.push(next.value);
        next = pieces.next();
      }
      return chunk;
    };
    let first: PieceInsert[] | null = take();
    if (next.done === true && this.groupCommit) return this.joinGroup(first, plan);
    // A big write keeps the chunked path of its own: one transaction per chunk, which a group
    // would stretch into one long block of the event loop again.
    this.openGroup = null;
    const run = this.db.transaction((chunk: readonly PieceInsert[], last: boolean) => {
      for (const piece of chunk) piece.run();
      if (last) plan.commit();
    });
    // One transaction: the next chunk, and after the last of them the records.
    const step = (): boolean => {
      const chunk = first ?? take();
      first = null;
      if (next.done === true) {
        run(chunk, true);
        return true;
      }
      // Pieces no record names yet need no sync of their own: the records' commit (FULL) syncs the
      // WAL, every frame before it included. A sync per chunk doubled a big write's time.
      this.db.pragma('synchronous = NORMAL');
      try {
        run(chunk, false);
      } finally {
        this.db.pragma('synchronous = FULL');
      }
      return false;
    };
    const ticket = this.ticket();
    // Its chunks, a turn between; a failure here is a new one ([N-7]), failing the writes behind.
    const chunks = async (): Promise<void> => {
      try {
        while (!step()) await nextTurn();
      } catch (e) {
        throw this.failed(e);
      } finally {
        this.queued--;
      }
    };
    this.queued++;
    if (this.queued === 1) {
      try {
        this.start(ticket);
      } catch (e) {
        this.queued--;
        return Promise.reject(e as Error);
      }
      try {
        if (step()) {
          this.queued--;
          return Promise.resolve();
        }
      } catch (e) {
        this.queued--;
        return Promise.reject(this.failed(e));
      }
      const done = nextTurn().then(chunks);
      this.tail = done.catch(() => undefined);
      return done;
    }
    const done = this.tail.then(async () => {
      try {
        this.start(ticket);
      } catch (e) {
        this.queued--;
        throw e;
      }
      await chunks();
    });
    this.tail = done.catch(() => undefined);
    return done;
  }

  /** [N-7] A write issued now: failed already if a write failed this turn, before its caller could know. */
  private ticket(): Ticket {
    const ticket: Ticket = { failure: this.freshFailure };
    this.waiting.add(ticket);
    return ticket;
  }

  /** [N-7] A write starts: it runs unless a write before it failed since it was issued. */
  private start(ticket: Ticket): void {
    this.waiting.delete(ticket);
    if (ticket.failure) throw ticket.failure;
  }

  /**
   * [N-7] A write failed: every write issued before its caller could know (queued behind it, or
   * issued in this turn) fails too, unrun. So a caller with several writes in flight sees them
   * fail from the first failed one on, in call order, and never a later one stored before an
   * earlier one it must write again ([S-3]: a lease put, then its forget).
   */
  private failed(e: unknown): Error {
    const err = e instanceof Error ? e : new Error(String(e));
    for (const t of this.waiting) t.failure ??= err;
    this.freshFailure = err;
    setImmediate(() => {
      if (this.freshFailure === err) this.freshFailure = null;
    });
    return err;
  }

  /**
   * [N-7] Adds a small write to the open group, opening one (queued after every write before it)
   * when there is none. The group waits a turn of the event loop, or `groupWindowMs`, and the
   * writes before it; then all its writes, in call order, go in one transaction and one sync.
   * Every member's promise resolves once that transaction committed, or rejects with its error:
   * a group is stored whole or not at all, so a failed write never leaves the ones beside it
   * half applied, and the host writes each of them again ([S-3]).
   */
  private joinGroup(chunk: readonly PieceInsert[], plan: WritePlan): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const member: GroupMember = { chunk, plan, resolve, reject, ticket: this.ticket() };
      if (this.openGroup) {
        this.openGroup.push(member);
        return;
      }
      const members: GroupMember[] = [member];
      this.openGroup = members;
      this.queued++;
      const window = this.groupWindowMs > 0 ? new Promise<void>((r) => setTimeout(r, this.groupWindowMs)) : nextTurn();
      const done = Promise.all([this.tail, window]).then(() => {
        // Closed before it runs: a write from now on is ordered after it, in a group of its own.
        if (this.openGroup === members) this.openGroup = null;
        // Members issued before a failure their callers had not seen yet fail unrun; they come
        // first in call order, so the rest still land after every write their callers retry.
        const live = members.filter((m) => {
          try {
            this.start(m.ticket);
            return true;
          } catch (err) {
            m.reject(err as Error);
            return false;
          }
        });
        try {
          if (live.length > 0) this.commitGroup(live);
        } catch (e) {
          const err = this.failed(e);
          for (const m of live) m.reject(err);
          return;
        } finally {
          this.queued--;
        }
        for (const m of live) m.resolve();
      });
      this.tail = done;
    });
  }

  /**
   * Fails the records' transaction unless every piece of `tag` is there: pieces swept by another
   * process that opened the file meanwhile must fail the write (the host retries it, [S-3]), not
   * store a record whose bytes are gone.
   */
  private expectPieces(table: 'job_pieces' | 'shard_pieces' | 'model_pieces', where: string, params: readonly unknown[], count: number): void {
    const got = (this.db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`).get(...params) as { n: number }).n;
    if (got !== count)
      throw new SqliteStoreError(`${got} of the ${count} pieces just written are gone from ${table}: is another process using ${this.db.name}?`);
  }

  /** The job's record, its input tensors' bytes and its files' bytes, stored whole or not at all. */
  putJob(job: JobRecord): Promise<void> {
    const slots = [...job.inputs.map((t) => t.data), ...(job.files ?? []).map((f) => f.bytes)];
    const tag = this.nextTag++;
    const record = jsonWithoutBytes({ job, sizes: slots.map((b) => b.byteLength), tag });
    const net = this.networkId;
    const insert = this.db.prepare('INSERT INTO job_pieces (network_id, job_id, tag, slot, piece, bytes) VALUES (?, ?, ?, ?, ?, ?)');
    const pieceBytes = this.pieceBytes;
    let count = 0;
    return this.write({
      *pieces() {
        for (const [slot, data] of slots.entries()) {
          let piece = 0;
          for (const bytes of cut(data, pieceBytes)) {
            const at = piece++;
            count++;
            yield { bytes: bytes.byteLength, run: () => insert.run(net, job.id, tag, slot, at, bytes) };
          }
        }
      },
      commit: () => {
        this.expectPieces('job_pieces', 'network_id = ? AND job_id = ? AND tag = ?', [net, job.id, tag], count);
        this.db.prepare('DELETE FROM job_pieces WHERE network_id = ? AND job_id = ? AND tag <> ?').run(net, job.id, tag);
        this.db.prepare('INSERT OR REPLACE INTO jobs (network_id, job_id, record) VALUES (?, ?, ?)').run(net, job.id, record);
      },
    });
  }

  /** [S-2] Resolves once its record's transaction committed with a full sync. */
  async putShard(jobId: JobId, shard: ShardState): Promise<number> {
    const record = shardRecord(jobId, shard);
    await this.write(this.shardPlan(record));
    return record.epoch ?? 0;
  }

  /** The shard's pieces under a new tag, then its record, replacing what was stored of it. */
  private shardPlan(record: StoredShard): WritePlan {
    const { jobId, index } = record;
    const split = splitShardAlways(record, this.nextTag++, this.pieceBytes);
    const { jobId: _j, index: _i, ...rest } = split.record;
    const tag = split.record.pieces?.tag ?? 0;
    const text = jsonWithoutBytes(rest);
    const net = this.networkId;
    const insert = this.db.prepare('INSERT INTO shard_pieces (network_id, job_id, idx, tag, piece, bytes) VALUES (?, ?, ?, ?, ?, ?)');
    return {
      *pieces() {
        let piece = 0;
        for (const bytes of split.pieces()) {
          const at = piece++;
          yield { bytes: bytes.byteLength, run: () => insert.run(net, jobId, index, tag, at, Buffer.from(bytes)) };
        }
      },
      commit: () => {
        this.expectPieces('shard_pieces', 'network_id = ? AND job_id = ? AND idx = ? AND tag = ?', [net, jobId, index, tag], split.record.pieces?.count ?? 0);
        this.db.prepare('DELETE FROM shard_pieces WHERE network_id = ? AND job_id = ? AND idx = ? AND tag <> ?').run(net, jobId, index, tag);
        this.db.prepare('INSERT OR REPLACE INTO shards (network_id, job_id, idx, record) VALUES (?, ?, ?, ?)').run(net, jobId, index, text);
      },
    };
  }

  /** [S-1] Leases, volunteer ids and open shards, stored whole or not at all. */
  persist(batch: PersistBatch, nowMs: number): Promise<void> {
    const net = this.networkId;
    // Taken now: the core goes on changing its leases, volunteers and shards.
    const leases = batch.leases.map((l) => ({ id: l.id, text: JSON.stringify(l) }));
    const forgetLeases = [...batch.forgetLeases];
    const peers = batch.peers.map((p) => peerRecord(net, p, nowMs));
    // Only open shards: a decided one is written by its own `putShard`.
    const shards = batch.openShards.filter((s) => s.status === 'open').map((s) => this.shardPlan(shardRecord(s.jobId, s)));
    return this.write({
      pieces: () => allPieces(shards),
      commit: () => {
        const putLease = this.db.prepare('INSERT OR REPLACE INTO leases (network_id, lease_id, record) VALUES (?, ?, ?)');
        for (const l of leases) putLease.run(net, l.id, l.text);
        const forget = this.db.prepare('DELETE FROM leases WHERE network_id = ? AND lease_id = ?');
        for (const id of forgetLeases) forget.run(net, id);
        const putPeer = this.db.prepare(
          'INSERT OR REPLACE INTO peers (network_id, peer_id, token, reputation, standing, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?)',
        );
        for (const r of peers) putPeer.run(net, r.peerId, r.token, JSON.stringify(r.reputation ?? null), JSON.stringify(r.standing), r.updatedAtMs);
        for (const s of shards) s.commit();
      },
    });
  }

  putModel(hash: ModelHash, bytes: ArrayBuffer, nowMs: number): Promise<void> {
    const tag = this.nextTag++;
    const insert = this.db.prepare('INSERT INTO model_pieces (hash, tag, piece, bytes) VALUES (?, ?, ?, ?)');
    const pieceBytes = this.pieceBytes;
    let count = 0;
    return this.write({
      *pieces() {
        for (const piece of cut(bytes, pieceBytes)) {
          const at = count++;
          yield { bytes: piece.byteLength, run: () => insert.run(hash, tag, at, piece) };
        }
      },
      commit: () => {
        this.expectPieces('model_pieces', 'hash = ? AND tag = ?', [hash, tag], count);
        this.db.prepare('DELETE FROM model_pieces WHERE hash = ? AND tag <> ?').run(hash, tag);
        this.db
          .prepare('INSERT OR REPLACE INTO models (hash, bytes, stored_at_ms, tag, size) VALUES (?, ?, ?, ?, ?)')
          .run(hash, Buffer.alloc(0), nowMs, tag, bytes.byteLength);
      },
    });
  }

  async loadModel(hash: ModelHash): Promise<ArrayBuffer | null> {
    const row = this.db.prepare('SELECT bytes, tag, size FROM models WHERE hash = ?').get(hash) as
      { bytes: Uint8Array; tag: number | null; size: number | null } | undefined;
    if (!row) return null;
    if (row.tag === null) return arrayBufferOf(row.bytes); // kept inline by v1
    const rows = this.db.prepare('SELECT piece, bytes FROM model_pieces WHERE hash = ? AND tag = ? ORDER BY piece').all(hash, row.tag) as PieceRow[];
    const joined = joinRows(rows, row.size ?? 0);
    if (typeof joined !== 'string') return joined;
    console.warn(`[store] model ${hash}: ${joined}; not loaded`);
    return null;
  }

  /** This network's jobs with their bytes put back; one that does not read back whole is left out, with a warning. */
  async loadJobs(): Promise<StoredJob[]> {
    const rows = this.db.prepare('SELECT job_id AS id, record FROM jobs WHERE network_id = ? ORDER BY job_id').all(this.networkId) as {
      id: string;
      record: string;
    }[];
    const out: StoredJob[] = [];
    for (const row of rows) {
      const job = this.readJob(row.id, row.record);
      if (typeof job === 'string') console.warn(`[store] job ${row.id}: ${job}; not restored`);
      else out.push({ networkId: this.networkId, job });
    }
    return out;
  }

  private readJob(jobId: string, text: string): JobRecord | string {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return 'its stored record is not JSON';
    }
    const o = (raw ?? {}) as { job?: unknown; sizes?: unknown; tag?: unknown };
    const parsed = jobRecordSchema.safeParse(o.job);
    if (!parsed.success) return `its stored record does not parse (${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? ''})`;
    const meta = parsed.data;
    const sizes = Array.isArray(o.sizes) ? (o.sizes as unknown[]) : [];
    const slots = meta.inputs.length + (meta.files?.length ?? 0);
    if (sizes.length !== slots || sizes.some((n) => typeof n !== 'number' || !Number.isInteger(n) || n < 0))
      return 'its stored sizes do not match its inputs and files';
    // A v1 record has no tag: its pieces have tag 0.
    const tag = typeof o.tag === 'number' ? o.tag : 0;
    const piecesOf = this.db.prepare('SELECT piece, bytes FROM job_pieces WHERE network_id = ? AND job_id = ? AND tag = ? AND slot = ? ORDER BY piece');
    const bytes: ArrayBuffer[] = [];
    for (let slot = 0; slot < slots; slot++) {
      const joined = joinRows(piecesOf.all(this.networkId, jobId, tag, slot) as PieceRow[], sizes[slot] as number);
      if (typeof joined === 'string') return `${slot < meta.inputs.length ? `input ${slot}` : `file ${slot - meta.inputs.length}`} has ${joined}`;
      bytes.push(joined);
    }
    const inputs: WireTensor[] = [];
    for (const [i, t] of meta.inputs.entries()) {
      const tensor = wireTensorSchema.safeParse({ ...t, data: bytes[i] });
      if (!tensor.success) return tensor.error.issues[0]?.message ?? `input ${i} does not parse`;
      inputs.push(tensor.data);
    }
    const { files: names, ...rest } = meta;
    if (!names) return { ...rest, inputs };
    return { ...rest, inputs, files: names.map((f, k) => ({ name: f.name, bytes: bytes[meta.inputs.length + k] ?? EMPTY })) };
  }

  /** The job's shards with their bytes put back; one that does not read back whole is left out, with a warning. */
  async loadShards(jobId: JobId): Promise<StoredShard[]> {
    const rows = this.db.prepare('SELECT idx, record FROM shards WHERE network_id = ? AND job_id = ? ORDER BY idx').all(this.networkId, jobId) as {
      idx: number;
      record: string;
    }[];
    const out: StoredShard[] = [];
    for (const row of rows) {
      const shard = this.readShard(jobId, row.idx, row.record);
      if (typeof shard === 'string') console.warn(`[store] shard ${row.idx} of job ${jobId}: ${shard}; not restored, it will be computed again`);
      else out.push(shard);
    }
    return out;
  }

  private readShard(jobId: JobId, index: number, text: string): StoredShard | string {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return 'its stored record is not JSON';
    }
    const parsed = shardRecordSchema.safeParse(raw);
    if (!parsed.success) return `its stored record does not parse (${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? ''})`;
    const r = parsed.data;
    const withEmpty = (outputs: readonly Omit<WireTensor, 'data'>[]): WireTensor[] => outputs.map((t) => ({ ...t, data: EMPTY }));
    const record: StoredShard = {
      jobId,
      index,
      status: r.status,
      disagreements: r.disagreements,
      accepted: r.accepted ? { ...r.accepted, outputs: withEmpty(r.accepted.outputs) } : null,
      replicas: r.replicas.map((rep) => ({ ...rep, outputs: withEmpty(rep.outputs) })),
      epoch: r.epoch,
      pieces: r.pieces,
    };
    const rows = this.db
      .prepare('SELECT piece, bytes FROM shard_pieces WHERE network_id = ? AND job_id = ? AND idx = ? AND tag = ? ORDER BY piece')
      .all(this.networkId, jobId, index, r.pieces.tag) as PieceRow[];
    const joined = joinShard(
      record,
      rows.map((p) => ({ piece: p.piece, bytes: arrayBufferOf(p.bytes) })),
    );
    if (typeof joined === 'string') return `has ${joined}`;
    return tensorProblem(joined) ?? joined;
  }

  async loadLeases(): Promise<StoredLease[]> {
    const rows = this.db.prepare('SELECT lease_id AS id, record FROM leases WHERE network_id = ?').all(this.networkId) as { id: string; record: string }[];
    const out: StoredLease[] = [];
    for (const row of rows) {
      const lease = parseJson(row.record, leaseRecordSchema);
      if (typeof lease === 'string') console.warn(`[store] lease ${row.id}: ${lease}; not restored`);
      else out.push({ ...(lease satisfies LeaseRecord), networkId: this.networkId });
    }
    return out;
  }

  async loadPeers(): Promise<StoredPeer[]> {
    const rows = this.db
      .prepare('SELECT peer_id AS peerId, token, reputation, standing, updated_at_ms AS updatedAtMs FROM peers WHERE network_id = ?')
      .all(this.networkId) as {
      peerId: string;
      token: string;
      reputation: string;
      standing: string;
      updatedAtMs: number;
    }[];
    const out: StoredPeer[] = [];
    for (const row of rows) {
      const standing = parseJson(row.standing, standingSchema);
      let reputation: unknown;
      try {
        // The reputation book's own snapshot: opaque here, checked by the book when restored.
        reputation = JSON.parse(row.reputation);
      } catch {
        reputation = undefined;
      }
      if (typeof standing === 'string' || reputation === undefined) {
        console.warn(`[store] volunteer id ${row.peerId}: its stored standing or reputation does not parse; not restored`);
        continue;
      }
      out.push({ networkId: this.networkId, peerId: row.peerId as StoredPeer['peerId'], token: row.token, reputation, standing, updatedAtMs: row.updatedAtMs });
    }
    return out;
  }

  /** [J-1] Read and, on first use, written in one transaction: two processes starting at once agree on one key. */
  async requesterKey(generate: () => string): Promise<string> {
    return this.db
      .transaction(() => {
        const stored = this.setting('requesterKey');
        if (typeof stored === 'string' && stored !== '') return stored;
        const fresh = generate();
        this.putSetting('requesterKey', fresh);
        return fresh;
      })
      .immediate();
  }

  async jobLimits(): Promise<JobLimits> {
    const stored = this.setting('jobLimits');
    return clampJobLimits(stored !== null && typeof stored === 'object' ? (stored as Partial<Record<keyof JobLimits, unknown>>) : {});
  }

  async putJobLimits(limits: Partial<Record<keyof JobLimits, unknown>>): Promise<JobLimits> {
    const clean = clampJobLimits(limits);
    this.putSetting('jobLimits', clean);
    return clean;
  }

  /** A setting's stored value; undefined when there is none or it is not JSON (then the default applies). */
  private setting(name: string): unknown {
    const row = this.db.prepare('SELECT value FROM settings WHERE network_id = ? AND name = ?').get(this.networkId, name) as { value: string } | undefined;
    if (!row) return undefined;
    try {
      return JSON.parse(row.value) as unknown;
    } catch {
      return undefined;
    }
  }

  private putSetting(name: string, value: unknown): void {
    this.db.prepare('INSERT OR REPLACE INTO settings (network_id, name, value) VALUES (?, ?, ?)').run(this.networkId, name, JSON.stringify(value));
  }
}

/** `text` parsed as JSON and then by `schema`, or why not. */
function parseJson<T>(text: string, schema: z.ZodType<T>): T | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return 'its stored record is not JSON';
  }
  const parsed = schema.safeParse(raw);
  return parsed.success ? parsed.data : `its stored record does not parse (${parsed.error.issues[0]?.message ?? ''})`;
}
