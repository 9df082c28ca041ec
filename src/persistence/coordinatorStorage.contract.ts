/**
 * What every `CoordinatorStorage` must do, as one suite run against each implementation: memory
 * and IndexedDB (coordinatorStorage.contract.test.ts), SQLite (sqliteCoordinatorStore.node.test.ts).
 * The promises themselves are listed in coordinatorStorage.ts; the host relies on all of them.
 *
 * Most round trips read back through a second instance over the same storage (a reloaded
 * coordinator), so that "kept" means kept, not cached by the instance that wrote it.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AcceptedResult, JobRecord, LeaseRecord, PeerRecord, Replica, ShardState } from '../core/coordinator/state.ts';
import { DEFAULT_JOB_LIMITS, HARD_JOB_LIMITS } from '../core/jobChecks.ts';
import { imagePipeline } from '../core/testing/fileJobFixtures.ts';
import { HASH_A, HASH_B, policy } from '../core/testing/fixtures.ts';
import { asJobId, asLeaseId, asPeerId, shardIdOf, type JobId } from '../protocol/ids.ts';
import type { Answer, Pipeline } from '../protocol/pipeline.ts';
import type { WireTensor } from '../protocol/tensor.ts';
import type { CoordinatorStorage } from './coordinatorStorage.ts';
import type { StoredShard } from './records.ts';

export interface StorageHarness {
  /**
   * A store of `networkId` over this harness's storage. Every call is a new instance; instances
   * over the same storage see each other's finished writes, as a reloaded coordinator does.
   */
  open(networkId: string): Promise<CoordinatorStorage>;
  /** The most bytes one stored piece holds in this harness's stores (Infinity where nothing is cut). */
  readonly pieceBytes: number;
  /**
   * Spoils what is stored of a shard (of a job) the way a crash or a tampered disk could, so that
   * it cannot be read back whole. Absent where no stored record can be spoiled (memory).
   */
  corruptShard?(jobId: JobId, index: number): Promise<void>;
  corruptJob?(jobId: JobId): Promise<void>;
  /** Frees what the harness holds (connections, files). */
  close(): Promise<void>;
}

const NET = 'net-a';
const OTHER = 'net-b';

/** Float32 values that say where they came from, so a byte from the wrong place shows. */
const tensor = (name: string, floats: number, seed: number): WireTensor => ({
  name,
  dtype: 'float32',
  dims: [1, floats],
  data: Float32Array.from({ length: floats }, (_, i) => i * 0.25 + seed).buffer,
});

const floats = (t: WireTensor | undefined): number[] => [...new Float32Array(t?.data ?? new ArrayBuffer(0))];
const bytes = (b: ArrayBuffer | null | undefined): number[] => [...new Uint8Array(b ?? new ArrayBuffer(0))];

function tensorJob(id: string, inputFloats = 8): JobRecord {
  return {
    id: asJobId(id),
    name: `job ${id}`,
    modelHash: HASH_A,
    modelBytes: 3,
    inputs: [tensor('x', inputFloats, 1), { name: 'mask', dtype: 'int32', dims: [1, 2], data: new Int32Array([7, -7]).buffer }],
    items: 1,
    shardSize: 1,
    shardCount: 2,
    policy: policy(2, 2, 4),
    createdAtMs: 1000,
    submittedBy: asPeerId('req'),
    priority: 3,
    itemNames: ['a.bin'],
    outputSignature: [{ name: 'y', dtype: 'float32', dims: ['batch', 4] }],
  };
}

/** [J-7] [V-12] A job of files whose pipeline ends in answers (top-k labels). */
const labelsPipeline: Pipeline = { v: 1, stages: [...imagePipeline(HASH_B).stages, { op: 'top-k', output: 'y', k: 2 }] };

