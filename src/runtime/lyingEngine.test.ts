import { describe, expect, it } from 'vitest';
import { compareOutputs } from '../core/verification/compare.ts';
import { asModelHash } from '../protocol/ids.ts';
import { DEFAULT_COMPARATOR } from '../protocol/policy.ts';
import type { WireTensor } from '../protocol/tensor.ts';
import type { InferenceEngine } from './engine.ts';
import { lyingEngine } from './lyingEngine.ts';

const HASH = asModelHash('a'.repeat(64));
const honestOutputs = (): WireTensor[] => [{ name: 'y', dtype: 'float32', dims: [2, 3], data: Float32Array.from([0.1, 2, -3, 4, 5, 6]).buffer }];

const honest: InferenceEngine = {
  init: () => Promise.reject(new Error('unused')),
  loadModel: () => Promise.resolve({ inputs: [], outputs: [] }),
  run: () => Promise.resolve({ outputs: honestOutputs(), inferMs: 1, backend: 'wasm' }),
  unloadModel: () => Promise.resolve(),
  dispose: () => Promise.resolve(),
};

describe('lying engine (test builds only)', () => {
  it('corrupts every float output so that it disagrees with the honest one under allclose and argmax', async () => {
    const lie = await lyingEngine(honest).run(HASH, []);
    expect(lie.backend).toBe('wasm');
    expect([...new Float32Array(lie.outputs[0]!.data)]).toEqual([...Float32Array.from([0.1, 2, -3, 4, 5, 6].map((v) => -v - 1))]);
    expect(compareOutputs(lie.outputs, honestOutputs(), DEFAULT_COMPARATOR).agree).toBe(false);
    expect(compareOutputs(lie.outputs, honestOutputs(), { kind: 'argmax' }).agree).toBe(false);
  });
});
