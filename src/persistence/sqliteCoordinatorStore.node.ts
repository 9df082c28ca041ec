/**
 * A Node coordinator's storage: one SQLite file (better-sqlite3), shared by every network the
 * process coordinates, as a browser origin shares one IndexedDB database. The only file that
 * imports better-sqlite3; Node only (the browser app never imports a `.node.ts` file).
 *
 * - Durable: WAL with `synchronous = FULL`, so every committed write survives a power cut. Each
 *   write is one transaction, so a job, a shard or a persist batch is stored whole or not at all:
 *   no orphan pieces, no tags ([S-1], [S-2] need nothing more).
 * - Versioned: `PRAGMA user_version` counts the MIGRATIONS applied; a file from a newer build is
 *   refused rather than misread.
 * - Bytes in blobs, cut into pieces of at most `pieceBytes` (a 128 MiB tensor is never one
 *   allocation on read); records as JSON without their bytes.
 * - Not trusted on the way back ([S-5]): every record is parsed with the protocol's schemas
 *   (storedRecordSchemas.ts) and every tensor's bytes checked against its dims; a record that
 *   fails is left out with a console warning, as the IndexedDB store leaves out one whose pieces
 *   are missing.
 *
 * better-sqlite3 is synchronous: each method does all of its work before it returns its promise,
 * so the record a write stores is the one it was called with.
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
];

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

export class SqliteCoordinatorStore implements CoordinatorStorage {
  constructor(
    private readonly db: SqliteDb,
    private readonly networkId: string,
    private readonly pieceBytes: number = SQLITE_PIECE_BYTES,
  ) {}

  /** The job's record, its input tensors' bytes and its files' bytes, in one transaction. */
  async putJob(job: JobRecord): Promise<void> {
    const slots = [...job.inputs.map((t) => t.data), ...(job.files ?? []).map((f) => f.bytes)];
    const record = jsonWithoutBytes({ job, sizes: slots.map((b) => b.byteLength) });
    const net = this.networkId;
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM job_pieces WHERE network_id = ? AND job_id = ?').run(net, job.id);
      const insert = this.db.prepare('INSERT INTO job_pieces (network_id, job_id, slot, piece, bytes) VALUES (?, ?, ?, ?, ?)');
      slots.forEach((data, slot) => {
        let piece = 0;
        for (const bytes of cut(data, this.pieceBytes)) insert.run(net, job.id, slot, piece++, bytes);
      });
      this.db.prepare('INSERT OR REPLACE INTO jobs (network_id, job_id, record) VALUES (?, ?, ?)').run(net, job.id, record);
    })();
  }

  /** [S-2] One transaction, committed with a full sync before the promise resolves. */
  async putShard(jobId: JobId, shard: ShardState): Promise<number> {
    const record = shardRecord(jobId, shard);
    this.db.transaction(() => this.writeShard(record))();
    return record.epoch ?? 0;
  }

  /** The shard's record and its bytes, replacing what was stored of it; inside a transaction. */
  private writeShard(record: StoredShard): void {
    const { jobId, index } = record;
    const split = splitShardAlways(record, 0, this.pieceBytes);
    const { jobId: _j, index: _i, ...rest } = split.record;
    this.db.prepare('DELETE FROM shard_pieces WHERE network_id = ? AND job_id = ? AND idx = ?').run(this.networkId, jobId, index);
    const insert = this.db.prepare('INSERT INTO shard_pieces (network_id, job_id, idx, piece, bytes) VALUES (?, ?, ?, ?, ?)');
    let piece = 0;
    for (const bytes of split.pieces()) insert.run(this.networkId, jobId, index, piece++, Buffer.from(bytes));
    this.db
      .prepare('INSERT OR REPLACE INTO shards (network_id, job_id, idx, record) VALUES (?, ?, ?, ?)')
      .run(this.networkId, jobId, index, jsonWithoutBytes(rest));
  }

  /** [S-1] Leases, volunteer ids and open shards in one transaction. */
  async persist(batch: PersistBatch, nowMs: number): Promise<void> {
    const net = this.networkId;
    this.db.transaction(() => {
      const putLease = this.db.prepare('INSERT OR REPLACE INTO leases (network_id, lease_id, record) VALUES (?, ?, ?)');
      for (const l of batch.leases) putLease.run(net, l.id, JSON.stringify(l));
      const forget = this.db.prepare('DELETE FROM leases WHERE network_id = ? AND lease_id = ?');
      for (const id of batch.forgetLeases) forget.run(net, id);
      const putPeer = this.db.prepare(
        'INSERT OR REPLACE INTO peers (network_id, peer_id, token, reputation, standing, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?)',
      );
      for (const p of batch.peers) {
        const r = peerRecord(net, p, nowMs);
        putPeer.run(net, r.peerId, r.token, JSON.stringify(r.reputation ?? null), JSON.stringify(r.standing), r.updatedAtMs);
      }
      // Only open shards: a decided one is written by its own `putShard`.
      for (const s of batch.openShards) if (s.status === 'open') this.writeShard(shardRecord(s.jobId, s));
    })();
  }

  async putModel(hash: ModelHash, bytes: ArrayBuffer, nowMs: number): Promise<void> {
    this.db.prepare('INSERT OR REPLACE INTO models (hash, bytes, stored_at_ms) VALUES (?, ?, ?)').run(hash, Buffer.from(bytes), nowMs);
  }

  async loadModel(hash: ModelHash): Promise<ArrayBuffer | null> {
    const row = this.db.prepare('SELECT bytes FROM models WHERE hash = ?').get(hash) as { bytes: Uint8Array } | undefined;
    return row ? arrayBufferOf(row.bytes) : null;
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
    const o = (raw ?? {}) as { job?: unknown; sizes?: unknown };
    const parsed = jobRecordSchema.safeParse(o.job);
    if (!parsed.success) return `its stored record does not parse (${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? ''})`;
    const meta = parsed.data;
    const sizes = Array.isArray(o.sizes) ? (o.sizes as unknown[]) : [];
    const slots = meta.inputs.length + (meta.files?.length ?? 0);
    if (sizes.length !== slots || sizes.some((n) => typeof n !== 'number' || !Number.isInteger(n) || n < 0))
      return 'its stored sizes do not match its inputs and files';
    const piecesOf = this.db.prepare('SELECT piece, bytes FROM job_pieces WHERE network_id = ? AND job_id = ? AND slot = ? ORDER BY piece');
    const bytes: ArrayBuffer[] = [];
    for (let slot = 0; slot < slots; slot++) {
      const joined = joinRows(piecesOf.all(this.networkId, jobId, slot) as PieceRow[], sizes[slot] as number);
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
      .prepare('SELECT piece, bytes FROM shard_pieces WHERE network_id = ? AND job_id = ? AND idx = ? ORDER BY piece')
      .all(this.networkId, jobId, index) as PieceRow[];
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