function fileJob(id: string): JobRecord {
  const files = [
    { name: 'one.png', bytes: new Uint8Array([1, 2, 3]).buffer },
    { name: 'two.png', bytes: Uint8Array.from({ length: 300 }, (_, i) => i % 251).buffer },
    { name: 'three.png', bytes: new Uint8Array([9]).buffer },
  ];
  return { ...tensorJob(id), inputs: [], files, pipeline: labelsPipeline, items: 3, shardCount: 3, itemNames: files.map((f) => f.name) };
}

const labels = (index: number): Answer => ({
  kind: 'labels',
  labels: [
    { index, score: 0.75 },
    { index: index + 1, score: 0.25 },
  ],
});
const ocr: Answer = {
  kind: 'ocr',
  lines: [
    {
      box: [
        [0, 0],
        [40, 0],
        [40, 12],
        [0, 12],
      ],
      text: 'Total 12.80 €',
      confidence: 0.5,
    },
  ],
};

function replica(volunteer: string, outputs: readonly WireTensor[], answers?: readonly Answer[]): Replica {
  return {
    volunteer: asPeerId(volunteer),
    backend: 'webgpu',
    adapter: 'nvidia hopper',
    ortVersion: '1.30.0',
    outputs,
    ...(answers ? { answers } : {}),
    receivedAtMs: 5,
  };
}

function accepted(winner: Replica, volunteers: readonly string[]): AcceptedResult {
  return {
    outputs: winner.outputs,
    ...(winner.answers ? { answers: winner.answers } : {}),
    volunteers: volunteers.map(asPeerId),
    backends: volunteers.map(() => 'webgpu' as const),
    adapters: volunteers.map(() => 'nvidia hopper'),
    ortVersions: volunteers.map(() => '1.30.0'),
    acceptedAtMs: 9,
  };
}

function shard(jobId: JobId, index: number, replicas: readonly Replica[], status: ShardState['status'] = 'open', epoch = 1): ShardState {
  return {
    id: shardIdOf(jobId, index),
    jobId,
    index,
    start: index,
    count: 1,
    status,
    target: 2,
    replicas: [...replicas],
    leases: new Set(),
    accepted:
      status === 'verified' && replicas[0]
        ? accepted(
            replicas[0],
            replicas.map((r) => r.volunteer),
          )
        : null,
    disagreements: status === 'verified' ? 1 : 0,
    lone: false,
    spotChecked: false,
    epoch,
    queueKey: index,
    queued: false,
    inFlight: status === 'open',
  };
}

function lease(id: string, over: Partial<LeaseRecord> = {}): LeaseRecord {
  return {
    id: asLeaseId(id),
    jobId: asJobId('j1'),
    shardIndex: 0,
    volunteer: asPeerId('v1'),
    issuedAtMs: 1,
    deadlineMs: 61,
    canary: false,
    epoch: 0,
    retired: false,
    ...over,
  };
}

const peer = (id: string, accepted = 1): PeerRecord => ({
  peerId: asPeerId(id),
  token: `token-${id}`,
  reputation: { streak: accepted, history: [true, false] },
  standing: { shardsAccepted: accepted, resultsReturned: accepted + 1, resultsRejected: 0 },
});

const noBatch = { leases: [], forgetLeases: [], peers: [], openShards: [] };

/** What a test compares of a stored shard: everything, with bytes as numbers. */
function view(s: StoredShard | undefined): unknown {
  if (!s) return undefined;
  const t = (outputs: readonly WireTensor[]): unknown[] => outputs.map((o) => ({ ...o, data: bytes(o.data) }));
  return {
    ...s,
    accepted: s.accepted ? { ...s.accepted, outputs: t(s.accepted.outputs) } : null,
    replicas: s.replicas?.map((r) => ({ ...r, outputs: t(r.outputs) })),
  };
}

const viewOf = (jobId: JobId, s: ShardState): unknown =>
  view({ jobId, index: s.index, status: s.status, disagreements: s.disagreements, accepted: s.accepted, replicas: s.replicas, epoch: s.epoch });

