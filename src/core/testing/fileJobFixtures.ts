/** [J-7] Jobs of files for tests: a three-stage image pipeline and files whose bytes say which item they are. */
import type { ModelHash } from '../../protocol/ids.ts';
import type { JobFile } from '../../protocol/jobFiles.ts';
import type { JobSpec } from '../../protocol/messages.ts';
import type { Pipeline } from '../../protocol/pipeline.ts';
import type { VerificationPolicy } from '../../protocol/policy.ts';
import { HASH_A, countingBytes, policy } from './fixtures.ts';

export const imagePipeline = (model: ModelHash = HASH_A): Pipeline => ({
  v: 1,
  stages: [
    { op: 'decode-image', maxPixels: 1_000_000 },
    { op: 'image-tensor', input: 'x', width: 192, height: 48, layout: 'CHW', channels: 'BGR', normalisation: 'symmetric' },
    { op: 'run-model', model },
  ],
});

/** File i is `i + 1` bytes of value i, named `line-i.png`: any slice can be checked by its names and sizes. */
export const files = (n: number): JobFile[] => Array.from({ length: n }, (_, i) => ({ name: `line-${i}.png`, bytes: new Uint8Array(i + 1).fill(i).buffer }));

export const fileSpec = (n: number, shardSize: number, p: VerificationPolicy = policy(2, 2, 4), model: ModelHash = HASH_A): JobSpec => ({
  name: 'lines',
  model: countingBytes(1000),
  inputs: [],
  pipeline: imagePipeline(model),
  files: files(n),
  shardSize,
  policy: p,
  requesterKey: '',
});
