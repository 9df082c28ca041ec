import { describe, expect, it } from 'vitest';
import { answerSchema, PIPELINE_LIMITS } from '../protocol/pipeline.ts';
import type { Quad } from '../workloads/ocr/params.ts';
import { ocrAnswer, PipelineAnswerError, topK } from './pipelineRunner.ts';

const box: Quad = [
  [0, 0],
  [10, 0],
  [10, 5],
  [0, 5],
];

describe('answers within the protocol bounds [W-23]', () => {
  it('[W-23] an OCR result out of bounds becomes an answer that parses: lines and text cut (never inside a character), confidence and corners clamped', () => {
    const long = `${'a'.repeat(PIPELINE_LIMITS.maxLineChars - 1)}😀tail`;
    const lines = Array.from({ length: PIPELINE_LIMITS.maxOcrLines + 5 }, (_, i) => ({ box, text: `line ${i}`, confidence: 0.9 }));
    lines[0] = {
      box: [
        [-2e6, 0],
        [3e6, 0],
        [10, 5],
        [0, 5],
      ],
      text: long,
      confidence: 1.0000001,
    };
    lines[1] = { box, text: 'x', confidence: -0.1 };
    const answer = ocrAnswer({ lines });
    expect(answerSchema.safeParse(answer).success).toBe(true);
    if (answer.kind !== 'ocr') throw new Error('not an ocr answer');
    expect(answer.lines).toHaveLength(PIPELINE_LIMITS.maxOcrLines);
    expect(answer.lines[0]?.text).toBe('a'.repeat(PIPELINE_LIMITS.maxLineChars - 1));
    expect(answer.lines[0]?.box[0]).toEqual([-PIPELINE_LIMITS.maxCoordinate, 0]);
    expect(answer.lines[0]?.box[1]).toEqual([PIPELINE_LIMITS.maxCoordinate, 0]);
    expect([answer.lines[0]?.confidence, answer.lines[1]?.confidence]).toEqual([1, 0]);
    expect(answer.lines[2]).toEqual({ box, text: 'line 2', confidence: 0.9 });
  });

  it('[W-23] top-k refuses outputs that are not one row per item, or scores that are not finite', () => {
    const stage = { op: 'top-k', output: 'y', k: 2 } as const;
    const t = (dims: number[], values: number[]) => [{ name: 'y', dtype: 'float32' as const, dims, data: new Float32Array(values).buffer }];
    expect(topK(t([2, 3], [1, 3, 2, 0, 0, 5]), stage, 2)).toEqual([
      {
        kind: 'labels',
        labels: [
          { index: 1, score: 3 },
          { index: 2, score: 2 },
        ],
      },
      {
        kind: 'labels',
        labels: [
          { index: 2, score: 5 },
          { index: 0, score: 0 },
        ],
      },
    ]);
    expect(() => topK(t([1, 6], [1, 2, 3, 4, 5, 6]), stage, 2)).toThrow(PipelineAnswerError);
    expect(() => topK(t([2, 3], [1, 2, 3, 4, 5, 6]), stage, 3)).toThrow(/reads "y" as \[3, classes\], but it is \[2, 3\]/);
    expect(() => topK(t([1, 2], [1, NaN]), stage, 1)).toThrow(/not a finite number/);
  });
});
