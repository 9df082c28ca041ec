/**
 * [J-8] A requester tab keeps its jobs and their verified results across a reload: the results a
 * coordinator sent are stored as they arrive, and a new RequesterHost on the same storage lists
 * the jobs again and shows their results before any coordinator answers.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { openQuorumDb } from '../persistence/db.ts';
import { RequesterStore } from '../persistence/requesterStore.ts';
import { asJobId, type PeerId } from '../protocol/ids.ts';
import { PROTOCOL_VERSION, type JobStatus, type VerifiedShard } from '../protocol/messages.ts';
import { memoryTrust, newIdentity, provingCoordinator } from './testing/provingCoordinator.ts';
import { MemoryNetwork } from '../transport/memoryTransport.ts';
import { coordinatorPeerId } from './networkId.ts';
import { RequesterHost } from './requesterHost.ts';

const NET = 'persist';
const JOB = asJobId('job-1');
const shard = (index: number, start: number, values: number[]): VerifiedShard => ({
  index,
  start,
  count: values.length / 2,
  outputs: [{ name: 'y', dtype: 'float32', dims: [values.length / 2, 2], data: new Float32Array(values).buffer }],
  volunteers: ['v1', 'v2'] as PeerId[],
  backends: ['wasm', 'webgpu'],
});
const SHARDS = [shard(0, 0, [1, 0, 0, 1]), shard(1, 2, [0.2, 0.8, 0.9, 0.1])];
const DONE: JobStatus = {
  jobId: JOB,
  name: 'four items',
  createdAtMs: 1,
  items: 4,
  shards: 2,
  verified: 2,
  inFlight: 0,
  pending: 0,
  unverifiable: 0,
  disagreements: 0,
  done: true,
};

/** Polls until `check` holds (the hosts' storage calls are asynchronous). */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  // A deadline in real time, generous for a loaded machine (the proof is WebCrypto, the store
  // IndexedDB): a state that is reached passes at once.
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

let hosts: RequesterHost[] = [];
afterEach(() => {
  for (const h of hosts) h.stop();
  hosts = [];
});

