import { describe, expect, it } from 'vitest';
import { checkInputsAgainstSignature, checkJobLimits, clampJobLimits, DEFAULT_JOB_LIMITS, HARD_JOB_LIMITS, type SignatureLike } from './jobChecks.ts';

const SIG: SignatureLike = {
  inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', 4] }],
  outputs: [{ name: 'y', dtype: 'float32', dims: ['batch', 3] }],
};
const x = (dims: number[], dtype: 'float32' | 'int32' = 'float32') => ({ name: 'x', dtype, dims });

describe('checkInputsAgainstSignature', () => {
  it('inputs that fit give no problems', () => {
    expect(checkInputsAgainstSignature(SIG, [x([10, 4])])).toEqual([]);
    expect(checkInputsAgainstSignature(SIG, [x([1, 4])], 100)).toEqual([]);
  });
  it('a missing input, an unknown one and a repeated one', () => {
    expect(checkInputsAgainstSignature(SIG, [{ name: 'z', dtype: 'float32', dims: [2, 4] }])).toEqual([
      'the model has no input named "z" (it takes "x"): rename it.',
      'the model needs input "x" (float32 [batch, 4]), which was not given.',
    ]);
    expect(checkInputsAgainstSignature(SIG, [x([2, 4]), x([2, 4])])[0]).toMatch(/"x" is given twice/);
  });
  it('a wrong dtype names both types and the conversion', () => {
    expect(checkInputsAgainstSignature(SIG, [x([2, 4], 'int32')])).toEqual([
      'input "x" is int32, but the model expects float32: convert it (e.g. numpy: x.astype(np.float32)).',
    ]);
  });
  it('a wrong rank or a wrong fixed dim', () => {
    expect(checkInputsAgainstSignature(SIG, [x([2, 2, 2])])[0]).toMatch(/shape \[2, 2, 2\] \(rank 3\), but the model expects \[batch, 4\] \(rank 2\)/);
    expect(checkInputsAgainstSignature(SIG, [x([2, 5])])[0]).toMatch(/dimension 1 is 5, it must be 4/);
  });
  it('free dims (strings or negative numbers) and unknown shapes take anything', () => {
    const free: SignatureLike = { inputs: [{ name: 'x', dtype: 'float32', dims: [-1, 'n', 3] }], outputs: SIG.outputs };
    expect(checkInputsAgainstSignature(free, [x([2, 9, 3])])).toEqual([]);
    const unknown: SignatureLike = { inputs: [{ name: 'x', dtype: 'float32', dims: [] }], outputs: SIG.outputs };
    expect(checkInputsAgainstSignature(unknown, [x([2, 9, 3])])).toEqual([]);
  });
  it('an empty batch, a scalar and inputs that disagree on the item count', () => {
    expect(checkInputsAgainstSignature(SIG, [x([0, 4])])).toEqual(['the batch is empty (0 items): give at least one item.']);
    const two: SignatureLike = {
      inputs: [
        { name: 'a', dtype: 'float32', dims: null },
        { name: 'b', dtype: 'float32', dims: null },
      ],
      outputs: SIG.outputs,
    };
    expect(
      checkInputsAgainstSignature(two, [
        { name: 'a', dtype: 'float32', dims: [3] },
        { name: 'b', dtype: 'float32', dims: [4] },
      ])[0],
    ).toMatch(/disagree on the number of items: "b" has 4, others have 3/);
    expect(
      checkInputsAgainstSignature(two, [
        { name: 'a', dtype: 'float32', dims: [] },
        { name: 'b', dtype: 'float32', dims: [4] },
      ])[0],
    ).toMatch(/"a" is a scalar/);
  });
  it('no inputs at all lists what the model takes', () => {
    expect(checkInputsAgainstSignature(SIG, [])).toEqual(['no inputs given: the model takes "x" float32 [batch, 4].']);
  });
  it('types Quorum cannot carry, on either side', () => {
    const f16: SignatureLike = { inputs: [{ name: 'x', dtype: null, dims: ['b', 4] }], outputs: [{ name: 'y', dtype: null, dims: ['b'] }] };
    const p = checkInputsAgainstSignature(f16, [x([1, 4])]);
    expect(p[0]).toMatch(/output "y" has a type Quorum cannot carry/);
    expect(p[1]).toMatch(/input "x" has a type Quorum cannot send/);
    expect(checkInputsAgainstSignature({ inputs: SIG.inputs, outputs: [] }, [x([1, 4])])[0]).toMatch(/no outputs/);
  });
  it('a fixed batch dimension needs shards of exactly that size', () => {
    const fixed: SignatureLike = { inputs: [{ name: 'x', dtype: 'float32', dims: [1, 4] }], outputs: SIG.outputs };
    expect(checkInputsAgainstSignature(fixed, [x([5, 4])], 1)).toEqual([]);
    expect(checkInputsAgainstSignature(fixed, [x([5, 4])], 2)[0]).toMatch(/fixed batch size of 1: use shard size 1/);
    const four: SignatureLike = { inputs: [{ name: 'x', dtype: 'float32', dims: [4, 4] }], outputs: SIG.outputs };
    expect(checkInputsAgainstSignature(four, [x([6, 4])], 4)[0]).toMatch(/multiple of 4 \(now shard size 4, 6 items\)/);
    expect(checkInputsAgainstSignature(four, [x([8, 4])], 4)).toEqual([]);
  });
});

