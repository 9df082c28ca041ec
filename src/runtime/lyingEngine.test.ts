import { describe, expect, it } from 'vitest';
import { compareOutputs } from '../core/verification/compare.ts';
import { asModelHash } from '../protocol/ids.ts';
import { DEFAULT_COMPARATOR } from '../protocol/policy.ts';
import { answerSchema, type Answer } from '../protocol/pipeline.ts';
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

describe('lying engine on pipelines (test builds only)', () => {
  const honestAnswers: Answer[] = [
    {
      kind: 'ocr',
      lines: [
        {
          box: [
            [1, 2],
            [30, 2],
            [30, 10],
            [1, 10],
          ],
          text: 'Total 12.80',
          confidence: 0.98,
        },
      ],
    },
    { kind: 'ocr', lines: [] },
    { kind: 'segments', segments: [{ start: 0.75, end: 1.9 }] },
    { kind: 'segments', segments: [] },
    { kind: 'labels', labels: [{ index: 3, score: 2 }] },
    { kind: 'labels', labels: [] },
  ];
  const withPipelines: InferenceEngine = {
    ...honest,
    runPipeline: () => Promise.resolve({ outputs: [], answers: honestAnswers, inferMs: 1, backend: 'wasm' }),
  };

  it('[W-23] answers every pipeline wrongly, with answers that still parse, an honest empty answer included', async () => {
    const lie = await lyingEngine(withPipelines).runPipeline!(HASH, { v: 1, stages: [{ op: 'decode-wav', sampleRate: 16000, maxSeconds: 10 }] } as never, []);
    expect(lie.answers).toHaveLength(honestAnswers.length);
    lie.answers!.forEach((a, i) => {
      expect(answerSchema.safeParse(a).success).toBe(true);
      expect(a).not.toEqual(honestAnswers[i]);
    });
    expect(lie.answers![0]).toMatchObject({ lines: [{ text: '08.21 latoT?' }, { text: 'forged' }] });
    expect(lie.answers![2]).toEqual({
      kind: 'segments',
      segments: [
        { start: 1.75, end: 2.9 },
        { start: 0, end: 0.5 },
      ],
    });
    expect(lie.answers![4]).toEqual({ kind: 'labels', labels: [{ index: 4, score: 2 }] });
  });

  it('has no runPipeline where the engine it wraps has none, so the volunteer gives such leases back', () => {
    expect(lyingEngine(honest).runPipeline).toBeUndefined();
  });
});
