import { describe, expect, it } from 'vitest';
import { asModelHash } from '../../protocol/ids.ts';
import { filePipelineSchema } from '../../protocol/jobFiles.ts';
import { answerKindOf, pipelineModels } from '../../protocol/pipeline.ts';
import { ocrParamsOf, ocrPipeline } from './ocrWorkload.ts';
import { OCR_PARAMS } from './params.ts';

const h = (c: string) => asModelHash(c.repeat(64));

describe('the built-in OCR workload as a pipeline spec', () => {
  const hashes = { det: h('a'), cls: h('b'), rec: h('c'), dictionary: h('d') };

  it('parses as a file pipeline that answers with OCR lines and names all four assets', () => {
    const p = filePipelineSchema.parse(ocrPipeline(hashes));
    expect(answerKindOf(p)).toBe('ocr');
    expect(pipelineModels(p)).toEqual([h('a'), h('b'), h('c'), h('d')]);
  });

  it("gives back exactly OCR_PARAMS' numbers, and a spec's own when it changes them", () => {
    const [, stage] = ocrPipeline(hashes).stages;
    if (stage?.op !== 'ocr') throw new Error('no ocr stage');
    expect(ocrParamsOf(stage)).toEqual(OCR_PARAMS);
    const tuned = ocrPipeline(hashes, { ...OCR_PARAMS, detUnclipRatio: 2, recMaxWidth: 960 }).stages[1];
    if (tuned?.op !== 'ocr') throw new Error('no ocr stage');
    expect(ocrParamsOf(tuned)).toMatchObject({ detUnclipRatio: 2, recMaxWidth: 960, detThresh: OCR_PARAMS.detThresh });
  });
});
