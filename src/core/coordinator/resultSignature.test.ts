/**
 * [R-7] Results are checked against the model's output signature (names, dtypes, rank, every
 * fixed dim) before they are kept: a result padded with junk outputs, or with a wrong dim, is
 * acked `rejected` with a reason and is no replica. Jobs without a recorded signature (stored
 * before it was) keep [R-5]'s batch-dim check only.
 */
import { describe, expect, it } from 'vitest';
import { asPeerId, type LeaseId, type PeerId } from '../../protocol/ids.ts';
import type { WireTensor } from '../../protocol/tensor.ts';
import { seededRng } from '../rng.ts';
import { HASH_A, V, f32, hello, i32, jobSpec, policy } from '../testing/fixtures.ts';
import { checkFrames, only, sent } from '../testing/coordinatorFrames.ts';
import { CoordinatorCore } from './coordinator.ts';
import { DEFAULT_COORDINATOR_CONFIG, type OutputPort } from './state.ts';

const SIGNATURE: OutputPort[] = [
  { name: 'y', dtype: 'float32', dims: ['batch', 2] },
  { name: 'n', dtype: 'int32', dims: [-1, 'k'] },
];

function rig(signature: OutputPort[] | undefined) {
  const c = new CoordinatorCore({ networkId: 'net1', ...DEFAULT_COORDINATOR_CONFIG }, seededRng(5));
  const join = (name: string, role: 'volunteer' | 'requester'): PeerId => {
    const id = asPeerId(name);
    c.connect(id, 0);
    checkFrames(c.handle(id, hello(role), 0));
    return id;
  };
  const req = join('req', 'requester');
  const fx = c.handle(req, { v: V, t: 'submit-job', ref: 'r1', spec: jobSpec(4, 2, policy(2, 2, 4)) }, 0);
  const h = fx.find((e) => e.kind === 'hash-model');
  if (h?.kind !== 'hash-model') throw new Error('not submitted');
  only(sent(c.admitJob(req, 'r1', h.spec, HASH_A, 0, signature), req), 'job-accepted');
  const vol = join('v1', 'volunteer');
  const lease = only(sent(c.handle(vol, { v: V, t: 'lease-request' }, 0), vol), 'lease');
  const result = (outputs: WireTensor[]) =>
    only(sent(c.handle(vol, { v: V, t: 'result', leaseId: lease.leaseId as LeaseId, outputs, backend: 'wasm', inferMs: 1 }, 1), vol), 'result-ack');
  return { c, result };
}

const y = (): WireTensor => f32('y', [2, 2], [1, 2, 3, 4]);
const n = (k = 3): WireTensor => i32('n', [2, k], Array<number>(2 * k).fill(7));

describe('[R-7] results against the model output signature', () => {
  it('[R-7] a result padded with a junk output is rejected, naming it, and is no replica', () => {
    const { c, result } = rig(SIGNATURE);
    const junk = f32('junk', [2, 1000], Array<number>(2000).fill(0));
    const ack = result([y(), n(), junk]);
    expect(ack).toMatchObject({ outcome: 'rejected', reason: expect.stringMatching(/output "junk" is not an output of the model \(it has "y", "n"\)/) });
    expect(c.shardsOf(c.jobStatuses()[0]!.jobId)[0]!.replicas).toHaveLength(0);
  });

  it('[R-7] a wrong dtype, a wrong fixed dim, a wrong rank, a missing or a repeated output is rejected with the reason', () => {
    expect(rig(SIGNATURE).result([f32('y', [2, 3], Array<number>(6).fill(0)), n()]).reason).toMatch(/output "y" has dimension 1 of 3, the model's is 2/);
    expect(rig(SIGNATURE).result([y(), f32('n', [2, 3], Array<number>(6).fill(0))]).reason).toMatch(/output "n" is float32, the model's is int32/);
    expect(rig(SIGNATURE).result([f32('y', [2, 2, 1], [1, 2, 3, 4]), n()]).reason).toMatch(/output "y" has rank 3, the model's has rank 2/);
    expect(rig(SIGNATURE).result([y()]).reason).toMatch(/output "n" of the model is missing/);
    expect(rig(SIGNATURE).result([y(), y(), n()]).reason).toMatch(/output "y" is given twice/);
  });

  it('[R-7] a result that fits (free dims take any size) is received', () => {
    expect(rig(SIGNATURE).result([y(), n(5)])).toMatchObject({ outcome: 'received', reason: '' });
    expect(rig(SIGNATURE).result([n(1), y()])).toMatchObject({ outcome: 'received' });
  });

  it('[R-7] [R-5] a job stored without a signature checks the batch dim only', () => {
    expect(rig(undefined).result([y(), f32('extra', [2, 1], [0, 0])])).toMatchObject({ outcome: 'received' });
    expect(rig(undefined).result([f32('y', [3, 2], Array<number>(6).fill(0))]).outcome).toBe('rejected');
  });
});