describe('requester results survive a reload [J-8]', () => {
  it('stores an accepted job and its results, and a reloaded tab shows them with no coordinator', async () => {
    const db = await openQuorumDb(`requester-${Math.random()}`);
    const net = new MemoryNetwork();
    // A coordinator that accepts the submission and answers the results request.
    const coordinatorId = coordinatorPeerId(NET);
    const coordinator = provingCoordinator(net, coordinatorId, NET, await newIdentity(), (peer, m) => {
      if (m.t === 'hello') coordinator.send(peer, { v: PROTOCOL_VERSION, t: 'welcome', networkId: NET, you: peer });
      if (m.t === 'submit-job') {
        coordinator.send(peer, { v: PROTOCOL_VERSION, t: 'job-accepted', ref: m.ref, jobId: JOB, shards: 2 });
        coordinator.send(peer, { v: PROTOCOL_VERSION, t: 'job-status', jobs: [DONE] });
      }
      if (m.t === 'results-request')
        coordinator.send(peer, { v: PROTOCOL_VERSION, t: 'job-results', jobId: JOB, shards: SHARDS, itemNames: ['a.png', 'b.png', 'c.png', 'd.png'] });
    });
    const first = new RequesterHost({ networkId: NET, factory: net.factory, store: new RequesterStore(db, NET), now: () => 1_000, trust: memoryTrust(NET) });
    hosts.push(first);
    first.start();
    await until(() => (net.flush(), first.view.get().state === 'connected'), 'the welcome');
    first.submit(
      {
        name: 'four items',
        model: new ArrayBuffer(8),
        inputs: [{ name: 'x', dtype: 'float32', dims: [4, 1], data: new ArrayBuffer(16) }],
        shardSize: 2,
        policy: { replication: 1, quorum: 1, maxReplicas: 1, comparator: { kind: 'exact' } },
        requesterKey: '',
      },
      null,
    );
    await until(() => (net.flush(), first.view.get().results[JOB] !== undefined), 'the results');
    const stored = new RequesterStore(db, NET);
    await until(async () => (await stored.loadJobs())[0]?.results !== undefined, 'the stored results');

    // The tab reloads: a fresh view (the new host's) and a host on a network without any coordinator.
    first.stop();
    const reloaded = new RequesterHost({
      networkId: NET,
      factory: new MemoryNetwork().factory,
      store: new RequesterStore(await openQuorumDb(db.name), NET),
      trust: memoryTrust(NET),
    });
    hosts.push(reloaded);
    reloaded.start();
    await until(() => reloaded.view.get().results[JOB] !== undefined, 'the restored results');
    const r = reloaded.view.get();
    expect(r.submissions).toMatchObject([{ state: 'accepted', jobId: JOB, name: 'four items' }]);
    expect(r.results[JOB]).toMatchObject({ items: 4, verifiedItems: 4, predictions: [0, 1, 1, 0] });
    expect(r.results[JOB]!.assembled?.itemNames).toEqual(['a.png', 'b.png', 'c.png', 'd.png']);
    expect([...new Float32Array(r.results[JOB]!.assembled!.outputs[0]!.data)]).toEqual([
      1,
      0,
      0,
      1,
      Math.fround(0.2),
      Math.fround(0.8),
      Math.fround(0.9),
      Math.fround(0.1),
    ]);
  });

  it('[J-8] [V-12] keeps the answers of a pipeline job: a reloaded tab shows them, every item verified', async () => {
    const db = await openQuorumDb(`requester-${Math.random()}`);
    const lines = [
      {
        text: 'Total 12.80',
        confidence: 0.97,
        box: [
          [1, 2],
          [90, 2],
          [90, 20],
          [1, 20],
        ] as [[number, number], [number, number], [number, number], [number, number]],
      },
    ];
    const answerShards: VerifiedShard[] = [
      {
        index: 0,
        start: 0,
        count: 2,
        outputs: [],
        answers: [
          { kind: 'ocr', lines },
          { kind: 'ocr', lines: [] },
        ],
        volunteers: ['v1', 'v2'] as PeerId[],
        backends: ['wasm', 'wasm'],
      },
      { index: 1, start: 2, count: 1, outputs: [], answers: [{ kind: 'ocr', lines }], volunteers: ['v3', 'v2'] as PeerId[], backends: ['webgpu', 'wasm'] },
    ];
    const store = new RequesterStore(db, NET);
    await store.putJob({ jobId: JOB, name: 'OCR × 3 images', acceptedAtMs: 1 });
    await store.putResults(JOB, 3, answerShards, ['a.png', 'b.png', 'c.png']);

    const reloaded = new RequesterHost({
      networkId: NET,
      factory: new MemoryNetwork().factory,
      store: new RequesterStore(await openQuorumDb(db.name), NET),
      trust: memoryTrust(NET),
    });
    hosts.push(reloaded);
    reloaded.start();
    await until(() => reloaded.view.get().results[JOB] !== undefined, 'the restored results');
    const r = reloaded.view.get().results[JOB]!;
    expect(r).toMatchObject({ items: 3, verifiedItems: 3, assembleError: null });
    expect(r.assembled?.answers).toEqual([
      { kind: 'ocr', lines },
      { kind: 'ocr', lines: [] },
      { kind: 'ocr', lines },
    ]);
    expect(r.assembled?.itemNames).toEqual(['a.png', 'b.png', 'c.png']);
  });

  it('a job whose stored shards are incomplete is listed but its results are fetched again, not shown half', async () => {
    const db = await openQuorumDb(`requester-${Math.random()}`);
    const store = new RequesterStore(db, NET);
    await store.putJob({ jobId: JOB, name: 'four items', acceptedAtMs: 1 });
    await store.putResults(JOB, 4, SHARDS, undefined);
    expect(await store.loadResults(JOB)).toHaveLength(2);
    await db.delete('requesterShards', [NET, JOB, 1]);
    expect(await store.loadResults(JOB)).toEqual([]);
    // Another network on the same origin sees none of it.
    expect(await new RequesterStore(db, 'other').loadJobs()).toEqual([]);
  });
});
