import { describe, expect, it } from 'vitest';
import { LIMITS } from '../protocol/limits.ts';
import type { Pipeline } from '../protocol/pipeline.ts';
import { checkFileJobLimits, checkPipelineAgainstSignature, pipelineInput } from './fileJobChecks.ts';
import { DEFAULT_JOB_LIMITS, type SignatureLike } from './jobChecks.ts';
import { imagePipeline } from './testing/fileJobFixtures.ts';

/** PaddleOCR's recognizer: x [N, 3, 48, W] → softmax [N, T, 6625]. */
const recognizer: SignatureLike = {
  inputs: [{ name: 'x', dtype: 'float32', dims: ['N', 3, 48, 'W'] }],
  outputs: [{ name: 'softmax', dtype: 'float32', dims: ['N', 'T', 6625] }],
};
const withTensor = (over: Partial<Extract<Pipeline['stages'][number], { op: 'image-tensor' }>>): Pipeline => {
  const p = imagePipeline();
  return { ...p, stages: p.stages.map((s) => (s.op === 'image-tensor' ? { ...s, ...over } : s)) };
};

describe('checks of a job of files [J-7]', () => {
  it('[J-7] the pipeline makes a float32 batch in the layout it names', () => {
    expect(pipelineInput(imagePipeline(), 7)).toEqual({ name: 'x', dtype: 'float32', dims: [7, 3, 48, 192] });
    expect(pipelineInput(withTensor({ layout: 'HWC', channels: 'gray' }), 2)).toEqual({ name: 'x', dtype: 'float32', dims: [2, 48, 192, 1] });
  });

  it("[J-7] the image tensor must name the model's input and fit its fixed dims, as tensor inputs must", () => {
    expect(checkPipelineAgainstSignature(recognizer, imagePipeline(), 6, 2)).toEqual([]);
    expect(checkPipelineAgainstSignature(recognizer, withTensor({ input: 'image' }), 6)).toEqual([
      'the model has no input named "image" (it takes "x"): rename it.',
      'the model needs input "x" (float32 [N, 3, 48, W]), which was not given.',
    ]);
    expect(checkPipelineAgainstSignature(recognizer, withTensor({ height: 32 }), 6)).toEqual([
      'the image input "x" has shape [6, 3, 32, 192], but the model expects [N, 3, 48, W]: dimension 2 is 32, it must be 48.',
    ]);
    expect(checkPipelineAgainstSignature(recognizer, withTensor({ layout: 'HWC' }), 6)[0]).toMatch(/dimension 1 is 48, it must be 3/);
  });

  it('[J-7] sizes are counted on the files as they travel, and on the one tensor a shard decodes to', () => {
    const job = { modelBytes: 1000, fileBytes: [5_000, 6_000], pipeline: imagePipeline(), shardSize: 2 };
    expect(checkFileJobLimits(job, DEFAULT_JOB_LIMITS)).toEqual([]);
    // 10,000 line images of ~5 KB fit the default limits: 50 MB of files, not 1.1 GB of tensors.
    expect(checkFileJobLimits({ ...job, fileBytes: new Array<number>(10_000).fill(5_000), shardSize: 100 }, DEFAULT_JOB_LIMITS)).toEqual([]);
    expect(checkFileJobLimits(job, { ...DEFAULT_JOB_LIMITS, maxInputBytes: 10_000 })).toEqual([
      "the files are 10.7 KiB, over this coordinator's limit of 9.8 KiB per job (the limits are set by the coordinator: on its page, or with quorum coordinator --max-model-mib, --max-inputs-mib, --max-items): split them into several jobs.",
    ]);
    expect(checkFileJobLimits(job, { ...DEFAULT_JOB_LIMITS, maxItems: 1 })[0]).toMatch(/has 2 files, over this coordinator's limit of 1 per job/);
    // A shard of 4,000 images of 48×192×3 float32 is 442 MB: over the per-tensor limit.
    const many = { ...job, fileBytes: new Array<number>(4_000).fill(10), shardSize: 4_000 };
    expect(checkFileJobLimits(many, DEFAULT_JOB_LIMITS)).toEqual([
      `a shard of 4000 images decodes to 421.9 MiB, over the protocol's limit of ${(LIMITS.maxTensorBytes / 1024 / 1024).toFixed(1)} MiB per tensor: choose a smaller shard size.`,
    ]);
  });
});