export function describeCoordinatorStorageContract(name: string, makeHarness: () => Promise<StorageHarness>): void {
  describe(`[S-5] CoordinatorStorage contract: ${name}`, () => {
    let harness: StorageHarness;
    beforeEach(async () => {
      harness = await makeHarness();
    });
    afterEach(async () => {
      vi.restoreAllMocks();
      await harness.close();
    });
    /** Bigger than one piece, whatever the harness cuts at. */
    const bigFloats = (): number => (Number.isFinite(harness.pieceBytes) ? Math.ceil((harness.pieceBytes * 3.5) / 4) : 1000);

    it('[S-1] keeps a job with tensor inputs (one of them larger than a piece) and its model, read back by a new instance', async () => {
      const store = await harness.open(NET);
      const job = tensorJob('j1', bigFloats());
      await store.putModel(HASH_A, new Uint8Array([1, 2, 3]).buffer, 5);
      await store.putJob(job);

      const reopened = await harness.open(NET);
      const jobs = await reopened.loadJobs();
      expect(jobs.map((j) => j.networkId)).toEqual([NET]);
      const back = jobs[0]!.job;
      expect({ ...back, inputs: back.inputs.map((t) => ({ ...t, data: bytes(t.data) })) }).toEqual({
        ...job,
        inputs: job.inputs.map((t) => ({ ...t, data: bytes(t.data) })),
      });
      expect(bytes(await reopened.loadModel(HASH_A))).toEqual([1, 2, 3]);
      expect(await reopened.loadModel(HASH_B)).toBeNull();
    });

    it('[S-1] [J-7] keeps a job of files with its pipeline: each file whole and by name, in item order', async () => {
      const store = await harness.open(NET);
      const job = fileJob('files1');
      await store.putJob(job);
      const back = (await (await harness.open(NET)).loadJobs())[0]!.job;
      expect(back.inputs).toEqual([]);
      expect(back.files?.map((f) => [f.name, bytes(f.bytes)])).toEqual(job.files!.map((f) => [f.name, bytes(f.bytes)]));
      expect(back.pipeline).toEqual(labelsPipeline);
      expect(back.itemNames).toEqual(['one.png', 'two.png', 'three.png']);
      expect(back.policy).toEqual(job.policy);
    });

    it('[S-1] [S-2] keeps a verified shard with its outputs, every replica, adapters and versions, and returns its epoch', async () => {
      const store = await harness.open(NET);
      const job = tensorJob('j1');
      await store.putJob(job);
      const s = shard(
        job.id,
        1,
        [replica('v1', [tensor('y', 4, 10), tensor('z', 2, 20)]), replica('v2', [tensor('y', 4, 10.5), tensor('z', 2, 20)])],
        'verified',
        4,
      );
      expect(await store.putShard(job.id, s)).toBe(4);
      const back = await (await harness.open(NET)).loadShards(job.id);
      expect(back.map(view)).toEqual([viewOf(job.id, s)]);
    });

    it('[S-1] [I-3] keeps each replica’s volunteer key, result signature and signed digest, and the accepted shard’s keys, signatures and digests', async () => {
      const store = await harness.open(NET);
      const job = tensorJob('signed1');
      await store.putJob(job);
      const signed = (name: string, fill: string): Replica => ({
        ...replica(name, [tensor('y', 4, 10), tensor('z', 2, 20)]),
        volunteerKey: `${name}-spki`.padEnd(91, 'K'),
        signature: fill.repeat(86),
        signedLeaseId: asLeaseId(`lease-${name}`),
        signedDigest: fill.toLowerCase().repeat(64),
      });
      const [a, b] = [signed('v1', 'A'), signed('v2', 'B')];
      const s = shard(job.id, 0, [a, b], 'verified', 2);
      s.accepted = {
        ...accepted(a, ['v1', 'v2']),
        volunteerKeys: [a.volunteerKey!, b.volunteerKey!],
        resultSigs: [a.signature!, b.signature!],
        resultLeases: [a.signedLeaseId!, b.signedLeaseId!],
        resultDigests: [a.signedDigest!, b.signedDigest!],
      };
      await store.putShard(job.id, s);
      const [back] = await (await harness.open(NET)).loadShards(job.id);
      expect(back?.replicas?.map((r) => [r.volunteerKey, r.signature, r.signedDigest])).toEqual([
        [a.volunteerKey, a.signature, a.signedDigest],
        [b.volunteerKey, b.signature, b.signedDigest],
      ]);
      expect(back?.accepted?.volunteerKeys).toEqual([a.volunteerKey, b.volunteerKey]);
      expect(back?.accepted?.resultSigs).toEqual([a.signature, b.signature]);
      expect(back?.accepted?.resultLeases).toEqual([a.signedLeaseId, b.signedLeaseId]);
      expect(back?.accepted?.resultDigests).toEqual([a.signedDigest, b.signedDigest]);
      expect(view(back)).toEqual(viewOf(job.id, s));
    });

    it("[S-1] [V-12] keeps a pipeline job's answers, one per item, on the accepted result and on every replica", async () => {
      const store = await harness.open(NET);
      const job = fileJob('files1');
      await store.putJob(job);
      const answers = [labels(1), labels(2), labels(3)];
      const verified = shard(job.id, 0, [replica('v1', [], answers), replica('v2', [], answers)], 'verified', 2);
      const open = shard(job.id, 1, [replica('v3', [], [ocr, labels(4), { kind: 'segments', segments: [{ start: 0.5, end: 1.25 }] }])]);
      await store.putShard(job.id, verified);
      await store.persist({ ...noBatch, openShards: [open] }, 10);

      const back = await (await harness.open(NET)).loadShards(job.id);
      const byIndex = new Map(back.map((s) => [s.index, s]));
      expect(byIndex.get(0)?.accepted?.answers).toEqual(answers);
      expect(byIndex.get(0)?.accepted?.outputs).toEqual([]);
      expect(byIndex.get(0)?.replicas?.map((r) => r.answers)).toEqual([answers, answers]);
      expect(view(byIndex.get(1))).toEqual(viewOf(job.id, open));
    });

    it("[S-1] keeps results larger than one piece whole: accepted outputs and each replica's, including one shared buffer", async () => {
      const store = await harness.open(NET);
      const job = tensorJob('j1');
      await store.putJob(job);
      const n = bigFloats();
      const s = shard(
        job.id,
        0,
        [replica('v1', [tensor('y', n, 1), tensor('z', 3, 2)]), replica('v2', [tensor('y', n, 1.5), tensor('z', 3, 2)])],
        'verified',
        3,
      );
      // The accepted outputs are the winner's own buffers, as the core hands them over.
      expect(s.accepted?.outputs[0]?.data).toBe(s.replicas[0]?.outputs[0]?.data);
      await store.putShard(job.id, s);
      const back = (await (await harness.open(NET)).loadShards(job.id))[0];
      expect(view(back)).toEqual(viewOf(job.id, s));
      expect(floats(back?.replicas?.[1]?.outputs[0])[n - 1]).toBe((n - 1) * 0.25 + 1.5);
    });

    it('[S-1] a later write of a shard replaces the earlier one, from pieces to inline and back, leaving no stale bytes', async () => {
      const store = await harness.open(NET);
      const job = tensorJob('j1');
      await store.putJob(job);
      const n = bigFloats();
      const big = shard(job.id, 0, [replica('v1', [tensor('y', n, 1)])]);
      const small = shard(job.id, 0, [replica('v1', [tensor('y', 2, 7)]), replica('v2', [tensor('y', 2, 8)])]);
      const bigAgain = shard(job.id, 0, [replica('v3', [tensor('y', n, 3)])], 'verified', 5);
      await store.persist({ ...noBatch, openShards: [big] }, 1);
      await store.persist({ ...noBatch, openShards: [small] }, 2);
      expect((await (await harness.open(NET)).loadShards(job.id)).map(view)).toEqual([viewOf(job.id, small)]);
      await store.putShard(job.id, bigAgain);
      expect((await (await harness.open(NET)).loadShards(job.id)).map(view)).toEqual([viewOf(job.id, bigAgain)]);
    });

    it('[S-2] putShard takes its record when called: later changes to the shard do not reach storage', async () => {
      const store = await harness.open(NET);
      const job = tensorJob('j1');
      await store.putJob(job);
      const s = shard(job.id, 0, [replica('v1', [tensor('y', 4, 1)]), replica('v2', [tensor('y', 4, 1)])], 'verified', 2);
      const expected = viewOf(job.id, s);
      const write = store.putShard(job.id, s);
      // What the core does next: a quarantine re-opens the shard, a new replica arrives.
      s.status = 'open';
      s.accepted = null;
      s.epoch = 3;
      s.replicas.push(replica('v3', [tensor('y', 4, 9)]));
      expect(await write).toBe(2);
      expect((await (await harness.open(NET)).loadShards(job.id)).map(view)).toEqual([expected]);
    });

    it('[S-1] persist takes its open shards when called, stores only open ones, and leaves decided ones to putShard', async () => {
      const store = await harness.open(NET);
      const job = tensorJob('j1');
      await store.putJob(job);
      const open = shard(job.id, 0, [replica('v1', [tensor('y', 4, 1)])]);
      const decided = shard(job.id, 1, [replica('v1', [tensor('y', 4, 1)]), replica('v2', [tensor('y', 4, 1)])], 'verified');
      const expected = viewOf(job.id, open);
      const write = store.persist({ ...noBatch, openShards: [open, decided] }, 1);
      open.replicas.push(replica('v2', [tensor('y', 4, 2)]));
      open.status = 'verified';
      await write;
      expect((await (await harness.open(NET)).loadShards(job.id)).map(view)).toEqual([expected]);
    });

    it('[S-1] keeps leases keyed by [network, id]: the same id in two networks is two leases; forgetting one leaves the other', async () => {
      const a = await harness.open(NET);
      const b = await harness.open(OTHER);
      await a.persist({ ...noBatch, leases: [lease('l1'), lease('l2', { canary: true, retired: true, epoch: 3 })] }, 1);
      await b.persist({ ...noBatch, leases: [lease('l1', { volunteer: asPeerId('other-v'), deadlineMs: 99 })] }, 1);
      // A lease extended by progress ([L-10]) replaces its earlier record.
      await a.persist({ ...noBatch, leases: [lease('l1', { deadlineMs: 500 })] }, 2);

      const sorted = (ls: readonly LeaseRecord[]): LeaseRecord[] => [...ls].sort((x, y) => x.id.localeCompare(y.id));
      expect(sorted(await (await harness.open(NET)).loadLeases())).toEqual([
        { ...lease('l1', { deadlineMs: 500 }), networkId: NET },
        { ...lease('l2', { canary: true, retired: true, epoch: 3 }), networkId: NET },
      ]);
      await a.persist({ ...noBatch, forgetLeases: [asLeaseId('l1')] }, 3);
      expect((await (await harness.open(NET)).loadLeases()).map((l) => l.id)).toEqual(['l2']);
      expect(await (await harness.open(OTHER)).loadLeases()).toEqual([
        { ...lease('l1', { volunteer: asPeerId('other-v'), deadlineMs: 99 }), networkId: OTHER },
      ]);
    });

    it('[S-1] [I-1] [P-7] keeps volunteer ids per network: token, reputation snapshot, standing and when written', async () => {
      const a = await harness.open(NET);
      const b = await harness.open(OTHER);
      await a.persist({ ...noBatch, peers: [peer('v1'), peer('v2')] }, 10);
      await b.persist({ ...noBatch, peers: [peer('v1', 7)] }, 11);
      await a.persist({ ...noBatch, peers: [peer('v1', 4)] }, 12);
      const back = [...(await (await harness.open(NET)).loadPeers())].sort((x, y) => x.peerId.localeCompare(y.peerId));
      expect(back).toEqual([
        { ...peer('v1', 4), networkId: NET, updatedAtMs: 12 },
        { ...peer('v2'), networkId: NET, updatedAtMs: 10 },
      ]);
      expect(await (await harness.open(OTHER)).loadPeers()).toEqual([{ ...peer('v1', 7), networkId: OTHER, updatedAtMs: 11 }]);
    });

    it("[S-1] loads only its own network's jobs", async () => {
      await (await harness.open(NET)).putJob(tensorJob('mine'));
      await (await harness.open(OTHER)).putJob(tensorJob('theirs'));
      expect((await (await harness.open(NET)).loadJobs()).map((j) => j.job.id)).toEqual(['mine']);
      expect((await (await harness.open(OTHER)).loadJobs()).map((j) => j.job.id)).toEqual(['theirs']);
      expect(await (await harness.open('net-c')).loadJobs()).toEqual([]);
      expect(await (await harness.open('net-c')).loadShards(asJobId('mine'))).toEqual([]);
    });

    it('[J-1] [J-4] keeps settings per network: one requester key made once, job limits clamped to the hard caps', async () => {
      const a = await harness.open(NET);
      let made = 0;
      const generate = (): string => `key-${++made}`;
      expect(await a.requesterKey(generate)).toBe('key-1');
      expect(await (await harness.open(NET)).requesterKey(generate)).toBe('key-1');
      expect(await (await harness.open(OTHER)).requesterKey(generate)).toBe('key-2');
      expect(made).toBe(2);

      expect(await a.jobLimits()).toEqual(DEFAULT_JOB_LIMITS);
      const saved = await a.putJobLimits({ maxItems: 500, maxModelBytes: Number.MAX_SAFE_INTEGER, maxInputBytes: 'lots' });
      expect(saved).toEqual({ maxItems: 500, maxModelBytes: HARD_JOB_LIMITS.maxModelBytes, maxInputBytes: DEFAULT_JOB_LIMITS.maxInputBytes });
      expect(await (await harness.open(NET)).jobLimits()).toEqual(saved);
      expect(await (await harness.open(OTHER)).jobLimits()).toEqual(DEFAULT_JOB_LIMITS);
    });

    it('[S-5] a shard that cannot be read back whole is left out, with a warning; its job and the other shards load', async ({ skip }) => {
      if (!harness.corruptShard) return skip('nothing stored here can be spoiled');
      const store = await harness.open(NET);
      const job = tensorJob('j1');
      await store.putJob(job);
      const n = bigFloats();
      const good = shard(job.id, 0, [replica('v1', [tensor('y', n, 1)])]);
      const bad = shard(job.id, 1, [replica('v1', [tensor('y', n, 2)]), replica('v2', [tensor('y', n, 2)])], 'verified');
      await store.persist({ ...noBatch, openShards: [good] }, 1);
      await store.putShard(job.id, bad);
      await harness.corruptShard(job.id, 1);
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);

      const reopened = await harness.open(NET);
      expect((await reopened.loadShards(job.id)).map(view)).toEqual([viewOf(job.id, good)]);
      expect(warn.mock.calls.flat().join('\n')).toMatch(/shard 1 of job j1/);
      expect((await reopened.loadJobs()).map((j) => j.job.id)).toEqual(['j1']);
    });

    it('[S-5] a job that cannot be read back whole is left out, with a warning; the other jobs load', async ({ skip }) => {
      if (!harness.corruptJob) return skip('nothing stored here can be spoiled');
      const store = await harness.open(NET);
      await store.putJob(tensorJob('good', bigFloats()));
      await store.putJob(tensorJob('bad', bigFloats()));
      await harness.corruptJob(asJobId('bad'));
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
      expect((await (await harness.open(NET)).loadJobs()).map((j) => j.job.id)).toEqual(['good']);
      expect(warn.mock.calls.flat().join('\n')).toMatch(/job bad/);
    });
  });
}
