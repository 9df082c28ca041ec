import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import type { JobRecord, ShardState } from '../core/coordinator/state.ts';
import { asJobId, asLeaseId, asModelHash, asPeerId, shardIdOf } from '../protocol/ids.ts';
import { imagePipeline } from '../core/testing/fileJobFixtures.ts';
import { DEFAULT_POLICY } from '../protocol/policy.ts';
import { CoordinatorStore } from './coordinatorStore.ts';
import { unavailableStorage } from './coordinatorStorage.ts';
import { openQuorumDb } from './db.ts';
import { makeLegacyDb } from './testing/legacyDb.ts';
import { ModelCache } from './modelCache.ts';

const hash = asModelHash('a'.repeat(64));
const jobId = asJobId('job1');

function job(): JobRecord {
  return {
    id: jobId,
    name: 'test job',
    modelHash: hash,
    modelBytes: 3,
    inputs: [{ name: 'x', dtype: 'float32', dims: [2, 2], data: new Float32Array([1, 2, 3, 4]).buffer }],
    items: 2,
    shardSize: 1,
    shardCount: 2,
    policy: DEFAULT_POLICY,
    createdAtMs: 1000,
    submittedBy: asPeerId('req'),
  };
}

describe('CoordinatorStore', () => {
  it('keeps jobs, models and verified shards per network, and reads them back', async () => {
    const db = await openQuorumDb(`test-${Math.random()}`);
    const store = new CoordinatorStore(db, 'net-a');
    const other = new CoordinatorStore(db, 'net-b');
    await store.putModel(hash, new Uint8Array([1, 2, 3]).buffer, 5);
    await store.putJob(job());
    const shard: ShardState = {
      id: shardIdOf(jobId, 1),
      jobId,
      index: 1,
      start: 1,
      count: 1,
      status: 'verified',
      target: 2,
      replicas: [],
      leases: new Set(),
      accepted: {
        outputs: [{ name: 'y', dtype: 'float32', dims: [1, 1], data: new Float32Array([7]).buffer }],
        volunteers: [asPeerId('v1'), asPeerId('v2')],
        backends: ['wasm', 'webgpu'],
        acceptedAtMs: 9,
      },
      disagreements: 0,
      lone: false,
      spotChecked: false,
      epoch: 1,
      queueKey: 1,
      queued: false,
      inFlight: false,
    };
    await store.putShard(jobId, shard);

    const jobs = await store.loadJobs();
    expect(jobs.map((j) => j.job.id)).toEqual([jobId]);
    expect(new Float32Array(jobs[0]!.job.inputs[0]!.data)).toEqual(new Float32Array([1, 2, 3, 4]));
    expect(await other.loadJobs()).toEqual([]);
    expect(new Uint8Array((await store.loadModel(hash))!)).toEqual(new Uint8Array([1, 2, 3]));
    const shards = await store.loadShards(jobId);
    expect(shards).toHaveLength(1);
    expect(shards[0]).toMatchObject({ jobId, index: 1, status: 'verified', accepted: { volunteers: ['v1', 'v2'], backends: ['wasm', 'webgpu'] } });
    expect(new Float32Array(shards[0]!.accepted!.outputs[0]!.data)).toEqual(new Float32Array([7]));
  });

  it('[S-1] keeps leases, volunteer ids and open shards (with replicas) in one batch, per network', async () => {
    const db = await openQuorumDb(`test-${Math.random()}`);
    const store = new CoordinatorStore(db, 'net-a');
    const other = new CoordinatorStore(db, 'net-b');
    const lease = {
      id: asLeaseId('l1'),
      jobId,
      shardIndex: 0,
      volunteer: asPeerId('v1'),
      issuedAtMs: 1,
      deadlineMs: 61,
      canary: false,
      epoch: 0,
      retired: false,
    };
    const open: ShardState = {
      id: shardIdOf(jobId, 0),
      jobId,
      index: 0,
      start: 0,
      count: 1,
      status: 'open',
      target: 2,
      replicas: [
        {
          volunteer: asPeerId('v2'),
          backend: 'wasm',
          adapter: null,
          ortVersion: '1.30.0',
          outputs: [{ name: 'y', dtype: 'float32', dims: [1, 1], data: new Float32Array([3]).buffer }],
          receivedAtMs: 5,
        },
      ],
      leases: new Set(),
      accepted: null,
      disagreements: 0,
      lone: false,
      spotChecked: false,
      epoch: 2,
      queueKey: 0,
      queued: false,
      inFlight: true,
    };
    const peer = {
      peerId: asPeerId('v1'),
      token: 'tok',
      reputation: { validated: 3 },
      standing: { shardsAccepted: 2, resultsReturned: 3, resultsRejected: 1 },
    };
    await store.persist({ leases: [lease, { ...lease, id: asLeaseId('l2') }], forgetLeases: [], peers: [peer], openShards: [open] }, 7);
    await store.persist({ leases: [{ ...lease, retired: true }], forgetLeases: [asLeaseId('l2')], peers: [], openShards: [] }, 8);
    expect(await store.loadLeases()).toEqual([{ ...lease, retired: true, networkId: 'net-a' }]);
    expect(await store.loadPeers()).toEqual([{ networkId: 'net-a', ...peer, updatedAtMs: 7 }]);
    expect(await other.loadLeases()).toEqual([]);
    expect(await other.loadPeers()).toEqual([]);
    const [stored] = await store.loadShards(jobId);
    expect(stored).toMatchObject({ status: 'open', epoch: 2, replicas: [{ volunteer: 'v2', backend: 'wasm', receivedAtMs: 5 }] });
    expect(new Float32Array(stored!.replicas![0]!.outputs[0]!.data)).toEqual(new Float32Array([3]));
    // A decided shard's strict write says which epoch it holds ([S-2]).
    expect(
      await store.putShard(jobId, { ...open, status: 'verified', epoch: 3, accepted: { outputs: [], volunteers: [], backends: [], acceptedAtMs: 9 } }),
    ).toBe(3);
    db.close();
  });

  it("writes a job's inputs in pieces before its record, and puts them back together", async () => {
    const db = await openQuorumDb(`test-${Math.random()}`);
    const store = new CoordinatorStore(db, 'net-a', 5); // 5-byte pieces
    const bytes = (n: number, seed: number): ArrayBuffer => Uint8Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff).buffer;
    const big: JobRecord = {
      ...job(),
      inputs: [
        { name: 'x', dtype: 'uint8', dims: [2, 8], data: bytes(16, 1) },
        { name: 'y', dtype: 'uint8', dims: [2, 5], data: bytes(10, 2) },
      ],
    };
    const puts: string[] = [];
    const put = db.put.bind(db);
    vi.spyOn(db, 'put').mockImplementation((name, value, key) => {
      puts.push(name);
      return put(name, value, key);
    });
    await store.putJob(big);
    // 16 bytes in 4 pieces, 10 in 2, then the record: no put copies more than 5 input bytes.
    expect(puts).toEqual([...new Array<string>(6).fill('jobPieces'), 'jobs']);
    const [loaded] = await store.loadJobs();
    expect(loaded!.job.inputs.map((t) => [...new Uint8Array(t.data)])).toEqual(big.inputs.map((t) => [...new Uint8Array(t.data)]));
    expect(loaded!.job.inputs.map((t) => t.dims)).toEqual([
      [2, 8],
      [2, 5],
    ]);
    db.close();
  });

  it('[J-7] writes a job of files in pieces (end to end, not one put per file) and restores every file after a reload', async () => {
    const db = await openQuorumDb(`test-${Math.random()}`);
    const store = new CoordinatorStore(db, 'net-a', 5); // 5-byte pieces
    const files = [3, 7, 1, 4].map((n, i) => ({ name: `f${i}.png`, bytes: Uint8Array.from({ length: n }, (_, k) => i * 16 + k).buffer }));
    const withFiles: JobRecord = { ...job(), inputs: [], files, pipeline: imagePipeline(hash), items: 4, shardCount: 4 };
    const puts: string[] = [];
    const put = db.put.bind(db);
    vi.spyOn(db, 'put').mockImplementation((name, value, key) => {
      puts.push(name);
      return put(name, value, key);
    });
    await store.putJob(withFiles);
    // 15 bytes of files in 3 pieces, then the record.
    expect(puts).toEqual(['jobPieces', 'jobPieces', 'jobPieces', 'jobs']);
    // A reload: a fresh store on the same database.
    const [loaded] = await new CoordinatorStore(db, 'net-a', 5).loadJobs();
    expect(loaded!.job.files!.map((f) => [f.name, [...new Uint8Array(f.bytes)]])).toEqual(files.map((f) => [f.name, [...new Uint8Array(f.bytes)]]));
    expect(loaded!.job.pipeline).toEqual(withFiles.pipeline);
    expect(loaded!.job.inputs).toEqual([]);
    // A piece lost: the job is left out rather than leasing cut files.
    await db.delete('jobPieces', [jobId, 0, 1]);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(await store.loadJobs()).toEqual([]);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/its files has 2 of its 3 stored pieces; not restored/));
    warn.mockRestore();
    db.close();
  });

  it('leaves out a job with a piece missing, and removes pieces whose job never got its record, on its own network only', async () => {
    const db = await openQuorumDb(`test-${Math.random()}`);
    const a = new CoordinatorStore(db, 'net-a', 4);
    const b = new CoordinatorStore(db, 'net-b', 4);
    await a.putJob(job()); // 16 bytes: 4 pieces
    await db.delete('jobPieces', [jobId, 0, 2]);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(await a.loadJobs()).toEqual([]);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/has 3 of its 4 stored pieces; not restored/));
    warn.mockRestore();
    // Pieces with no record: a job write cut short. Network b's are not a's to remove.
    const orphan = (networkId: string, id: string) => ({ networkId, jobId: asJobId(id), input: 0, piece: 0, bytes: new ArrayBuffer(1) });
    await db.put('jobPieces', orphan('net-a', 'gone-a'));
    await db.put('jobPieces', orphan('net-b', 'gone-b'));
    await a.loadJobs();
    expect((await db.getAllKeys('jobPieces')).map((k) => k[0])).not.toContain('gone-a');
    expect((await db.getAllKeys('jobPieces')).map((k) => k[0])).toContain('gone-b');
    await b.loadJobs();
    expect((await db.getAllKeys('jobPieces')).map((k) => k[0])).not.toContain('gone-b');
    db.close();
  });

  it('upgrades a version 2 database and still loads its jobs, stored with their inputs inline', async () => {
    const name = `test-${Math.random()}`;
    await makeLegacyDb(name, 2, ['jobs'], (tx) => tx.objectStore('jobs').put({ networkId: 'net-a', job: job() }));
    const db = await openQuorumDb(name);
    const [loaded] = await new CoordinatorStore(db, 'net-a').loadJobs();
    expect(new Float32Array(loaded!.job.inputs[0]!.data)).toEqual(new Float32Array([1, 2, 3, 4]));
    db.close();
  });

  it('[S-3] a store on a missing IndexedDB fails every call with its reason', async () => {
    const store = unavailableStorage('IndexedDB is not available');
    await expect(store.loadJobs()).rejects.toThrow('IndexedDB is not available');
    await expect(store.putJob(job())).rejects.toThrow('IndexedDB is not available');
  });

  it('ModelCache returns null for unknown hashes and the bytes it was given otherwise', async () => {
    const cache = new ModelCache(await openQuorumDb(`test-${Math.random()}`));
    expect(await cache.get(hash)).toBeNull();
    await cache.put(hash, new Uint8Array([9, 8]).buffer, 1);
    expect(new Uint8Array((await cache.get(hash))!)).toEqual(new Uint8Array([9, 8]));
  });
});
