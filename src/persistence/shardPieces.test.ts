import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JobRecord, Replica, ShardState } from '../core/coordinator/state.ts';
import { asJobId, asModelHash, asPeerId, shardIdOf } from '../protocol/ids.ts';
import { DEFAULT_POLICY } from '../protocol/policy.ts';
import type { WireTensor } from '../protocol/tensor.ts';
import { CoordinatorStore } from './coordinatorStore.ts';
import { openQuorumDb, type QuorumDb } from './db.ts';

const jobId = asJobId('job1');
const PIECE = 64; // bytes: small pieces so that a few hundred bytes of outputs need several

const job = (): JobRecord => ({
  id: jobId,
  name: 'j',
  modelHash: asModelHash('a'.repeat(64)),
  modelBytes: 3,
  inputs: [{ name: 'x', dtype: 'float32', dims: [2, 1], data: new Float32Array([1, 2]).buffer }],
  items: 2,
  shardSize: 1,
  shardCount: 2,
  policy: DEFAULT_POLICY,
  createdAtMs: 1,
  submittedBy: asPeerId('req'),
});

const tensor = (name: string, floats: number, seed: number): WireTensor => ({
  name,
  dtype: 'float32',
  dims: [1, floats],
  data: Float32Array.from({ length: floats }, (_, i) => i * 0.5 + seed).buffer,
});

const replica = (volunteer: string, outputs: readonly WireTensor[]): Replica => ({
  volunteer: asPeerId(volunteer),
  backend: 'wasm',
  adapter: null,
  ortVersion: '1.30.0',
  outputs,
  receivedAtMs: 5,
});

function shard(status: ShardState['status'], replicas: readonly Replica[], epoch = 1): ShardState {
  const accepted =
    status === 'verified' && replicas[0]
      ? { outputs: replicas[0].outputs, volunteers: replicas.map((r) => r.volunteer), backends: replicas.map((r) => r.backend), acceptedAtMs: 9 }
      : null;
  return {
    id: shardIdOf(jobId, 0),
    jobId,
    index: 0,
    start: 0,
    count: 1,
    status,
    target: 2,
    replicas: [...replicas],
    leases: new Set(),
    accepted,
    disagreements: 0,
    lone: false,
    spotChecked: false,
    epoch,
    queueKey: 0,
    queued: false,
    inFlight: status === 'open',
  };
}

/** Bytes of ArrayBuffers in a value, as the structured clone of one put copies them (each buffer once). */
function bufferBytes(value: unknown, seen = new Set<ArrayBuffer>()): number {
  if (value instanceof ArrayBuffer) {
    if (seen.has(value)) return 0;
    seen.add(value);
    return value.byteLength;
  }
  if (ArrayBuffer.isView(value)) return bufferBytes(value.buffer, seen);
  if (value === null || typeof value !== 'object') return 0;
  let n = 0;
  for (const v of Object.values(value)) n += bufferBytes(v, seen);
  return n;
}