describe('job limits', () => {
  const job = (modelBytes: number, items: number) => ({ modelBytes, inputs: [x([items, 4])] });
  it('within limits: no problems', () => {
    expect(checkJobLimits(job(1000, 10), DEFAULT_JOB_LIMITS)).toEqual([]);
  });
  it('each limit names the size, the limit and where it is set', () => {
    const limits = { maxModelBytes: 1024, maxInputBytes: 100, maxItems: 5 };
    const p = checkJobLimits(job(2048, 10), limits);
    expect(p).toEqual([
      "the model is 2.0 KiB, over this coordinator's limit of 1.0 KiB (the limits are set by the coordinator: on its page, or with quorum coordinator --max-model-mib, --max-inputs-mib, --max-items).",
      "the inputs are 160 bytes, over this coordinator's limit of 100 bytes per job (the limits are set by the coordinator: on its page, or with quorum coordinator --max-model-mib, --max-inputs-mib, --max-items): split them into several jobs.",
      "the job has 10 items, over this coordinator's limit of 5 per job (the limits are set by the coordinator: on its page, or with quorum coordinator --max-model-mib, --max-inputs-mib, --max-items): split it into several jobs.",
    ]);
  });
  it('input size is computed from the dims, not from a claimed byte count', () => {
    expect(
      checkJobLimits({ modelBytes: 1, inputs: [{ name: 'x', dtype: 'int64', dims: [4, 4] }] }, { ...DEFAULT_JOB_LIMITS, maxInputBytes: 127 }),
    ).toHaveLength(1);
  });
  it('a single tensor over the protocol limit of 128 MiB is refused whatever the settings', () => {
    const p = checkJobLimits({ modelBytes: 1, inputs: [{ name: 'x', dtype: 'float32', dims: [1, 33 * 1024 * 1024] }] }, HARD_JOB_LIMITS);
    expect(p).toEqual(['input "x" is 132.0 MiB, over the protocol\'s limit of 128.0 MiB per tensor: split it into several jobs.']);
  });
  it('clampJobLimits keeps settings positive integers within the hard caps', () => {
    expect(clampJobLimits({})).toEqual(DEFAULT_JOB_LIMITS);
    expect(clampJobLimits({ maxModelBytes: 1e12, maxInputBytes: -5, maxItems: 12.7 })).toEqual({
      maxModelBytes: HARD_JOB_LIMITS.maxModelBytes,
      maxInputBytes: DEFAULT_JOB_LIMITS.maxInputBytes,
      maxItems: 12,
    });
    expect(clampJobLimits({ maxItems: 'many' })).toEqual(DEFAULT_JOB_LIMITS);
  });
});
