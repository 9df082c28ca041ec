/**
 * [J-7] Jobs whose items are files: admitted by their file count, leased as the shard's files
 * with the pipeline (canaries too: a canary is a shard of the job itself), verified on the
 * tensors volunteers return, exactly like a tensor job.
 */
import { describe, expect, it } from 'vitest';
import type { LeaseId, PeerId } from '../../protocol/ids.ts';
import type { JobSpec } from '../../protocol/messages.ts';
import type { WireTensor } from '../../protocol/tensor.ts';
import { only, sent } from '../testing/coordinatorFrames.ts';
import { CoordinatorRig, type Lease } from '../testing/coordinatorRig.ts';
import { fileSpec, imagePipeline } from '../testing/fileJobFixtures.ts';
import { HASH_A, HASH_B, V, f32, policy } from '../testing/fixtures.ts';

class Rig extends CoordinatorRig {
  constructor() {
    super(3);
  }

  /** Answers a lease with each file's size: the same for every honest volunteer. */
  answer(v: PeerId, l: Lease): void {
    const sizes = (l.files ?? []).map((f) => f.bytes.byteLength);
    const outputs: WireTensor[] = [f32('y', [sizes.length, 1], sizes)];
    const ack = only(sent(this.handle(v, { v: V, t: 'result', leaseId: l.leaseId as LeaseId, outputs, backend: 'wasm', inferMs: 1 }), v), 'result-ack');
    expect(ack.outcome).toBe('received');
  }
}

describe('jobs of files [J-7]', () => {
  it("[J-7] a job of files has one item per file; each lease carries its shard's files and the pipeline, no tensors", () => {
    const rig = new Rig();
    const accepted = rig.submit(fileSpec(5, 2, policy(1, 1, 4)));
    expect(accepted).toMatchObject({ t: 'job-accepted', shards: 3 });
    const l0 = rig.lease(rig.join('a'));
    const l1 = rig.lease(rig.join('b'));
    const l2 = rig.lease(rig.join('c'));
    expect(l0.inputs).toEqual([]);
    expect(l0.pipeline).toEqual(imagePipeline());
    expect([l0, l1, l2].map((l) => (l.files ?? []).map((f) => f.name))).toEqual([['line-0.png', 'line-1.png'], ['line-2.png', 'line-3.png'], ['line-4.png']]);
    expect([...new Uint8Array(l2.files![0]!.bytes)]).toEqual([4, 4, 4, 4, 4]);
    expect(rig.core.jobStatuses()[0]).toMatchObject({ items: 5, shards: 3 });
  });

  it("[J-7] a tensor job's lease carries neither files nor a pipeline", () => {
    const rig = new Rig();
    rig.submit({ ...fileSpec(1, 1), pipeline: undefined as never, files: undefined as never, inputs: [f32('x', [2, 2], [1, 2, 3, 4])] } as JobSpec);
    const l = rig.lease(rig.join('a'));
    expect('files' in l || 'pipeline' in l).toBe(false);
    expect(l.inputs[0]!.dims).toEqual([1, 2]);
  });

  it('[J-7] a pipeline whose run-model stage names another model than the one sent is refused at admission', () => {
    const rig = new Rig();
    const answer = rig.submit(fileSpec(2, 1, policy(2, 2, 4), HASH_B), HASH_A);
    expect(answer.t).toBe('job-rejected');
    if (answer.t === 'job-rejected') expect(answer.reason).toMatch(/run-model stage names model bbbbbbbbbbbb.*not the uploaded model/);
    expect(rig.core.jobStatuses()).toEqual([]);
  });

  it('[J-7] [C-2] a canary of a job of files is a shard of it: the same frame, its files and pipeline', () => {
    const rig = new Rig();
    rig.submit(fileSpec(6, 1, { ...policy(2, 2, 4), canaryRate: 1 }));
    // Trust nobody quickly; shard 0 becomes established once a and b have more valid results.
    const [a, b] = [rig.join('a'), rig.join('b')];
    for (let i = 0; i < 3; i++) {
      rig.answer(a, rig.lease(a));
      rig.answer(b, rig.lease(b));
    }
    const c = rig.join('c');
    const before = rig.core.verificationTotals().canaryLeases;
    let canary: Lease | null = null;
    for (let i = 0; i < 4 && canary === null; i++) {
      const l = rig.lease(c);
      if (rig.core.verificationTotals().canaryLeases > before) canary = l;
      else rig.answer(c, l);
    }
    expect(canary).not.toBeNull();
    const index = Number(canary!.shardId.split('/')[1]);
    expect(canary!.pipeline).toEqual(imagePipeline());
    expect(canary!.files!.map((f) => f.name)).toEqual([`line-${index}.png`]);
    rig.answer(c, canary!);
    expect(rig.core.reputation.get(c)).toMatchObject({ canariesPassed: 1 });
  });
});