/** The largest number of bytes any one `put` on any object store copied while `run` ran. */
async function largestPut(run: () => Promise<unknown>): Promise<number> {
  let largest = 0;
  const proto = globalThis.IDBObjectStore.prototype;
  const put = proto.put;
  const spy = vi.spyOn(proto, 'put').mockImplementation(function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
    largest = Math.max(largest, bufferBytes(value));
    return put.call(this, value, key);
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return largest;
}

const floatsOf = (t: WireTensor | undefined): number[] => [...new Float32Array(t!.data)];

let db: QuorumDb | null = null;
afterEach(() => {
  db?.close();
  db = null;
});

describe('CoordinatorStore: shard results in pieces', () => {
  it('[S-1] writes an accepted shard whose outputs exceed the piece size in puts no bigger than a piece, and reloads it byte-exact', async () => {
    db = await openQuorumDb(`test-${Math.random()}`);
    const store = new CoordinatorStore(db, 'net-a', PIECE);
    await store.putJob(job());
    // 2 replicas × (100 + 30 floats) = 1040 bytes of outputs; the accepted copy shares replica 0's buffers.
    const reps = [replica('v1', [tensor('y', 100, 1), tensor('z', 30, 2)]), replica('v2', [tensor('y', 100, 1.0001), tensor('z', 30, 2)])];
    const verified = shard('verified', reps, 3);
    const largest = await largestPut(() => store.putShard(jobId, verified));
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThanOrEqual(PIECE);

    const [loaded] = await store.loadShards(jobId);
    expect(loaded).toMatchObject({ jobId, index: 0, status: 'verified', epoch: 3 });
    expect(loaded!.accepted!.outputs.map((t) => [t.name, t.dims])).toEqual([
      ['y', [1, 100]],
      ['z', [1, 30]],
    ]);
    expect(floatsOf(loaded!.accepted!.outputs[0])).toEqual(floatsOf(reps[0]!.outputs[0]));
    expect(floatsOf(loaded!.accepted!.outputs[1])).toEqual(floatsOf(reps[0]!.outputs[1]));
    expect(loaded!.replicas!.map((r) => r.volunteer)).toEqual(['v1', 'v2']);
    for (const [i, r] of reps.entries()) {
      for (const [j, t] of r.outputs.entries()) expect(floatsOf(loaded!.replicas![i]!.outputs[j])).toEqual(floatsOf(t));
    }
  });

  it("[S-1] writes an open shard's replicas from a persist batch in pieces too, and a rewrite leaves no stale pieces", async () => {
    db = await openQuorumDb(`test-${Math.random()}`);
    const store = new CoordinatorStore(db, 'net-a', PIECE);
    await store.putJob(job());
    const r1 = replica('v1', [tensor('y', 50, 1)]);
    const r2 = replica('v2', [tensor('y', 50, 1)]);
    const batch = (s: ShardState) => ({ leases: [], forgetLeases: [], peers: [], openShards: [s] });
    const largest = await largestPut(() => store.persist(batch(shard('open', [r1])), 7));
    expect(largest).toBeLessThanOrEqual(PIECE);
    await store.persist(batch(shard('open', [r1, r2], 2)), 8);
    const [open] = await store.loadShards(jobId);
    expect(open!.replicas!.map((r) => floatsOf(r.outputs[0]))).toEqual([floatsOf(r1.outputs[0]), floatsOf(r2.outputs[0])]);
    // Only the latest write's pieces remain: 2 × 200 bytes in 64-byte pieces.
    expect(await db.count('shardPieces')).toBe(Math.ceil(400 / PIECE));
    await store.putShard(jobId, shard('verified', [r1, r2], 3));
    expect(await db.count('shardPieces')).toBe(Math.ceil(400 / PIECE));
  });

  it('[S-2] never restores a shard whose pieces are missing (the shard is computed again, and the log says so), and removes pieces no record points at', async () => {
    db = await openQuorumDb(`test-${Math.random()}`);
    const store = new CoordinatorStore(db, 'net-a', PIECE);
    await store.putJob(job());
    await store.putShard(jobId, shard('verified', [replica('v1', [tensor('y', 100, 1)]), replica('v2', [tensor('y', 100, 1)])]));
    const keys = await db.getAllKeys('shardPieces');
    expect(keys.length).toBeGreaterThan(1);
    await db.delete('shardPieces', keys[1]!);
    // Pieces of a write cut short before its record: nothing points at them.
    await db.put('shardPieces', { jobId, index: 1, tag: 9, piece: 0, bytes: new ArrayBuffer(8) });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(await store.loadShards(jobId)).toEqual([]);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/shard 0 of job job1: .*pieces.*not restored/));
    warn.mockRestore();
    expect((await db.getAllKeys('shardPieces')).some((k) => k[1] === 1)).toBe(false);
  });

  it('[S-2] a rewrite cut short before its record leaves the stored record whole, and its pieces are removed', async () => {
    db = await openQuorumDb(`test-${Math.random()}`);
    const store = new CoordinatorStore(db, 'net-a', PIECE);
    await store.putJob(job());
    const reps = [replica('v1', [tensor('y', 100, 1)]), replica('v2', [tensor('y', 100, 3)])];
    await store.putShard(jobId, shard('verified', reps, 4));
    const stored = await db.count('shardPieces');
    // A later write of the same shard got as far as some of its pieces (under the next tag).
    const [record] = await db.getAll('shards');
    const next = record!.pieces!.tag + 1;
    for (let piece = 0; piece < 3; piece++) await db.put('shardPieces', { jobId, index: 0, tag: next, piece, bytes: new ArrayBuffer(PIECE) });
    const [loaded] = await store.loadShards(jobId);
    expect(loaded).toMatchObject({ status: 'verified', epoch: 4 });
    expect(loaded!.replicas!.map((r) => floatsOf(r.outputs[0]))).toEqual(reps.map((r) => floatsOf(r.outputs[0])));
    expect(await db.count('shardPieces')).toBe(stored);
  });

  it('keeps a shard whose outputs fit in one piece inline, in a single put', async () => {
    db = await openQuorumDb(`test-${Math.random()}`);
    const store = new CoordinatorStore(db, 'net-a', PIECE);
    await store.putJob(job());
    await store.putShard(jobId, shard('verified', [replica('v1', [tensor('y', 4, 1)]), replica('v2', [tensor('y', 4, 1)])]));
    expect(await db.count('shardPieces')).toBe(0);
    const [loaded] = await store.loadShards(jobId);
    expect(floatsOf(loaded!.accepted!.outputs[0])).toEqual([1, 1.5, 2, 2.5]);
  });
});
