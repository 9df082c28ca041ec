import { describe, expect, it } from 'vitest';
import { asModelHash, type ModelHash } from './ids.ts';
import { answerSchema, chainProblem, pipelineModels, pipelineSchema, PIPELINE_LIMITS, type Stage } from './pipeline.ts';

const H = (c: string): ModelHash => asModelHash(c.repeat(64));
const decodeImage: Stage = { op: 'decode-image', maxPixels: 1_000_000 };
const ocr: Stage = {
  op: 'ocr',
  detect: { model: H('a'), limitSideLen: 960, threshold: 0.3, boxThreshold: 0.6, unclipRatio: 1.5, maxCandidates: 1000 },
  classify: { model: H('b'), threshold: 0.9 },
  recognize: { model: H('c'), dictionary: H('d'), height: 48, maxWidth: 3200 },
};
const imageTensor: Stage = { op: 'image-tensor', input: 'x', width: 28, height: 28, layout: 'CHW', channels: 'gray', normalisation: 'unit' };

describe('pipeline specs', () => {
  it('accepts the built-in shapes: OCR, VAD, an uploaded image model with or without top-k', () => {
    for (const stages of [
      [decodeImage, ocr],
      [
        { op: 'decode-wav', sampleRate: 16000, maxSeconds: 600 },
        { op: 'vad', model: H('e'), frameSamples: 512, positiveThreshold: 0.5, negativeThreshold: 0.35, redemptionMs: 1400, minSpeechMs: 400, padMs: 800 },
      ],
      [decodeImage, imageTensor, { op: 'run-model', model: H('f') }],
      [decodeImage, imageTensor, { op: 'run-model', model: H('f') }, { op: 'top-k', output: 'y', k: 5 }],
    ]) {
      const r = pipelineSchema.safeParse({ v: 1, stages });
      expect(r.success, JSON.stringify(r.error?.issues)).toBe(true);
    }
  });

  it('refuses stages that do not chain from a file to an answer, naming the stage', () => {
    expect(chainProblem([ocr])).toBe('stage 1 ("ocr") takes an image, but gets a file');
    expect(chainProblem([decodeImage])).toBe("the pipeline ends at an image, not at an answer or a model's outputs");
    expect(chainProblem([decodeImage, ocr, ocr])).toBe('stage 3 ("ocr") comes after the answer is made: nothing may follow it');
    expect(chainProblem([{ op: 'decode-wav', sampleRate: 16000, maxSeconds: 60 }, imageTensor])).toBe(
      'stage 2 ("image-tensor") takes an image, but gets an audio',
    );
    const r = pipelineSchema.safeParse({ v: 1, stages: [ocr] });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/takes an image/);
  });

  it('refuses unknown stages, other versions, out-of-range numbers and too many stages', () => {
    expect(pipelineSchema.safeParse({ v: 1, stages: [decodeImage, { op: 'eval', code: 'alert(1)' }] }).success).toBe(false);
    expect(pipelineSchema.safeParse({ v: 2, stages: [decodeImage, ocr] }).success).toBe(false);
    expect(pipelineSchema.safeParse({ v: 1, stages: [{ op: 'decode-image', maxPixels: PIPELINE_LIMITS.maxImagePixels + 1 }, ocr] }).success).toBe(false);
    expect(
      pipelineSchema.safeParse({ v: 1, stages: [decodeImage, { ...ocr, detect: { ...(ocr as { detect: object }).detect, unclipRatio: 99 } }] }).success,
    ).toBe(false);
    const many = [decodeImage, imageTensor, ...Array.from({ length: PIPELINE_LIMITS.maxStages }, () => ({ op: 'run-model', model: H('f') }))];
    expect(pipelineSchema.safeParse({ v: 1, stages: many }).success).toBe(false);
  });

  it('lists the models and dictionaries a pipeline needs, each once', () => {
    const p = pipelineSchema.parse({ v: 1, stages: [decodeImage, ocr] });
    expect(pipelineModels(p)).toEqual([H('a'), H('b'), H('c'), H('d')]);
  });
});

describe('answers', () => {
  it('are bounded: coordinates, text length, line count, segment order', () => {
    const box = [
      [0, 0],
      [1, 0],
      [1, 1],
      [0, 1],
    ];
    expect(answerSchema.safeParse({ kind: 'ocr', lines: [{ box, text: 'hi', confidence: 0.5 }] }).success).toBe(true);
    expect(answerSchema.safeParse({ kind: 'ocr', lines: [{ box, text: 'x'.repeat(PIPELINE_LIMITS.maxLineChars + 1), confidence: 0.5 }] }).success).toBe(false);
    expect(
      answerSchema.safeParse({
        kind: 'ocr',
        lines: [
          {
            box: [
              [0, 0],
              [1, 0],
              [1, 1],
            ],
            text: 'hi',
            confidence: 0.5,
          },
        ],
      }).success,
    ).toBe(false);
    expect(
      answerSchema.safeParse({
        kind: 'ocr',
        lines: [
          {
            box: [
              [Infinity, 0],
              [1, 0],
              [1, 1],
              [0, 1],
            ],
            text: 'hi',
            confidence: 0.5,
          },
        ],
      }).success,
    ).toBe(false);
    expect(answerSchema.safeParse({ kind: 'ocr', lines: [{ box, text: 'hi', confidence: 1.5 }] }).success).toBe(false);
    expect(answerSchema.safeParse({ kind: 'segments', segments: [{ start: 2, end: 1 }] }).success).toBe(false);
    expect(answerSchema.safeParse({ kind: 'segments', segments: [{ start: 1, end: 2 }] }).success).toBe(true);
  });
});
